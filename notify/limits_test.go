package notify

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/heraldstatus/herald/models"
)

// clusters are what a reader sees as one character each, in every shape
// that trips a counter of code points: astral emoji and CJK (two UTF-16
// units), combining marks, skin tones, zero-width-joined families, flags
// (two regional indicators), keycaps, tag sequences, Hangul jamo.
var clusters = []string{
	"a", " ", "é", "e\u0301", "a\u0301\u0323", "漢", "𠀋", "😀", "👍🏽", "👨\u200d👩\u200d👧",
	"🇫🇷", "1\ufe0f\u20e3", "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", "한",
	"\u1100\u1161\u11a8", "𝒜", "&", "<", "❤\ufe0f",
}

// clustered is a random string of n clusters and the byte offsets where
// one cluster ends and the next begins.
func clustered(r *rand.Rand, n int) (string, []int) {
	var b strings.Builder
	bounds := []int{0}
	for range n {
		b.WriteString(clusters[r.IntN(len(clusters))])
		bounds = append(bounds, b.Len())
	}
	return b.String(), bounds
}

func TestUTF16LenMatchesUnicodeUTF16(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		s, _ := clustered(r, r.IntN(50))
		if got, want := utf16Len(s), UTF16Len(s); got != want {
			t.Fatalf("utf16Len(%q) = %d, unicode/utf16 says %d", s, got, want)
		}
	}
	if n := utf16Len("a😀漢𠀋"); n != 6 {
		t.Errorf("utf16Len = %d, want 1+2+1+2", n)
	}
}

func TestTruncateCountsUTF16Units(t *testing.T) {
	family := "👨\u200d👩\u200d👧" // 8 units
	cases := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"short stays", "abc", 3, "abc"},
		{"long is cut with an ellipsis", "abcdef", 4, "abc…"},
		{"emoji count two", "😀😀😀😀", 5, "😀😀…"},
		{"emoji exactly at the limit stays", "😀😀😀😀", 8, "😀😀😀😀"},
		{"one unit short drops a whole emoji", "😀😀😀😀", 7, "😀😀😀…"},
		{"never half a surrogate pair", "a😀😀", 3, "a…"},
		{"cjk counts one", "漢字漢字漢字", 5, "漢字漢字…"},
		{"astral cjk counts two", "𠀋𠀋𠀋", 4, "𠀋…"},
		{"combining mark stays with its letter", "ae\u0301e\u0301", 3, "a…"},
		{"skin tone stays with its emoji", "a👍🏽b", 4, "a…"},
		{"family is not split at a joiner", "a" + family + "b", 9, "a…"},
		{"flags stay in pairs", "🇫🇷🇩🇪", 6, "🇫🇷…"},
		{"trailing space before the ellipsis dropped", "ab  cdef", 5, "ab…"},
		{"zero room", "abc", 0, ""},
		{"room for the ellipsis only", "😀😀", 1, "…"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := truncate(tc.in, tc.max)
			if got != tc.want || !utf8.ValidString(got) || UTF16Len(got) > max(tc.max, 0) {
				t.Errorf("truncate(%q, %d) = %q (%d units), want %q", tc.in, tc.max, got, UTF16Len(got), tc.want)
			}
		})
	}
}

// TestTruncateProperties checks truncate on random text at and around
// every length: within the limit in UTF-16 units, valid UTF-8, the
// longest prefix that fits and ends between clusters, then "…".
func TestTruncateProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		s, bounds := clustered(r, 1+r.IntN(40))
		total := UTF16Len(s)
		for limit := 0; limit <= total+2; limit++ {
			got := truncate(s, limit)
			if !utf8.ValidString(got) || UTF16Len(got) > limit {
				t.Fatalf("truncate(%q, %d) = %q: %d units", s, limit, got, UTF16Len(got))
			}
			want := s
			if total > limit {
				want = ""
				if limit > 0 {
					end := 0
					for _, b := range bounds {
						if UTF16Len(s[:b]) <= limit-1 {
							end = b
						}
					}
					want = strings.TrimRightFunc(s[:end], unicode.IsSpace) + "…"
				}
			}
			if got != want {
				t.Fatalf("truncate(%q, %d) = %q, want %q", s, limit, got, want)
			}
		}
	}
}

func TestTruncateOfEndlessMarksStillCutsBetweenCharacters(t *testing.T) {
	zalgo := "a" + strings.Repeat("\u0301", 500)
	got := truncate(zalgo, 100)
	if UTF16Len(got) > 100 || !utf8.ValidString(got) || !strings.HasPrefix(got, "a\u0301") {
		t.Errorf("got %d units %q…", UTF16Len(got), got[:min(len(got), 20)])
	}
}

func TestSlackEscapeProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		s, bounds := clustered(r, 1+r.IntN(40))
		for limit := 0; limit <= UTF16Len(slackEscaper.Replace(s))+2; limit++ {
			got := slackEscape(s, limit)
			if !utf8.ValidString(got) || UTF16Len(got) > limit {
				t.Fatalf("slackEscape(%q, %d) = %q: %d units", s, limit, got, UTF16Len(got))
			}
			body := strings.TrimSuffix(got, "…")
			plain := strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">").Replace(body)
			if strings.ContainsAny(strings.NewReplacer("&amp;", "", "&lt;", "", "&gt;", "").Replace(body), "&<>") {
				t.Fatalf("slackEscape(%q, %d) = %q: an entity was cut", s, limit, got)
			}
			if got != "" && !slices.Contains(bounds, len(plain)) {
				t.Fatalf("slackEscape(%q, %d) = %q: cut inside a cluster", s, limit, got)
			}
		}
	}
}

// sized is text of about units UTF-16 units made of cluster c, at least
// units long.
func sized(c string, units int) string {
	return strings.Repeat(c, units/UTF16Len(c)+1)
}

// TestPayloadsStayWithinLimitsAsPlatformsCount builds notices whose every
// text sits at and around each documented limit of Slack and Discord, in
// each kind of character, and checks every limited field of both
// payloads, and of the fallback, in UTF-16 units.
func TestPayloadsStayWithinLimitsAsPlatformsCount(t *testing.T) {
	shapes := []string{"a", "漢", "😀", "e\u0301", "👨\u200d👩\u200d👧", "𠀋", "🇫🇷", "&", "a😀"}
	limits := []int{100, 150, 200, 256, 1000, 1024, 2000, 2048, 3000, 4000, 4096, 6000}
	types := []models.EventType{models.EventIncidentCreated, models.EventMaintenanceScheduled, models.EventComponentStatusChanged}
	checked := 0
	for _, c := range shapes {
		for _, limit := range limits {
			for delta := -2; delta <= 2; delta++ {
				text := sized(c, limit+delta)
				text = truncateRunes(text, limit+delta) // exactly limit+delta units, or one short
				for _, typ := range types {
					n := Notice{EventType: typ, PageName: text, Headline: text, Status: text, Severity: "major",
						Components: []string{text, text}, Message: text, URL: "https://status.example.com/incidents/1",
						Timestamp: testAt, windowStart: testAt, windowEnd: testAt.Add(1e9), previousStatus: text, uptime: "99.00%"}
					for _, test := range []bool{false, true} {
						n.Test = test
						checkPayloads(t, fmt.Sprintf("%q×%d %s test=%v", c, limit+delta, typ, test), n)
						checked++
					}
				}
			}
		}
	}
	t.Logf("%d notices checked", checked)
}

// truncateRunes cuts s to at most units UTF-16 units between code points,
// without an ellipsis: the input of a test, not code under test.
func truncateRunes(s string, units int) string {
	n := 0
	for i, r := range s {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if n+w > units {
			return s[:i]
		}
		n += w
	}
	return s
}

func checkPayloads(t *testing.T, name string, n Notice) {
	t.Helper()
	slack, err := SlackPayload(n)
	if err != nil {
		t.Fatal(err)
	}
	if v := SlackViolations(slack, SlackDocumented); len(v) > 0 {
		t.Fatalf("%s: Slack would refuse: %v", name, v)
	}
	discord, err := DiscordPayload(n)
	if err != nil {
		t.Fatal(err)
	}
	if v := DiscordViolations(discord, DiscordDocumented); len(v) > 0 {
		t.Fatalf("%s: Discord would refuse: %v", name, v)
	}
	for _, kind := range []models.ChannelType{models.ChannelSlack, models.ChannelDiscord} {
		fb, err := FallbackPayload(kind, n)
		if err != nil {
			t.Fatal(err)
		}
		var v []string
		var text string
		if kind == models.ChannelSlack {
			v = SlackViolations(fb, SlackDocumented)
			var m struct{ Text string }
			_ = json.Unmarshal(fb, &m)
			text = m.Text
		} else {
			v = DiscordViolations(fb, DiscordDocumented)
			var m struct{ Content string }
			_ = json.Unmarshal(fb, &m)
			text = m.Content
		}
		if len(v) > 0 || UTF16Len(text) > 1500 || strings.Contains(string(fb), `"blocks"`) || strings.Contains(string(fb), `"embeds"`) {
			t.Fatalf("%s: %s fallback is not plain text well inside the limits (%d units): %v\n%s", name, kind, UTF16Len(text), v, fb)
		}
	}
}
