package models

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"gorm.io/gorm"
)

// MaskURL is a URL as Herald shows and logs it: with its credentials
// replaced by MaskedValue. It is the one function for this; every place
// that shows or logs a channel URL (the url_hint column, the delivery
// log's request_url, audit snapshots, API answers, error messages) goes
// through it.
//
// Masked: user info; every query value (keys stay); for Slack, the path
// after /services; for Discord, after /api/webhooks; for any other URL,
// each path segment that looks like a credential (see looksSecret), such
// as the tokens incoming webhooks of Teams, Mattermost, Rocket.Chat or
// Discord carry in their paths. https://example.com/hooks/incoming stays
// readable. A masked URL masks to itself, so hints stored by older
// versions can be masked again when read.
func MaskURL(t ChannelType, raw string) string {
	// A hint's masked user info is not valid user info: read it as some.
	raw = strings.Replace(raw, "://"+MaskedValue+"@", "://masked@", 1)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return MaskedValue
	}
	out := u.Scheme + "://"
	if u.User != nil {
		out += MaskedValue + "@"
	}
	out += u.Host
	if t == ChannelSlack || t == ChannelDiscord {
		segs := strings.Split(strings.Trim(u.Path, "/"), "/")
		keep := min(len(segs), 2)
		if t == ChannelSlack {
			keep = min(len(segs), 1)
		}
		out += "/" + strings.Join(segs[:keep], "/")
		if len(segs) > keep {
			out += "/" + MaskedValue
		}
		return out
	}
	segs := strings.Split(u.EscapedPath(), "/")
	for i, seg := range segs {
		plain, err := url.PathUnescape(seg)
		switch {
		case err != nil:
			segs[i] = MaskedValue
		case plain == MaskedValue:
			segs[i] = MaskedValue
		case looksSecret(plain):
			segs[i] = MaskedValue
		}
	}
	out += strings.Join(segs, "/")
	if u.RawQuery != "" {
		q := u.Query()
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, url.QueryEscape(k)+"="+MaskedValue)
		}
		slices.Sort(keys)
		out += "?" + strings.Join(keys, "&")
	}
	return out
}

// uuidPattern is a UUID (Teams puts two, joined by @, in a segment).
var uuidPattern = regexp.MustCompile(`(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// looksSecret reports whether a path segment looks like a credential: a
// long random token rather than a word. It errs on the side of masking
// (a masked hint loses nothing; a shown token leaks it):
//
//   - it holds a UUID;
//   - it holds a run of 16 or more hex digits (Teams' 32-hex key, a
//     Discord webhook id);
//   - it holds a run of 16 or more letters and digits mixing both
//     (Mattermost's 26-character key, Rocket.Chat's id and token, Slack's
//     secret), or a run of 24 or more letters and digits of any kind;
//   - it is 16 or more characters of the base64url alphabet (with = . ~ +)
//     using lower case, upper case and digits alike, with a run of 10
//     letters and digits (not "Status-Page-2024").
//
// Readable segments stay: "hooks", "incoming", "IncomingWebhook",
// "webhookb2", "status-notifications", "2024-01-15-release".
func looksSecret(seg string) bool {
	if len(seg) < 16 {
		return false
	}
	if uuidPattern.MatchString(seg) {
		return true
	}
	hexRun, alnumRun, longestRun := 0, 0, 0
	var lower, upper, digit, other bool
	var runLetter, runDigit bool
	for _, c := range []byte(seg) {
		isLower, isUpper, isDigit := 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9'
		lower, upper, digit = lower || isLower, upper || isUpper, digit || isDigit
		if isDigit || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' {
			hexRun++
			if hexRun >= 16 {
				return true
			}
		} else {
			hexRun = 0
		}
		if isLower || isUpper || isDigit {
			alnumRun++
			longestRun = max(longestRun, alnumRun)
			runLetter, runDigit = runLetter || isLower || isUpper, runDigit || isDigit
			if alnumRun >= 24 || alnumRun >= 16 && runLetter && runDigit {
				return true
			}
			continue
		}
		alnumRun, runLetter, runDigit = 0, false, false
		if !strings.ContainsRune("-_=.~+", rune(c)) {
			other = true
		}
	}
	return !other && lower && upper && digit && longestRun >= 10
}

// RedactURL replaces, in text such as an error message or a response
// body, the URL raw and each of its credential parts (as MaskURL judges
// them) with MaskedValue, so that a message that quotes the URL or a
// piece of it does not leak it.
func RedactURL(t ChannelType, raw, text string) string {
	if raw == "" || text == "" {
		return text
	}
	text = strings.ReplaceAll(text, raw, MaskURL(t, raw))
	u, err := url.Parse(raw)
	if err != nil {
		return text
	}
	var secrets []string
	if u.User != nil {
		secrets = append(secrets, u.User.String(), u.User.Username())
		if p, ok := u.User.Password(); ok {
			secrets = append(secrets, p)
		}
	}
	for pair := range strings.SplitSeq(u.RawQuery, "&") {
		_, value, _ := strings.Cut(pair, "=")
		plain, _ := url.QueryUnescape(value)
		secrets = append(secrets, value, plain)
	}
	for i, seg := range strings.Split(strings.Trim(u.EscapedPath(), "/"), "/") {
		plain, _ := url.PathUnescape(seg)
		keep := -1
		switch t {
		case ChannelSlack:
			keep = 1
		case ChannelDiscord:
			keep = 2
		}
		if keep >= 0 && i >= keep || keep < 0 && looksSecret(plain) {
			secrets = append(secrets, seg, plain)
		}
	}
	// Longest first, so that a secret is not half-replaced by a shorter
	// one it contains.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, s := range secrets {
		if len(s) >= 4 { // shorter values would mangle unrelated text
			text = strings.ReplaceAll(text, s, MaskedValue)
		}
	}
	return text
}

// AfterFind masks the stored hint again with today's rules, so hints
// saved by older versions (which showed custom webhook paths in clear)
// never reach a screen, an answer or a log. Partial loads without the
// hint are left alone.
func (c *Channel) AfterFind(*gorm.DB) error {
	if c.URLHint != "" {
		c.URLHint = MaskURL(c.Type, c.URLHint)
	}
	return nil
}

// AfterFind masks the logged request URL again with today's rules, for
// attempts logged by older versions.
func (a *DeliveryAttempt) AfterFind(*gorm.DB) error {
	if a.RequestURL != "" {
		a.RequestURL = MaskURL("", a.RequestURL)
	}
	return nil
}

// AfterFind masks the URL in channel snapshots again with today's rules,
// for entries written by older versions. The row is not changed (the log
// is append-only); only what is read.
func (e *AuditEntry) AfterFind(*gorm.DB) error {
	if e.ObjectType == AuditChannel {
		e.Before, e.After = remaskSnapshot(e.Before), remaskSnapshot(e.After)
	}
	return nil
}

func remaskSnapshot(snapshot string) string {
	if !strings.Contains(snapshot, `"url":`) {
		return snapshot
	}
	var s struct {
		Type ChannelType `json:"type"`
		URL  *string     `json:"url"`
	}
	if json.Unmarshal([]byte(snapshot), &s) != nil || s.URL == nil {
		return snapshot
	}
	masked := MaskURL(s.Type, *s.URL)
	if masked == *s.URL {
		return snapshot
	}
	oldJSON, err1 := json.Marshal(*s.URL)
	newJSON, err2 := json.Marshal(masked)
	if err1 != nil || err2 != nil {
		return snapshot
	}
	return strings.Replace(snapshot, `"url":`+string(oldJSON), `"url":`+string(newJSON), 1)
}
