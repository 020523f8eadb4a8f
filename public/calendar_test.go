package public_test

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ics "github.com/arran4/golang-ical"

	"github.com/heraldstatus/herald/markdown"
	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/public"
)

// calendarTestData is a page with a visible and a hidden component and
// two windows: a scheduled one whose title and message hold everything
// TEXT must escape, and a cancelled one.
func calendarTestData(title, message string) *public.Data {
	api := models.Component{ID: 1, Name: "API, public", Visible: true}
	hidden := models.Component{ID: 2, Name: "SecretBackend", Visible: false}
	start := feedTestNow.Add(24 * time.Hour)
	return &public.Data{
		Page: models.Page{ID: 1, Name: "Acme; Inc."}, BaseURL: feedTestBase, Now: feedTestNow,
		Components: []models.Component{api},
		Calendar: []models.Maintenance{
			{ID: 7, Title: title, Message: message, Status: models.MaintenanceScheduled, Sequence: 3,
				WindowStart: start, WindowEnd: start.Add(2 * time.Hour), CreatedAt: feedTestAt(60), UpdatedAt: feedTestAt(5),
				Components: []models.Component{api, hidden}},
			{ID: 8, Title: "Old plan", Status: models.MaintenanceCancelled, Sequence: 1,
				WindowStart: start, WindowEnd: start.Add(time.Hour), CreatedAt: feedTestAt(90), UpdatedAt: feedTestAt(30)},
		},
	}
}

// checkContentLines checks RFC 5545 §3.1 on raw output: CRLF after every
// line, no line over 75 octets, each line valid UTF-8 on its own (a fold
// never splits a character).
func checkContentLines(t *testing.T, body []byte) {
	t.Helper()
	if !bytes.HasSuffix(body, []byte("\r\n")) {
		t.Fatal("the calendar does not end with CRLF")
	}
	for i, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\r\n")), []byte("\r\n")) {
		if bytes.ContainsAny(line, "\r\n") {
			t.Fatalf("line %d holds a bare CR or LF: %q", i+1, line)
		}
		if len(line) > 75 {
			t.Errorf("line %d is %d octets: %q", i+1, len(line), line)
		}
		if !utf8.Valid(line) {
			t.Errorf("line %d splits a UTF-8 character: %q", i+1, line)
		}
	}
}

