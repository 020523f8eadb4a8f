package notify

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/heraldstatus/herald/models"
)

// discordBody is what a test reads back from a Discord payload.
type discordBody struct {
	Content string `json:"content"`
	Embeds  []struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		URL         string `json:"url"`
		Color       int    `json:"color"`
		Timestamp   string `json:"timestamp"`
		Fields      []struct {
			Name   string `json:"name"`
			Value  string `json:"value"`
			Inline bool   `json:"inline"`
		} `json:"fields"`
		Footer *struct {
			Text string `json:"text"`
		} `json:"footer"`
		Author *struct {
			Name string `json:"name"`
		} `json:"author"`
	} `json:"embeds"`
	AllowedMentions *struct {
		Parse []string `json:"parse"`
	} `json:"allowed_mentions"`
}

func decodeDiscord(t *testing.T, n Notice) (discordBody, []byte) {
	t.Helper()
	raw, err := DiscordPayload(n)
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(raw) {
		t.Fatal("payload is not valid UTF-8")
	}
	var b discordBody
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatalf("payload is not JSON: %v\n%s", err, raw)
	}
	if len(b.Embeds) != 1 {
		t.Fatalf("%d embeds, want 1", len(b.Embeds))
	}
	if b.AllowedMentions == nil || b.AllowedMentions.Parse == nil || len(b.AllowedMentions.Parse) != 0 {
		t.Errorf("allowed_mentions must be {\"parse\": []}: %s", raw)
	}
	return b, raw
}

func TestDiscordPayloadForEveryEventType(t *testing.T) {
	for _, tc := range eventCases() {
		t.Run(tc.name, func(t *testing.T) {
			n, err := NoticeFor("Main Status", tc.typ, mustJSON(t, tc.data), testAt, false)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := decodeDiscord(t, n)
			e := b.Embeds[0]
			if e.Title != tc.headline {
				t.Errorf("title = %q, want %q", e.Title, tc.headline)
			}
			if e.Color != tc.colour {
				t.Errorf("color = %06x, want %06x", e.Color, tc.colour)
			}
			if e.Footer == nil || e.Footer.Text != "Main Status" {
				t.Errorf("footer = %+v, want the page name", e.Footer)
			}
			if at, err := time.Parse(time.RFC3339, e.Timestamp); err != nil || !at.Equal(testAt) {
				t.Errorf("timestamp = %q, want %s in ISO 8601", e.Timestamp, testAt)
			}
			if e.URL != n.URL {
				t.Errorf("url = %q, want %q", e.URL, n.URL)
			}
			if e.Description != n.Message {
				t.Errorf("description = %q, want the message as written %q", e.Description, n.Message)
			}
			if len(e.Fields) != len(tc.fields) {
				t.Fatalf("fields %+v, want names %q", e.Fields, tc.fields)
			}
			for i, name := range tc.fields {
				if e.Fields[i].Name != name || e.Fields[i].Value == "" {
					t.Errorf("field %d = %+v, want %q with a value", i, e.Fields[i], name)
				}
			}
			if e.Fields[0].Value != tc.status {
				t.Errorf("status field = %q, want %q", e.Fields[0].Value, tc.status)
			}
			if last := e.Fields[len(e.Fields)-1]; last.Name == "Components" && last.Value != strings.Join(tc.components, ", ") {
				t.Errorf("components field = %q, want %q", last.Value, tc.components)
			}
			if b.Content != "" {
				t.Errorf("content %q on a real event", b.Content)
			}
		})
	}
}

func TestDiscordPayloadStaysWithinLimits(t *testing.T) {
	for _, typ := range models.EventTypes {
		for _, test := range []bool{false, true} {
			t.Run(string(typ), func(t *testing.T) {
				b, _ := decodeDiscord(t, longNotice(typ, test))
				e := b.Embeds[0]
				total := 0
				check := func(what, s string, max int) {
					t.Helper()
					if !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
						t.Errorf("%s is not valid UTF-8", what)
					}
					n := UTF16Len(s)
					if n > max || n == 0 {
						t.Errorf("%s has %d UTF-16 units, limit %d", what, n, max)
					}
					total += n
				}
				check("title", e.Title, 256)
				check("description", e.Description, 4096)
				if len(e.Fields) > 25 {
					t.Errorf("%d fields, limit 25", len(e.Fields))
				}
				for _, f := range e.Fields {
					check("field name", f.Name, 256)
					check("field value", f.Value, 1024)
				}
				check("footer", e.Footer.Text, 2048)
				if e.Author != nil {
					check("author", e.Author.Name, 256)
				}
				if total > 6000 {
					t.Errorf("embed has %d UTF-16 units in all, limit 6000", total)
				}
				if total < 5000 {
					t.Errorf("embed has %d characters in all: the message should fill the room left", total)
				}
				if test {
					if n := UTF16Len(b.Content); n == 0 || n > 2000 {
						t.Errorf("content has %d UTF-16 units, limit 2000", n)
					}
				}
			})
		}
	}
}

func TestDiscordTotalLeavesRoomForFieldsFirst(t *testing.T) {
	n := longNotice(models.EventIncidentCreated, false)
	b, _ := decodeDiscord(t, n)
	e := b.Embeds[0]
	total := UTF16Len(e.Title) + UTF16Len(e.Description) + UTF16Len(e.Footer.Text)
	for _, f := range e.Fields {
		total += UTF16Len(f.Name) + UTF16Len(f.Value)
	}
	if total > 6000 {
		t.Fatalf("total %d", total)
	}
	if len(e.Fields) != 3 || !strings.HasSuffix(e.Description, "…") {
		t.Errorf("fields %d, description ends %q: the description should be cut, the fields kept",
			len(e.Fields), e.Description[max(0, len(e.Description)-10):])
	}
	if !strings.Contains(e.Fields[2].Value, " more") {
		t.Errorf("60 components not summarised: %q", e.Fields[2].Value)
	}
}

func TestDiscordTestSendSaysSo(t *testing.T) {
	n, err := NoticeFor("Main", models.EventMaintenanceStarted, mustJSON(t, maintenanceData("in_progress")), testAt, true)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := decodeDiscord(t, n)
	e := b.Embeds[0]
	if !strings.HasPrefix(e.Title, "[Test] ") || !strings.Contains(b.Content, "Test notification") ||
		!strings.Contains(e.Footer.Text, "Test notification") {
		t.Errorf("test not visible: title %q, content %q, footer %q", e.Title, b.Content, e.Footer.Text)
	}
}

func TestDiscordNeverPings(t *testing.T) {
	n := Notice{EventType: models.EventIncidentCreated, Headline: "Incident: @everyone", Status: "Investigating",
		Message: "@everyone @here <@123> look"}
	_, raw := decodeDiscord(t, n)
	if !strings.Contains(string(raw), `"allowed_mentions":{"parse":[]}`) {
		t.Errorf("mentions not switched off: %s", raw)
	}
}

func TestDiscordLeavesOutWhatIsEmptyOrUnsafe(t *testing.T) {
	n := Notice{EventType: models.EventComponentDeleted, Status: "Removed", URL: "ftp://x", Components: []string{" "}}
	b, raw := decodeDiscord(t, n)
	e := b.Embeds[0]
	if e.URL != "" || e.Footer != nil || e.Timestamp != "" || e.Description != "" || e.Title != "Status update" {
		t.Errorf("unexpected parts: %s", raw)
	}
	for _, f := range e.Fields {
		if strings.TrimSpace(f.Value) == "" {
			t.Errorf("empty field %q: %s", f.Name, raw)
		}
	}
}
