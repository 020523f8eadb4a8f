package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/heraldstatus/herald/markdown"
)

// Slack's limits (docs.slack.dev, Block Kit reference), in UTF-16 code
// units as Slack counts them (see limits.go).
const (
	slackHeaderMax     = 150  // header block, plain_text
	slackSectionMax    = 3000 // section block text
	slackFieldMax      = 2000 // each section field
	slackFieldsMax     = 10   // fields per section
	slackBlocksMax     = 50   // blocks per message
	slackContextMax    = 3000 // context element text
	slackTextMax       = 4000 // top-level text; Slack truncates beyond 40,000 but advises 4,000
	slackURLMax        = 3000
	slackPageNameMax   = 200
	slackComponentsMax = 1000 // of slackFieldMax: a wall of names helps no one
)

type slackText struct {
	Type  string `json:"type"` // plain_text or mrkdwn
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Fields   []slackText `json:"fields,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackAttachment struct {
	Color    string       `json:"color"`
	Fallback string       `json:"fallback"`
	Blocks   []slackBlock `json:"blocks"`
}

type slackMessage struct {
	Text        string            `json:"text"`
	Attachments []slackAttachment `json:"attachments"`
	UnfurlLinks bool              `json:"unfurl_links"`
	UnfurlMedia bool              `json:"unfurl_media"`
}

// SlackPayload is the JSON body for a Slack incoming webhook: Block Kit blocks
// (header/title, status, impact, components, message, link button or link) inside an
// attachment that carries the colour bar, plus a plain `text` fallback. Always within
// Slack's limits, counted in UTF-16 units as Slack counts them (header plain_text 150,
// section text 3000, fields ≤10 each ≤2000, ≤50 blocks, text fallback kept ≤ 4000) —
// truncate with "…", never fail.
//
// The blocks sit in an attachment because only attachments carry a colour
// bar. The top-level text is a one-line summary: Slack shows it above the
// attachment and in notifications. The link is a mrkdwn link, not a button:
// URL buttons from an incoming webhook show an error to whoever clicks them
// unless the Slack app handles interactions. All admin text is escaped, so
// "<!channel>" in a message never pings anyone.
func SlackPayload(n Notice) ([]byte, error) {
	headline := oneLine(n.Headline)
	if headline == "" {
		headline = "Status update"
	}
	page := truncate(oneLine(n.PageName), slackPageNameMax)

	summary := headline
	if s := truncate(oneLine(n.Status), 256); s != "" && !strings.HasSuffix(headline, s) { // "API is now Major outage"
		summary += " — " + s
	}
	if page != "" {
		summary += " (" + page + ")"
	}
	if n.Test {
		summary = "Test notification: " + summary
		headline = "[Test] " + headline
	}

	blocks := []slackBlock{{
		Type: "header",
		Text: &slackText{Type: "plain_text", Text: truncate(headline, slackHeaderMax), Emoji: true},
	}}
	if n.Test {
		blocks = append(blocks, slackBlock{Type: "context", Elements: []slackText{{Type: "mrkdwn",
			Text: "*Test notification* sent from Herald to check this channel. Nothing has happened."}}})
	}
	if fields := slackFields(n); len(fields) > 0 {
		blocks = append(blocks, slackBlock{Type: "section", Fields: fields})
	}
	if msg := strings.TrimSpace(markdown.New().Plain(clean(n.Message))); msg != "" {
		blocks = append(blocks, slackBlock{Type: "section",
			Text: &slackText{Type: "mrkdwn", Text: slackEscape(msg, slackSectionMax)}})
	}
	var footer []string
	if page != "" {
		footer = append(footer, slackEscape(page, slackPageNameMax))
	}
	if !n.Timestamp.IsZero() {
		footer = append(footer, fmt.Sprintf("<!date^%d^{date_short_pretty} at {time}|%s>",
			n.Timestamp.Unix(), n.Timestamp.UTC().Format("2006-01-02 15:04 UTC")))
	}
	if u := n.linkURL(); u != "" && len(u) <= slackURLMax {
		footer = append(footer, "<"+slackEscape(u, slackURLMax)+"|"+n.linkLabel()+">")
	}
	if len(footer) > 0 && utf16Len(strings.Join(footer, " · ")) > slackContextMax {
		footer = footer[:len(footer)-1] // only an unusually long link can overflow
	}
	if len(footer) > 0 {
		blocks = append(blocks, slackBlock{Type: "context", Elements: []slackText{{Type: "mrkdwn",
			Text: strings.Join(footer, " · ")}}})
	}
	if len(blocks) > slackBlocksMax { // cannot happen with the blocks above; kept as the rule
		blocks = blocks[:slackBlocksMax]
	}

	text := slackEscape(summary, slackTextMax)
	return encodeJSON(slackMessage{
		Text:        text,
		Attachments: []slackAttachment{{Color: fmt.Sprintf("#%06x", n.colour()), Fallback: text, Blocks: blocks}},
	})
}

// slackFields renders the notice's fields as "*Name*\nvalue" mrkdwn.
func slackFields(n Notice) []slackText {
	var out []slackText
	for _, f := range n.fields() {
		if len(out) == slackFieldsMax {
			break
		}
		label := "*" + slackEscape(oneLine(f.name), 100) + "*\n"
		room := slackFieldMax - utf16Len(label)
		var value string
		switch {
		case f.items != nil:
			value = joinLimited(f.items, min(room, slackComponentsMax), func(s string) string { return slackEscape(s, room) })
		case !f.windowStart.IsZero():
			// Slack shows <!date> in each reader's time zone; the UTC text is
			// the fallback for clients that cannot.
			value = fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s> – <!date^%d^{date_short_pretty} {time}|%s>",
				f.windowStart.Unix(), f.windowStart.UTC().Format("2006-01-02 15:04 UTC"),
				f.windowEnd.Unix(), f.windowEnd.UTC().Format("2006-01-02 15:04 UTC"))
		default:
			value = slackEscape(oneLine(f.value), room)
		}
		out = append(out, slackText{Type: "mrkdwn", Text: label + value})
	}
	return out
}

// slackEscape escapes the three characters Slack's mrkdwn gives meaning to
// (&, <, >: links and mentions such as <!channel>) and cuts the result to
// max UTF-16 units, never inside an entity or a character, ending in "…"
// when cut.
func slackEscape(s string, max int) string {
	if max <= 0 {
		return ""
	}
	full := slackEscaper.Replace(s)
	if utf16Len(full) <= max {
		return full
	}
	cut := fitPrefix(s, max-utf16Len(ellipsis), func(r rune) int {
		switch r {
		case '&':
			return len("&amp;")
		case '<', '>':
			return len("&lt;")
		}
		return runeUnits(r)
	})
	return strings.TrimRight(slackEscaper.Replace(s[:cut]), " \n\t") + ellipsis
}

var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// encodeJSON marshals v without HTML escaping, so the body in the delivery
// log reads as sent ("<" not "\u003c").
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("notify: encode payload: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
