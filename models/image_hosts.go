package models

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Limits of a page's allowed image hosts.
const (
	MaxImageHosts      = 20
	maxImageHostLength = 253 // a DNS name, once in ASCII
)

// ImageHostList is the page's allowed image hosts: lower-case ASCII host
// names, "*.example.net" standing for every subdomain of example.net.
// Images in Markdown messages are shown only from Herald itself and from
// these hosts; the page's Content-Security-Policy allows the same.
func (p Page) ImageHostList() []string { return strings.Fields(p.ImageHosts) }

// ParseImageHosts splits the settings form's text into entries: one host
// a line, or separated by commas or spaces.
func ParseImageHosts(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
}

// normalizeImageHosts checks every entry of hosts and returns them in the
// one form stored (lower case, punycode, no duplicates, in the order
// given), or a sentence naming the first entry that is not a host name.
func normalizeImageHosts(hosts []string) ([]string, string) {
	if len(hosts) > 4*MaxImageHosts { // not worth checking one by one
		return nil, fmt.Sprintf("List at most %d hosts (this has %d).", MaxImageHosts, len(hosts))
	}
	var out []string
	for _, raw := range hosts {
		h, msg := normalizeImageHost(strings.TrimSpace(raw))
		if msg != "" {
			return nil, msg
		}
		if h != "" && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	if len(out) > MaxImageHosts {
		return nil, fmt.Sprintf("List at most %d hosts (this has %d).", MaxImageHosts, len(out))
	}
	return out, ""
}

// normalizeImageHost checks one entry: a host name such as
// images.example.com, or *.example.net for its subdomains. Only what a
// Content-Security-Policy host source can say is accepted: letters,
// digits and hyphens, no scheme, port, path or IP address.
func normalizeImageHost(raw string) (string, string) {
	if raw == "" {
		return "", ""
	}
	shown := raw
	if utf8.RuneCountInString(shown) > 60 {
		shown = string([]rune(shown)[:60]) + "…"
	}
	bad := func(format string, args ...any) (string, string) {
		return "", fmt.Sprintf("“%s”: ", shown) + fmt.Sprintf(format, args...)
	}
	if len(raw) > 2*maxImageHostLength {
		return bad("a host name has at most %d characters.", maxImageHostLength)
	}
	lower := strings.ToLower(raw)
	switch {
	case strings.Contains(lower, "://") || strings.HasPrefix(lower, "https:") || strings.HasPrefix(lower, "http:"):
		return bad("enter the host name alone, without “https://”, such as images.example.com.")
	case strings.ContainsAny(raw, "/?#"):
		return bad("enter the host name alone, without a path, such as images.example.com.")
	case strings.Contains(raw, "@"):
		return bad("enter the host name alone, without a user name.")
	case strings.HasPrefix(raw, "[") || strings.Count(raw, ":") > 1:
		return bad("enter a host name, not an IP address.")
	case strings.Contains(raw, ":"):
		return bad("enter the host name without a port: images load from the standard HTTPS port.")
	}
	name, wildcard := strings.CutPrefix(lower, "*.")
	if strings.Contains(name, "*") {
		return bad("a “*” may only stand for the subdomains, at the start: *.example.com.")
	}
	name = strings.TrimSuffix(name, ".")
	if _, err := netip.ParseAddr(name); err == nil {
		return bad("enter a host name, not an IP address.")
	}
	ascii := name
	for _, r := range name {
		if r >= utf8.RuneSelf {
			var err error
			if ascii, err = idna.Lookup.ToASCII(name); err != nil {
				return bad("this is not a valid international host name.")
			}
			break
		}
	}
	if ascii == "" {
		return bad("enter a host name, such as images.example.com.")
	}
	if len(ascii) > maxImageHostLength {
		return bad("a host name has at most %d characters.", maxImageHostLength)
	}
	labels := strings.Split(ascii, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return bad("this is not a host name.")
		}
		for _, c := range []byte(l) {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return bad("“%c” cannot appear in a host name.", c)
			}
		}
	}
	if last := labels[len(labels)-1]; strings.Trim(last, "0123456789") == "" {
		return bad("enter a host name, not an IP address.")
	}
	if wildcard {
		if len(labels) < 2 {
			return bad("“*.%s” would allow a whole top-level domain; name your own domain, such as *.example.com.", ascii)
		}
		return "*." + ascii, ""
	}
	return ascii, ""
}