func TestMaintenanceCalendarEscapesFoldsAndParses(t *testing.T) {
	title := strings.Repeat("Datenbank-Wartung für Ünïcödé 🔧, Teil; ", 5) +
		"\\ end\r\nATTENDEE:mailto:evil@example.com"
	message := "We upgrade **the database**, then the cache; expect [short](https://example.com/x) pauses.\n\n" +
		"Second paragraph.\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:forged@example.com"
	body := public.MaintenanceCalendar(calendarTestData(title, message), markdown.New())
	checkContentLines(t, body)
	if bytes.Contains(body, []byte("SecretBackend")) {
		t.Error("a hidden component's name is in the calendar")
	}

	cal, err := ics.ParseCalendar(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, body)
	}
	calProp := func(p ics.Property) string {
		for _, cp := range cal.CalendarProperties {
			if cp.IANAToken == string(p) {
				return cp.Value
			}
		}
		return ""
	}
	for p, want := range map[ics.Property]string{ics.PropertyVersion: "2.0", ics.PropertyMethod: "PUBLISH",
		ics.PropertyCalscale: "GREGORIAN", ics.PropertyProductId: "-//Herald//Herald status page//EN"} {
		if got := calProp(p); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	if got := calProp(ics.PropertyXWRCalName); !strings.Contains(got, "Acme; Inc.") {
		t.Errorf("X-WR-CALNAME = %q, want the page name", got)
	}
	events := cal.Events()
	if len(events) != 2 {
		t.Fatalf("%d events, want 2 (a forged one may not appear)\n%s", len(events), body)
	}
	ev := events[0]
	get := func(e *ics.VEvent, p ics.ComponentProperty) string {
		if prop := e.GetProperty(p); prop != nil {
			return prop.Value
		}
		return ""
	}
	if get(ev, ics.ComponentPropertyUniqueId) != "maintenance-7@status.example.com" {
		t.Errorf("UID %q", get(ev, ics.ComponentPropertyUniqueId))
	}
	if got := get(ev, ics.ComponentPropertySummary); got != strings.ReplaceAll(title, "\r\n", "\n") {
		t.Errorf("SUMMARY round trip:\n got %q\nwant %q", got, title)
	}
	if ev.GetProperty(ics.ComponentPropertyAttendee) != nil {
		t.Error("a title injected an ATTENDEE property")
	}
	desc := get(ev, ics.ComponentPropertyDescription)
	for _, want := range []string{"We upgrade the database, then the cache; expect short", "pauses.\n\nSecond paragraph. END:VEVENT BEGIN:VEVENT UID:forged@example.com",
		"Affected components: API, public", "Details: https://status.example.com/maintenance/7"} {
		if !strings.Contains(desc, want) {
			t.Errorf("DESCRIPTION lacks %q:\n%s", want, desc)
		}
	}
	if strings.Contains(desc, "**") {
		t.Errorf("DESCRIPTION keeps Markdown: %q", desc)
	}
	start, err := ev.GetStartAt()
	if err != nil || !start.Equal(feedTestNow.Add(24*time.Hour)) {
		t.Errorf("DTSTART %v (%v)", start, err)
	}
	end, err := ev.GetEndAt()
	if err != nil || !end.Equal(feedTestNow.Add(26*time.Hour)) {
		t.Errorf("DTEND %v (%v)", end, err)
	}
	stamp, err := ev.GetDtStampTime()
	if err != nil || !stamp.Equal(feedTestAt(5)) {
		t.Errorf("DTSTAMP %v (%v), want the last change", stamp, err)
	}
	for p, want := range map[ics.ComponentProperty]string{ics.ComponentPropertySequence: "3", ics.ComponentPropertyStatus: "CONFIRMED",
		ics.ComponentPropertyUrl: "https://status.example.com/maintenance/7", ics.ComponentPropertyLastModified: "20260114T115500Z",
		ics.ComponentPropertyDtStart: "20260115T120000Z"} {
		if got := get(ev, p); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	if got := get(events[1], ics.ComponentPropertyStatus); got != "CANCELLED" {
		t.Errorf("cancelled window: STATUS %q", got)
	}
	// The raw text escapes what TEXT must: the title's comma and
	// semicolon, the backslash, the line break.
	unfolded := strings.ReplaceAll(string(body), "\r\n ", "")
	if !strings.Contains(unfolded, `Teil\; `) || !strings.Contains(unfolded, `Ünïcödé 🔧\,`) ||
		!strings.Contains(unfolded, `\\ end\nATTENDEE:mailto:evil@example.com`) ||
		!strings.Contains(unfolded, `pauses.\n\nSecond paragraph.`) || !strings.Contains(unfolded, `API\, public`) {
		t.Errorf("SUMMARY not escaped as RFC 5545 says:\n%s", unfolded)
	}
	// Same data, same bytes: the ETag stays while nothing changes.
	if again := public.MaintenanceCalendar(calendarTestData(title, message), markdown.New()); !bytes.Equal(again, body) {
		t.Error("the calendar is not deterministic")
	}
}

// Folding cuts at 75 octets, never inside a character, whatever the
// character widths around the cut.
func TestMaintenanceCalendarFoldsEveryWidth(t *testing.T) {
	for _, unit := range []string{"a", "é", "€", "🔧", "a€", "é🔧"} {
		for pad := range 4 {
			title := strings.Repeat("x", pad) + strings.Repeat(unit, 200/utf8.RuneCountInString(unit))
			title = string([]rune(title)[:200])
			body := public.MaintenanceCalendar(calendarTestData(title, ""), markdown.New())
			checkContentLines(t, body)
			cal, err := ics.ParseCalendar(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got := cal.Events()[0].GetProperty(ics.ComponentPropertySummary).Value; got != title {
				t.Fatalf("unit %q pad %d: SUMMARY %q, want %q", unit, pad, got, title)
			}
		}
	}
}
