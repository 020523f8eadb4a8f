package notify

import (
	"encoding/json"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is compiled into the tests of both notify and notify_test: it
// checks a payload the way Slack and Discord do, so the unit tests and
// the httptest stand-ins of the engine tests apply the same rules.

// UTF16Len is a string's length as Slack and Discord count it: UTF-16
// code units, JavaScript's string length. Measured with unicode/utf16,
// independently of the code under test.
func UTF16Len(s string) int { return len(utf16.Encode([]rune(s))) }

// SlackLimits are the limits a Slack stand-in enforces.
type SlackLimits struct {
	Text, Header, Section, Field, Fields, Context, Elements, Blocks int
}

// SlackDocumented are Slack's documented limits (Block Kit reference);
// Text is the 4,000 characters Slack advises for the top-level text.
var SlackDocumented = SlackLimits{Text: 4000, Header: 150, Section: 3000, Field: 2000, Fields: 10, Context: 3000, Elements: 10, Blocks: 50}

type slackWire struct {
	Text        *string `json:"text"`
	Attachments []struct {
		Fallback *string     `json:"fallback"`
		Blocks   []slackWBlk `json:"blocks"`
	} `json:"attachments"`
	Blocks []slackWBlk `json:"blocks"`
}

type slackWBlk struct {
	Type string `json:"type"`
	Text *struct {
		Text string `json:"text"`
	} `json:"text"`
	Fields []struct {
		Text string `json:"text"`
	} `json:"fields"`
	Elements []struct {
		Text string `json:"text"`
	} `json:"elements"`
}

// SlackViolations lists what Slack would refuse in body ("invalid_blocks"
// and the like); none means it would post the message.
func SlackViolations(body []byte, l SlackLimits) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if !utf8.Valid(body) {
		return []string{"body is not valid UTF-8"}
	}
	var m slackWire
	if err := json.Unmarshal(body, &m); err != nil {
		return []string{"invalid_payload: " + err.Error()}
	}
	text := func(what, s string, max int) {
		if n := UTF16Len(s); n > max || n == 0 {
			bad("%s has %d UTF-16 units (limit %d)", what, n, max)
		}
		if !utf8.ValidString(s) {
			bad("%s is not valid UTF-8", what)
		}
	}
	blocks := m.Blocks
	for i, a := range m.Attachments {
		if a.Fallback != nil {
			text(fmt.Sprintf("attachment %d fallback", i), *a.Fallback, l.Text)
		}
		blocks = append(blocks, a.Blocks...)
	}
	if m.Text == nil && len(blocks) == 0 {
		bad("no_text")
	}
	if m.Text != nil {
		text("text", *m.Text, l.Text)
	}
	if len(blocks) > l.Blocks {
		bad("%d blocks (limit %d)", len(blocks), l.Blocks)
	}
	for i, b := range blocks {
		switch b.Type {
		case "header":
			if b.Text == nil {
				bad("header %d without text", i)
				continue
			}
			text("header", b.Text.Text, l.Header)
		case "section":
			if b.Text == nil && len(b.Fields) == 0 {
				bad("section %d is empty", i)
			}
			if b.Text != nil {
				text("section text", b.Text.Text, l.Section)
			}
			if len(b.Fields) > l.Fields {
				bad("section %d has %d fields (limit %d)", i, len(b.Fields), l.Fields)
			}
			for _, f := range b.Fields {
				text("section field", f.Text, l.Field)
			}
		case "context":
			if len(b.Elements) == 0 || len(b.Elements) > l.Elements {
				bad("context %d has %d elements (limit %d)", i, len(b.Elements), l.Elements)
			}
			for _, e := range b.Elements {
				text("context element", e.Text, l.Context)
			}
		default:
			bad("block %d has unexpected type %q", i, b.Type)
		}
	}
	return out
}

// DiscordLimits are the limits a Discord stand-in enforces.
type DiscordLimits struct {
	Content, Embeds, Title, Description, Fields, FieldName, FieldValue, Footer, Author, Total int
}

// DiscordDocumented are Discord's documented limits (Embed Limits,
// Execute Webhook).
var DiscordDocumented = DiscordLimits{Content: 2000, Embeds: 10, Title: 256, Description: 4096, Fields: 25,
	FieldName: 256, FieldValue: 1024, Footer: 2048, Author: 256, Total: 6000}

type discordWire struct {
	Content *string `json:"content"`
	Embeds  []struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		Fields      []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"fields"`
		Footer *struct {
			Text string `json:"text"`
		} `json:"footer"`
		Author *struct {
			Name string `json:"name"`
		} `json:"author"`
	} `json:"embeds"`
}

// DiscordViolations lists what Discord would refuse in body (50035
// Invalid Form Body, 50006 Cannot send an empty message); none means it
// would post the message.
func DiscordViolations(body []byte, l DiscordLimits) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if !utf8.Valid(body) {
		return []string{"body is not valid UTF-8"}
	}
	var m discordWire
	if err := json.Unmarshal(body, &m); err != nil {
		return []string{"invalid JSON: " + err.Error()}
	}
	if (m.Content == nil || *m.Content == "") && len(m.Embeds) == 0 {
		bad("Cannot send an empty message")
	}
	if m.Content != nil {
		if n := UTF16Len(*m.Content); n > l.Content {
			bad("content has %d UTF-16 units (limit %d)", n, l.Content)
		}
	}
	if len(m.Embeds) > l.Embeds {
		bad("%d embeds (limit %d)", len(m.Embeds), l.Embeds)
	}
	total := 0
	field := func(what, s string, max int, required bool) {
		n := UTF16Len(s)
		total += n
		if n > max || (required && n == 0) {
			bad("%s has %d UTF-16 units (limit %d)", what, n, max)
		}
	}
	for _, e := range m.Embeds {
		field("title", e.Title, l.Title, false)
		field("description", e.Description, l.Description, false)
		if len(e.Fields) > l.Fields {
			bad("%d fields (limit %d)", len(e.Fields), l.Fields)
		}
		for _, f := range e.Fields {
			field("field name", f.Name, l.FieldName, true)
			field("field value", f.Value, l.FieldValue, true)
		}
		if e.Footer != nil {
			field("footer", e.Footer.Text, l.Footer, false)
		}
		if e.Author != nil {
			field("author", e.Author.Name, l.Author, false)
		}
	}
	if total > l.Total {
		bad("embeds have %d UTF-16 units in all (limit %d)", total, l.Total)
	}
	return out
}
