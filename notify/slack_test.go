package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/heraldstatus/herald/models"
)

// slackBody is what a test reads back from a Slack payload.
type slackBody struct {
	Text        string `json:"text"`
	Attachments []struct {
		Color    string `json:"color"`
		Fallback string `json:"fallback"`
		Blocks   []struct {
			Type string `json:"type"`
			Text *struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"text"`
			Fields []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"fields"`
			Elements []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"elements"`
		} `json:"blocks"`
	} `json:"attachments"`
}

func decodeSlack(t *testing.T, n Notice) (slackBody, []byte) {
	t.Helper()
	raw, err := SlackPayload(n)
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(raw) {
		t.Fatal("payload is not valid UTF-8")
	}
	var b slackBody
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatalf("payload is not JSON: %v\n%s", err, raw)
	}
	if len(b.Attachments) != 1 {
		t.Fatalf("%d attachments, want 1", len(b.Attachments))
	}
	return b, raw
}

// all joins every text of the payload, for "does it say X" checks.
func (b slackBody) all() string {
	parts := []string{b.Text}
	for _, bl := range b.Attachments[0].Blocks {
		if bl.Text != nil {
			parts = append(parts, bl.Text.Text)
		}
		for _, f := range bl.Fields {
			parts = append(parts, f.Text)
		}
		for _, e := range bl.Elements {
			parts = append(parts, e.Text)
		}
	}
	return strings.Join(parts, "\n")
}

func TestSlackPayloadForEveryEventType(t *testing.T) {
	for _, tc := range eventCases() {
		t.Run(tc.name, func(t *testing.T) {
			n, err := NoticeFor("Main Status", tc.typ, mustJSON(t, tc.data), testAt, false)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := decodeSlack(t, n)
			a := b.Attachments[0]
			if a.Blocks[0].Type != "header" || a.Blocks[0].Text.Type != "plain_text" || a.Blocks[0].Text.Text != tc.headline {
				t.Errorf("first block = %+v, want header %q", a.Blocks[0], tc.headline)
			}
			want := tc.headline + " — " + tc.status + " (Main Status)"
			if strings.HasSuffix(tc.headline, tc.status) {
				want = tc.headline + " (Main Status)" // not "API is now Major outage — Major outage"
			}
			if b.Text != want || a.Fallback != want {
				t.Errorf("text = %q, fallback %q, want %q", b.Text, a.Fallback, want)
			}
			if want := fmt.Sprintf("#%06x", tc.colour); a.Color != want {
				t.Errorf("color = %q, want %q", a.Color, want)
			}
			var fields []string
			for _, bl := range a.Blocks {
				if bl.Type == "section" && len(bl.Fields) > 0 {
					for _, f := range bl.Fields {
						fields = append(fields, f.Text)
					}
				}
			}
			if len(fields) != len(tc.fields) {
				t.Fatalf("fields %q, want names %q", fields, tc.fields)
			}
			for i, name := range tc.fields {
				if !strings.HasPrefix(fields[i], "*"+name+"*\n") {
					t.Errorf("field %d = %q, want %q", i, fields[i], name)
				}
			}
			if !strings.Contains(fields[0], tc.status) {
				t.Errorf("status field %q lacks %q", fields[0], tc.status)
			}
			all := b.all()
			if strings.Contains(all, "Test notification") {
				t.Error("a real event says it is a test")
			}
			if u := n.URL; u != "" && !strings.Contains(all, "<"+u+"|") {
				t.Errorf("no link to %s in %s", u, all)
			}
			if n.Message != "" && !strings.Contains(all, "We are investigating.") && !strings.Contains(all, "Upgrading PostgreSQL.") {
				t.Errorf("message missing or not made plain: %s", all)
			}
		})
	}
}

func TestSlackPayloadStaysWithinLimits(t *testing.T) {
	for _, typ := range models.EventTypes {
		for _, test := range []bool{false, true} {
			t.Run(string(typ), func(t *testing.T) {
				b, _ := decodeSlack(t, longNotice(typ, test))
				check := func(what, s string, max int) {
					t.Helper()
					if !utf8.ValidString(s) {
						t.Errorf("%s is not valid UTF-8", what)
					}
					if strings.ContainsRune(s, utf8.RuneError) {
						t.Errorf("%s contains a broken rune", what)
					}
					if n := UTF16Len(s); n > max || n == 0 {
						t.Errorf("%s has %d UTF-16 units, limit %d", what, n, max)
					}
				}
				check("text", b.Text, 4000)
				check("fallback", b.Attachments[0].Fallback, 4000)
				blocks := b.Attachments[0].Blocks
				if len(blocks) > 50 {
					t.Errorf("%d blocks, limit 50", len(blocks))
				}
				for _, bl := range blocks {
					switch bl.Type {
					case "header":
						check("header", bl.Text.Text, 150)
					case "section":
						if bl.Text != nil {
							check("section text", bl.Text.Text, 3000)
						}
						if len(bl.Fields) > 10 {
							t.Errorf("%d fields, limit 10", len(bl.Fields))
						}
						for _, f := range bl.Fields {
							check("field", f.Text, 2000)
						}
					case "context":
						if len(bl.Elements) > 10 {
							t.Errorf("%d context elements, limit 10", len(bl.Elements))
						}
						for _, e := range bl.Elements {
							check("context", e.Text, 3000)
						}
					default:
						t.Errorf("unexpected block type %q", bl.Type)
					}
				}
			})
		}
	}
}

func TestSlackTruncationKeepsEntitiesWhole(t *testing.T) {
	n := Notice{EventType: models.EventIncidentCreated, Headline: "Incident: x", Status: "Investigating",
		Message: strings.Repeat("&", 5000)}
	b, _ := decodeSlack(t, n)
	var msg string
	for _, bl := range b.Attachments[0].Blocks {
		if bl.Type == "section" && bl.Text != nil {
			msg = bl.Text.Text
		}
	}
	body, cut := strings.CutSuffix(msg, "…")
	if !cut || strings.ReplaceAll(body, "&amp;", "") != "" {
		t.Errorf("message cut inside an entity: ends %q", msg[max(0, len(msg)-20):])
	}
	if n := UTF16Len(msg); n > 3000 {
		t.Errorf("%d characters", n)
	}
}

func TestSlackEscapesMentionsAndLinks(t *testing.T) {
	n := Notice{EventType: models.EventIncidentCreated, PageName: "<!here> Page", Headline: "Incident: <!channel>",
		Status: "Investigating", Components: []string{"<@U123>"}, Message: "Hey <!everyone> & <https://evil.example|click>"}
	b, raw := decodeSlack(t, n)
	// The header is plain_text, where Slack parses nothing; the rest is
	// mrkdwn and must be escaped.
	b.Attachments[0].Blocks = b.Attachments[0].Blocks[1:]
	all := b.all()
	for _, bad := range []string{"<!channel>", "<!everyone>", "<!here>", "<@U123>", "<https://evil"} {
		if strings.Contains(all, bad) {
			t.Errorf("%q reaches Slack unescaped:\n%s", bad, raw)
		}
	}
	if !strings.Contains(all, "&lt;!everyone&gt; &amp;") {
		t.Errorf("message not escaped: %s", all)
	}
}

func TestSlackTestSendSaysSo(t *testing.T) {
	n, err := NoticeFor("Main", models.EventIncidentCreated, mustJSON(t, incidentData("investigating", "major")), testAt, true)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := decodeSlack(t, n)
	if !strings.HasPrefix(b.Text, "Test notification: ") {
		t.Errorf("text %q does not say it is a test", b.Text)
	}
	blocks := b.Attachments[0].Blocks
	if !strings.HasPrefix(blocks[0].Text.Text, "[Test] ") {
		t.Errorf("header %q does not say it is a test", blocks[0].Text.Text)
	}
	if blocks[1].Type != "context" || !strings.Contains(blocks[1].Elements[0].Text, "Test notification") {
		t.Errorf("second block %+v does not say it is a test", blocks[1])
	}
}

func TestSlackLeavesOutWhatIsEmptyOrUnsafe(t *testing.T) {
	n := Notice{EventType: models.EventComponentDeleted, Status: "Removed", URL: "javascript:alert(1)"}
	b, raw := decodeSlack(t, n)
	if b.Attachments[0].Blocks[0].Text.Text != "Status update" {
		t.Errorf("empty headline not replaced: %s", raw)
	}
	if strings.Contains(string(raw), "javascript") {
		t.Errorf("unsafe URL kept: %s", raw)
	}
	for _, bl := range b.Attachments[0].Blocks {
		if bl.Text != nil && strings.TrimSpace(bl.Text.Text) == "" {
			t.Errorf("empty %s block: %s", bl.Type, raw)
		}
	}
}
