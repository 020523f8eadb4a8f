package web_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ics "github.com/arran4/golang-ical"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// calendarEvents fetches /maintenance.ics as a visitor, checks the
// content lines (CRLF, at most 75 octets, no character split by a fold)
// and parses it with a third-party iCalendar parser, keyed by UID.
func calendarEvents(t *testing.T, c *webtest.Client) (*ics.Calendar, map[string]*ics.VEvent, string) {
	t.Helper()
	res := c.Get("/maintenance.ics")
	if res.Status != http.StatusOK || res.Header.Get("Content-Type") != "text/calendar; charset=utf-8" {
		t.Fatalf("GET /maintenance.ics: %d %q\n%s", res.Status, res.Header.Get("Content-Type"), res.Body)
	}
	body := []byte(res.Body)
	if !bytes.HasSuffix(body, []byte("\r\n")) {
		t.Fatal("the calendar does not end with CRLF")
	}
	for i, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\r\n")), []byte("\r\n")) {
		if bytes.ContainsAny(line, "\r\n") || len(line) > 75 || !utf8.Valid(line) {
			t.Fatalf("line %d breaks RFC 5545 §3.1 (bare CR/LF, over 75 octets or a split character): %q", i+1, line)
		}
	}
	cal, err := ics.ParseCalendar(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse the calendar: %v\n%s", err, body)
	}
	events := map[string]*ics.VEvent{}
	for _, ev := range cal.Events() {
		events[ev.Id()] = ev
	}
	return cal, events, res.Body
}

func eventProp(ev *ics.VEvent, p ics.ComponentProperty) string {
	if ev == nil {
		return ""
	}
	if prop := ev.GetProperty(p); prop != nil {
		return prop.Value
	}
	return ""
}

