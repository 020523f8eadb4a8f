package models

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// URLOptions says what a URL field accepts beyond an absolute http(s)
// URL.
type URLOptions struct {
	// HTTPSOnly refuses http:// (Slack, Discord, the page logo).
	HTTPSOnly bool
	// Userinfo accepts "user:password@" before the host. Go's HTTP
	// client sends it as Basic authentication; it is stored sealed and
	// masked wherever the URL is shown.
	Userinfo bool
	// What messages call the URL: "Slack webhook URLs" (“… start with
	// https://”, “… cannot carry a user name or password”).
	Subject string
}

// NormalizeURL checks raw as an absolute http(s) URL (RFC 3986) and
// returns it in the one form Herald stores and sends, so that what is
// stored is exactly what goes on the wire. It refuses what cannot be
// sent as written: spaces and control characters (a raw space in a
// query broke the request line), a #fragment (never sent), "%" not
// followed by two hex digits, an empty host, a bad host name, a port
// outside 1–65535, and userinfo unless opts allow it.
//
// It normalises: scheme and host to lower case; an international host
// name to its ASCII (punycode) form; non-ASCII characters and the ASCII
// characters RFC 3986 does not allow in a path or query (" < > \ ^ ` { | }
// [ ]) percent-encoded as UTF-8; an empty port dropped; an empty path
// written "/" (what an HTTP client sends for it). Existing
// percent-escapes are kept as they are. The error's message is a
// sentence for the form or the API.
func NormalizeURL(raw string, opts URLOptions) (string, error) {
	fail := func(format string, args ...any) (string, error) {
		return "", fmt.Errorf(format, args...)
	}
	subject := opts.Subject
	if subject == "" {
		subject = "This address"
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	scheme = strings.ToLower(scheme)
	if !ok || (scheme != "http" && scheme != "https") {
		return fail("Enter a full http:// or https:// URL.")
	}
	if opts.HTTPSOnly && scheme != "https" {
		if opts.Subject == "" {
			return fail("Use an https:// address.")
		}
		return fail("%s start with https://.", opts.Subject)
	}
	if !utf8.ValidString(raw) {
		return fail("This is not valid UTF-8 text.")
	}
	pos := 0
	for i, r := range raw {
		pos++
		switch {
		case r == ' ':
			return fail("Remove the space at character %d, or write it as %%20.", pos)
		case unicode.IsControl(r):
			return fail("Remove the control character U+%04X at character %d.", r, pos)
		case unicode.IsSpace(r):
			return fail("Remove the space character U+%04X at character %d.", r, pos)
		case r == '#':
			return fail("Remove the #fragment at character %d: it is never sent.", pos)
		case r == '%':
			if i+2 >= len(raw) || !isHex(raw[i+1]) || !isHex(raw[i+2]) {
				bad := []rune(raw[i:])
				bad = bad[:min(len(bad), 3)]
				return fail("“%s” at character %d is not a percent-escape: write a %% sign as %%25.", string(bad), pos)
			}
		}
	}
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	userinfo, hostport := "", authority
	at := strings.LastIndex(authority, "@")
	hasUser := at >= 0
	if hasUser {
		userinfo, hostport = authority[:at], authority[at+1:]
	}
	if hasUser && !opts.Userinfo {
		return fail("%s cannot carry a user name or password: remove the part before “@”.", subject)
	}
	host, port, err := splitHostPort(hostport)
	if err != nil {
		return fail("%s", err.Error())
	}
	if host == "" {
		return fail("Enter the host name after %s://, such as %s://example.com/hooks.", scheme, scheme)
	}
	if host, err = normalizeHost(host); err != nil {
		return fail("%s", err.Error())
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return fail("The port must be a number from 1 to 65535, not “%s”.", port)
		}
		port = strconv.Itoa(n)
	}
	var b strings.Builder
	b.WriteString(scheme + "://")
	if hasUser {
		b.WriteString(encodeURIPart(userinfo, "@/?"))
		b.WriteByte('@')
	}
	b.WriteString(host)
	if port != "" {
		b.WriteString(":" + port)
	}
	if tail == "" || tail[0] == '?' {
		b.WriteByte('/')
	}
	b.WriteString(encodeURIPart(tail, ""))
	u, err := url.Parse(b.String())
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fail("Enter a full http:// or https:// URL.")
	}
	return u.String(), nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// encodeURIPart percent-encodes, as UTF-8, the bytes of s that may not
// appear as they are in a URI (RFC 3986: non-ASCII, " < > \ ^ ` { | } [ ]),
// and the characters in extra. Existing escapes are kept.
func encodeURIPart(s, extra string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || c <= ' ' || c == 0x7f || strings.IndexByte(`"<>\^`+"`"+`{|}[]`, c) >= 0 || strings.IndexByte(extra, c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// splitHostPort splits an authority's host and port; a bracketed host is
// an IPv6 address.
func splitHostPort(hostport string) (host, port string, err error) {
	if strings.HasPrefix(hostport, "[") {
		end := strings.Index(hostport, "]")
		if end < 0 {
			return "", "", errors.New("Close the IPv6 address with “]”.")
		}
		host, rest := hostport[:end+1], hostport[end+1:]
		if rest != "" && rest[0] != ':' {
			return "", "", fmt.Errorf("“%s” after the IPv6 address is not a port.", rest)
		}
		return host, strings.TrimPrefix(rest, ":"), nil
	}
	host, port, _ = strings.Cut(hostport, ":")
	if strings.Contains(port, ":") {
		return "", "", errors.New("Write an IPv6 address in brackets, such as http://[2001:db8::1]/hooks.")
	}
	return host, port, nil
}

// normalizeHost lower-cases a host name, writes an international one in
// ASCII (punycode), and checks it is a DNS name or an IP address.
func normalizeHost(host string) (string, error) {
	if strings.HasPrefix(host, "[") {
		a, err := netip.ParseAddr(host[1 : len(host)-1])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", fmt.Errorf("“%s” is not an IPv6 address.", host)
		}
		return "[" + a.String() + "]", nil
	}
	ascii := strings.ToLower(host)
	for _, r := range host {
		if r >= utf8.RuneSelf {
			var err error
			if ascii, err = idna.Lookup.ToASCII(host); err != nil {
				return "", fmt.Errorf("“%s” is not a valid international host name.", host)
			}
			break
		}
	}
	if len(ascii) > 253 {
		return "", errors.New("The host name is longer than 253 characters.")
	}
	labels := strings.Split(strings.TrimSuffix(ascii, "."), ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return "", fmt.Errorf("“%s” is not a valid host name.", host)
		}
		for _, c := range []byte(l) {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return "", fmt.Errorf("“%s” is not a valid host name: “%c” cannot appear in one.", host, c)
			}
		}
	}
	return ascii, nil
}
