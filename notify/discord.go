package notify

import (
	"fmt"
	"strings"
	"time"
)

// Discord's limits (discord.com/developers/docs, Embed Limits), in UTF-16
// code units as Discord counts them (see limits.go).
const (
	discordTitleMax       = 256
	discordDescriptionMax = 4096
	discordFieldsMax      = 25
	discordFieldNameMax   = 256
	discordFieldValueMax  = 1024
	discordFooterMax      = 2048
	discordEmbedTotalMax  = 6000 // title, description, field names and values, footer, author
	discordContentMax     = 2000
	discordPageNameMax    = 200 // of discordFooterMax: leaves the message its room
	discordShortValueMax  = 256 // status, impact…: labels, never long
)

type discordField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline"`
}

type discordFooter struct {
	Text string `json:"text"`
}

type discordEmbed struct {
	Title       string         `json:"title"`
	Description string         `json:"description,omitempty"`
	URL         string         `json:"url,omitempty"`
	Color       int            `json:"color"`
	Fields      []discordField `json:"fields,omitempty"`
	Timestamp   string         `json:"timestamp,omitempty"`
	Footer      *discordFooter `json:"footer,omitempty"`
}

type discordAllowedMentions struct {
	Parse []string `json:"parse"`
}

type discordMessage struct {
	Content         string                 `json:"content,omitempty"`
	Embeds          []discordEmbed         `json:"embeds"`
	AllowedMentions discordAllowedMentions `json:"allowed_mentions"`
}

// DiscordPayload is the JSON body for a Discord execute-webhook: one embed with title (≤256),
// description (≤4096), colour by severity, fields for status/impact/components (≤25 fields,
// name ≤256, value ≤1024), url, ISO-8601 timestamp, footer with the page name (≤2048);
// total UTF-16 units across title+description+field names/values+footer+author ≤ 6000;
// `content` if used ≤2000. Truncate with "…", never fail. Set "allowed_mentions": {"parse": []}
// so text like @everyone in a message never pings anyone.
//
// The description is the admin's Markdown as written: Discord renders
// Markdown in embeds. It gets whatever the 6000-unit total leaves
// after the title, fields and footer.
func DiscordPayload(n Notice) ([]byte, error) {
	title := oneLine(n.Headline)
	if title == "" {
		title = "Status update"
	}
	if n.Test {
		title = "[Test] " + title
	}
	e := discordEmbed{
		Title: truncate(title, discordTitleMax),
		URL:   n.linkURL(),
		Color: n.colour(),
	}
	if !n.Timestamp.IsZero() {
		e.Timestamp = n.Timestamp.UTC().Format(time.RFC3339)
	}
	footer := truncate(oneLine(n.PageName), discordPageNameMax)
	if n.Test {
		footer = strings.TrimPrefix(footer+" · Test notification", " · ")
	}
	if footer != "" {
		e.Footer = &discordFooter{Text: truncate(footer, discordFooterMax)}
	}
	e.Fields = discordFields(n)

	used := utf16Len(e.Title)
	if e.Footer != nil {
		used += utf16Len(e.Footer.Text)
	}
	for _, f := range e.Fields {
		used += utf16Len(f.Name) + utf16Len(f.Value)
	}
	// Defensive: with at most a handful of fields of bounded length this
	// cannot overflow, but the total is Discord's hardest rule.
	for used > discordEmbedTotalMax && len(e.Fields) > 0 {
		last := e.Fields[len(e.Fields)-1]
		used -= utf16Len(last.Name) + utf16Len(last.Value)
		e.Fields = e.Fields[:len(e.Fields)-1]
	}
	room := min(discordDescriptionMax, discordEmbedTotalMax-used)
	e.Description = truncate(strings.TrimSpace(clean(n.Message)), room)

	msg := discordMessage{
		Embeds:          []discordEmbed{e},
		AllowedMentions: discordAllowedMentions{Parse: []string{}},
	}
	if n.Test {
		msg.Content = truncate("Test notification from Herald: nothing has happened, this message checks the channel.", discordContentMax)
	}
	return encodeJSON(msg)
}

// discordFields renders the notice's fields. Short labels sit side by
// side; the component list takes a full row.
func discordFields(n Notice) []discordField {
	var out []discordField
	for _, f := range n.fields() {
		if len(out) == discordFieldsMax {
			break
		}
		field := discordField{Name: truncate(oneLine(f.name), discordFieldNameMax), Inline: true}
		switch {
		case f.items != nil:
			field.Value = joinLimited(f.items, discordFieldValueMax, func(s string) string { return s })
			field.Inline = false
		case !f.windowStart.IsZero():
			// <t:…> shows each reader's local time; Discord renders it in
			// embed fields.
			field.Value = fmt.Sprintf("<t:%d:f> – <t:%d:f>", f.windowStart.Unix(), f.windowEnd.Unix())
			field.Inline = false
		default:
			field.Value = truncate(oneLine(f.value), discordShortValueMax)
		}
		out = append(out, field)
	}
	return out
}