// TestMaintenanceCalendar: /maintenance.ics over HTTP, parsed by
// golang-ical: one event per window with a stable UID, SEQUENCE and
// LAST-MODIFIED moving with each edit, extension, early end and
// cancellation made through the API, STATUS:CANCELLED, escaping and
// folding that keep a hostile title or message inside its property,
// no hidden component, old windows left out, and the feeds' HTTP
// manners (ETag, 304, CORS, HEAD).
func TestMaintenanceCalendar(t *testing.T) {
	eachServerAt(t, "https://status.example.com", func(t *testing.T, s *webtest.Server) {
		_, writer, _, _ := maintenanceTokens(t, s)
		visitor := s.NewClient(t)
		ctx := t.Context()
		db := addVisible(t, s, "Database, primary", true)
		hidden := addVisible(t, s, "Zq7HiddenCalendarMarker", false)
		host := mustHost(t, s.Store.BaseURL())
		uid := func(id int64) string { return fmt.Sprintf("maintenance-%d@%s", id, host) }

		// A long UTF-8 title, and a message with commas, semicolons, line
		// breaks and an attempt to close the event and forge another.
		longTitle := string([]rune(strings.Repeat("Größere Wartung der Datenbank 🔧, Teil; ", 5))[:190])
		message := "First we **stop** writes, then copy; then restart.\r\n\r\nSecond step.\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:forged@example.com\r\nATTENDEE:mailto:evil@example.com"
		start := time.Now().UTC().Add(2 * time.Hour).Truncate(time.Second)
		planned, err := s.Store.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: longTitle, Message: message,
			ComponentIDs: []int64{db, hidden}, WindowStart: start, WindowEnd: start.Add(time.Hour)})
		modelstest.Fatal(t, err, "schedule")
		running := planMaintenance(t, s, models.DefaultPageID, "Cache swap", time.Now().UTC().Add(-time.Minute), db)
		cancelled := planMaintenance(t, s, models.DefaultPageID, "Network upgrade", start.Add(24*time.Hour))
		// A window completed long ago is past the calendar's horizon.
		old := planMaintenance(t, s, models.DefaultPageID, "Ancient work", start)
		longAgo := time.Now().UTC().AddDate(0, 0, -120)
		execSQL(t, s, "UPDATE maintenances SET status = 'completed', window_start = ?, window_end = ? WHERE id = ?",
			longAgo, longAgo.Add(time.Hour), old)

		// A title cannot carry a line break at all: refused, nothing written.
		rows := tableRows(t, s)
		res := apiCall(t, s, writer, http.MethodPatch, "/api/v1/maintenance/"+itoa(planned.ID),
			`{"name":"Upgrade\r\nATTENDEE:mailto:evil@example.com"}`)
		if res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("title with CRLF: %d, want 422\n%s", res.Status, res.Body)
		}
		if after := tableRows(t, s); fmt.Sprint(after) != fmt.Sprint(rows) {
			t.Fatalf("a refused title wrote rows: %v → %v", rows, after)
		}

		cal, events, body := calendarEvents(t, visitor)
		for _, p := range []struct {
			prop ics.Property
			want string
		}{{ics.PropertyVersion, "2.0"}, {ics.PropertyCalscale, "GREGORIAN"}, {ics.PropertyMethod, "PUBLISH"}} {
			found := false
			for _, cp := range cal.CalendarProperties {
				found = found || (cp.IANAToken == string(p.prop) && cp.Value == p.want)
			}
			if !found {
				t.Errorf("calendar lacks %s:%s", p.prop, p.want)
			}
		}
		if !strings.Contains(body, "PRODID:-//Herald//") || !strings.Contains(body, "X-WR-CALNAME:") {
			t.Errorf("calendar lacks PRODID or X-WR-CALNAME:\n%s", body)
		}
		if strings.Contains(body, "Zq7HiddenCalendarMarker") {
			t.Error("a hidden component is in the calendar")
		}
		if len(events) != 3 || events[uid(old)] != nil {
			t.Fatalf("events %v, want the planned, running and cancelled windows only", keys(events))
		}
		ev := events[uid(planned.ID)]
		if got := eventProp(ev, ics.ComponentPropertySummary); got != longTitle {
			t.Errorf("SUMMARY %q, want %q", got, longTitle)
		}
		desc := eventProp(ev, ics.ComponentPropertyDescription)
		for _, want := range []string{"First we stop writes, then copy; then restart.\n\nSecond step.",
			"UID:forged@example.com", "Affected components: Database, primary", "/maintenance/" + itoa(planned.ID)} {
			if !strings.Contains(desc, want) {
				t.Errorf("DESCRIPTION lacks %q:\n%s", want, desc)
			}
		}
		if ev.GetProperty(ics.ComponentPropertyAttendee) != nil || events["forged@example.com"] != nil {
			t.Error("the message injected a property or an event")
		}
		if got, err := ev.GetStartAt(); err != nil || !got.Equal(start) {
			t.Errorf("DTSTART %v (%v), want %v", got, err, start)
		}
		if got, err := ev.GetEndAt(); err != nil || !got.Equal(start.Add(time.Hour)) {
			t.Errorf("DTEND %v (%v)", got, err)
		}
		if _, err := ev.GetDtStampTime(); err != nil {
			t.Errorf("DTSTAMP: %v", err)
		}
		for p, want := range map[ics.ComponentProperty]string{ics.ComponentPropertySequence: "0", ics.ComponentPropertyStatus: "CONFIRMED",
			ics.ComponentPropertyUrl: s.Store.BaseURL() + "/maintenance/" + itoa(planned.ID)} {
			if got := eventProp(ev, p); got != want {
				t.Errorf("%s = %q, want %q", p, got, want)
			}
		}
		stamp := eventProp(ev, ics.ComponentPropertyDtstamp)

		// Edit, extend, end early, cancel: through the API, each one raises
		// SEQUENCE by one and keeps the UID.
		time.Sleep(1100 * time.Millisecond) // DTSTAMP has whole seconds: let it move
		decodeAPI[maintenanceAPIJSON](t, apiCall(t, s, writer, http.MethodPatch, "/api/v1/maintenance/"+itoa(planned.ID),
			`{"name":"Database upgrade; part 2, \\ final"}`), http.StatusOK)
		newEnd := time.Now().UTC().Add(3 * time.Hour).Truncate(time.Second)
		decodeAPI[maintenanceAPIJSON](t, apiCall(t, s, writer, http.MethodPatch, "/api/v1/maintenance/"+itoa(running),
			`{"scheduled_until":"`+newEnd.Format(time.RFC3339)+`"}`), http.StatusOK)
		decodeAPI[maintenanceAPIJSON](t, apiCall(t, s, writer, http.MethodPost, "/api/v1/maintenance/"+itoa(cancelled)+"/cancel", ""), http.StatusOK)

		_, events, body = calendarEvents(t, visitor)
		ev = events[uid(planned.ID)]
		if got := eventProp(ev, ics.ComponentPropertySummary); got != `Database upgrade; part 2, \ final` {
			t.Errorf("edited SUMMARY %q", got)
		}
		if !strings.Contains(body, `SUMMARY:Database upgrade\; part 2\, \\ final`) {
			t.Errorf("edited SUMMARY not escaped:\n%s", body)
		}
		if got := eventProp(ev, ics.ComponentPropertyDtstamp); got <= stamp {
			t.Errorf("DTSTAMP %s after the edit, was %s", got, stamp)
		}
		if got := eventProp(ev, ics.ComponentPropertyLastModified); got <= stamp {
			t.Errorf("LAST-MODIFIED %s after the edit, was %s", got, stamp)
		}
		run := events[uid(running)]
		if got, _ := run.GetEndAt(); !got.Equal(newEnd) {
			t.Errorf("extended DTEND %v, want %v", got, newEnd)
		}
		for id, want := range map[int64]string{planned.ID: "1", running: "1", cancelled: "1"} {
			if got := eventProp(events[uid(id)], ics.ComponentPropertySequence); got != want {
				t.Errorf("window %d: SEQUENCE %q, want %q", id, got, want)
			}
		}
		if got := eventProp(events[uid(cancelled)], ics.ComponentPropertyStatus); got != "CANCELLED" {
			t.Errorf("cancelled window: STATUS %q", got)
		}
		if got := eventProp(run, ics.ComponentPropertyStatus); got != "CONFIRMED" {
			t.Errorf("running window: STATUS %q", got)
		}

		decodeAPI[maintenanceAPIJSON](t, apiCall(t, s, writer, http.MethodPost, "/api/v1/maintenance/"+itoa(running)+"/complete", ""), http.StatusOK)
		_, events, _ = calendarEvents(t, visitor)
		run = events[uid(running)]
		if got := eventProp(run, ics.ComponentPropertySequence); got != "2" {
			t.Errorf("ended early: SEQUENCE %q, want 2", got)
		}
		if got, _ := run.GetEndAt(); !got.Before(newEnd) {
			t.Errorf("ended early: DTEND %v, still %v", got, newEnd)
		}

		// HTTP manners of the feeds: strong ETag and 304, Cache-Control,
		// any origin, preflight, HEAD without a body.
		resp, _ := rawRequest(t, http.MethodGet, s.URL+"/maintenance.ics", nil)
		etag := resp.Header.Get("ETag")
		if etag == "" || !strings.HasPrefix(resp.Header.Get("Cache-Control"), "public") ||
			resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("headers: ETag %q, Cache-Control %q, CORS %q", etag, resp.Header.Get("Cache-Control"), resp.Header.Get("Access-Control-Allow-Origin"))
		}
		if resp, _ := rawRequest(t, http.MethodGet, s.URL+"/maintenance.ics", map[string]string{"If-None-Match": etag}); resp.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match: %d, want 304", resp.StatusCode)
		}
		if resp, body := rawRequest(t, http.MethodHead, s.URL+"/maintenance.ics", nil); resp.StatusCode != http.StatusOK || len(body) != 0 ||
			resp.Header.Get("Content-Type") != "text/calendar; charset=utf-8" {
			t.Errorf("HEAD: %d, %d bytes, %q", resp.StatusCode, len(body), resp.Header.Get("Content-Type"))
		}
		if resp, _ := rawRequest(t, http.MethodOptions, s.URL+"/maintenance.ics", map[string]string{"Origin": "https://x.example",
			"Access-Control-Request-Method": "GET"}); resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("preflight: %d %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}

		// The public page links the calendar from the maintenance section
		// and the footer.
		page := visitor.Get("/").Body
		if !strings.Contains(page, `href="/maintenance.ics" type="text/calendar">Add to calendar</a>`) ||
			!strings.Contains(page, `>Maintenance calendar</a>`) {
			t.Error("the public page does not link the calendar")
		}
	})
}

// eachServerAt is eachServer with a store whose public URL is baseURL,
// as cmd/herald builds it from HERALD_BASE_URL.
func eachServerAt(t *testing.T, baseURL string, fn func(t *testing.T, s *webtest.Server)) {
	for _, e := range modelstest.Engines {
		t.Run(string(e), func(t *testing.T) {
			store := modelstest.OpenWith(t, e, models.Options{BaseURL: baseURL})
			fn(t, webtest.StartWith(t, webtest.Options{Store: store}))
		})
	}
}

func mustHost(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		t.Fatalf("base URL %q: %v", raw, err)
	}
	return u.Hostname()
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
