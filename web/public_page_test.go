package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// uptimeCellRE reads one cell of an uptime bar: its status class, date
// and tooltip.
var uptimeCellRE = regexp.MustCompile(`<span class="uptime-day ([^"]+)" data-date="([^"]+)" title="([^"]*)"></span>`)

type uptimeCell struct {
	Class string
	Date  string
	Title string
}

// uptimeCells lists the cells of a component's bar on the public page.
func uptimeCells(t *testing.T, body string, componentID int64) []uptimeCell {
	t.Helper()
	start := strings.Index(body, fmt.Sprintf(`<li class="component" id="component-%d">`, componentID))
	if start < 0 {
		t.Fatalf("component %d is not on the page", componentID)
	}
	end := strings.Index(body[start:], "</li>")
	var out []uptimeCell
	for _, m := range uptimeCellRE.FindAllStringSubmatch(body[start:start+end], -1) {
		out = append(out, uptimeCell{Class: m[1], Date: m[2], Title: html.UnescapeString(m[3])})
	}
	return out
}

// utcDay is midnight UTC of t.
func utcDay(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// rewriteHistory replaces a component's status history, which the store
// only ever writes at the current time, with changes in the past: the
// first is when the component appeared. Write something through the store
// afterwards, so the public snapshot is rebuilt.
func rewriteHistory(t *testing.T, s *webtest.Server, componentID int64, changes ...models.StatusChange) {
	t.Helper()
	ctx := context.Background()
	db, err := s.Store.SQLDB()
	modelstest.Fatal(t, err, "sql db")
	if _, err := db.ExecContext(ctx, `DELETE FROM component_status_changes WHERE component_id = $1`, componentID); err != nil {
		t.Fatalf("clear history: %v", err)
	}
	old := models.ComponentStatus("")
	for _, ch := range changes {
		if _, err := db.ExecContext(ctx, `INSERT INTO component_status_changes (component_id, old_status, new_status, source, changed_at)
			VALUES ($1, $2, $3, 'manual', $4)`, componentID, string(old), string(ch.NewStatus), ch.ChangedAt.UTC()); err != nil {
			t.Fatalf("insert history: %v", err)
		}
		old = ch.NewStatus
	}
}

func addVisible(t *testing.T, s *webtest.Server, name string, visible bool) int64 {
	t.Helper()
	c, err := s.Store.CreateComponent(context.Background(), models.DefaultPageID,
		models.ComponentInput{Name: name, Status: models.StatusOperational, Visible: visible})
	modelstest.Fatal(t, err, "create component %s", name)
	return c.ID
}

func TestPublicUptimeBars(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		s.SetUp(t)
		ctx := context.Background()
		api, web, hidden := addVisible(t, s, "API", true), addVisible(t, s, "Website", true), addVisible(t, s, "Secret backend", false)
		today := utcDay(time.Now())
		outage := today.AddDate(0, 0, -3)
		at := func(d time.Time, h int) time.Time { return d.Add(time.Duration(h) * time.Hour) }
		rewriteHistory(t, s, api,
			models.StatusChange{NewStatus: models.StatusOperational, ChangedAt: today.AddDate(0, 0, -40)},
			models.StatusChange{NewStatus: models.StatusMajorOutage, ChangedAt: at(outage, 6)},
			models.StatusChange{NewStatus: models.StatusOperational, ChangedAt: at(outage, 12)})
		rewriteHistory(t, s, web, models.StatusChange{NewStatus: models.StatusOperational, ChangedAt: today.AddDate(0, 0, -10)})
		// A back-filled incident over the outage; its title must be escaped
		// in the tooltip. Writing it also rebuilds the snapshot.
		title := `Database <b>"failover"</b>`
		_, err := s.Store.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: title, Message: "Primary lost.",
			Backfill: true, StartedAt: at(outage, 6), ResolvedAt: at(outage, 12),
			Components: map[int64]models.ComponentStatus{api: models.StatusMajorOutage}})
		modelstest.Fatal(t, err, "back-fill incident")

		res := s.NewClient(t).Get("/")
		if res.Status != http.StatusOK {
			t.Fatalf("GET /: %d", res.Status)
		}
		if strings.Contains(res.Body, "<b>") {
			t.Fatal("the incident title reached the page unescaped")
		}
		if strings.Contains(res.Body, fmt.Sprintf(`id="component-%d"`, hidden)) || strings.Contains(res.Body, "Secret backend") {
			t.Fatal("a hidden component has a bar on the public page")
		}
		if n := strings.Count(res.Body, `class="uptime-bar"`); n != 2 {
			t.Fatalf("%d uptime bars, want 2 (one per visible component)", n)
		}
		cells := map[int64][]uptimeCell{api: uptimeCells(t, res.Body, api), web: uptimeCells(t, res.Body, web)}
		for id, cs := range cells {
			if len(cs) != 90 {
				t.Fatalf("component %d has %d cells, want 90", id, len(cs))
			}
			if cs[89].Date != today.Format("2006-01-02") || cs[0].Date != today.AddDate(0, 0, -89).Format("2006-01-02") {
				t.Fatalf("component %d's bar runs %s … %s, want 89 days ago … today", id, cs[0].Date, cs[89].Date)
			}
		}

		day := cells[api][89-3]
		if day.Date != outage.Format("2006-01-02") || day.Class != "st-major_outage" {
			t.Fatalf("outage day = %+v, want %s with st-major_outage", day, outage.Format("2006-01-02"))
		}
		for _, want := range []string{outage.Format("Jan 2, 2006"), "75% uptime", "Major outage", title} {
			if !strings.Contains(day.Title, want) {
				t.Errorf("outage day tooltip %q lacks %q", day.Title, want)
			}
		}
		if got := cells[api][89-2]; got.Class != "st-operational" || strings.Contains(got.Title, "failover") || !strings.Contains(got.Title, "100% uptime") {
			t.Errorf("the day after the outage = %+v", got)
		}
		// Before a component existed its days are grey "No data", never green.
		noData := func(cs []uptimeCell) (n int) {
			for _, c := range cs {
				if c.Class == "no-data" {
					n++
					if !strings.Contains(c.Title, "No data") {
						t.Errorf("no-data day %s reads %q", c.Date, c.Title)
					}
				}
			}
			return n
		}
		if n := noData(cells[api]); n != 90-41 {
			t.Errorf("API has %d no-data days, want %d", n, 90-41)
		}
		if n := noData(cells[web]); n != 90-11 {
			t.Errorf("Website has %d no-data days, want %d", n, 90-11)
		}
		if got := cells[web][89-11]; got.Class != "no-data" {
			t.Errorf("the day before Website existed is %q", got.Class)
		}

		// The legend carries the 90-day figure (6 h down over 40 days and
		// some hours); with the name it labels the bar for screen readers.
		total := regexp.MustCompile(fmt.Sprintf(`<span class="uptime-total" id="total-%d">(99\.\d+)%% uptime<span class="visually-hidden"> over the last 90 days</span></span>`, api)).FindStringSubmatch(res.Body)
		if total == nil {
			t.Fatal("the API bar's legend lacks its 90-day percentage")
		}
		if !strings.Contains(res.Body, fmt.Sprintf(`<span id="name-%d">API</span>`, api)) ||
			!strings.Contains(res.Body, fmt.Sprintf(`<div class="uptime-bar" role="img" aria-labelledby="name-%d total-%d">`, api, api)) {
			t.Error("the API bar is not labelled by its name and total")
		}
		if !strings.Contains(res.Body, fmt.Sprintf(`id="total-%d">100%% uptime<`, web)) {
			t.Error("Website's total does not read 100%")
		}
		for _, want := range []string{"90 days ago", ">Today<"} {
			if !strings.Contains(res.Body, want) {
				t.Errorf("the legend lacks %q", want)
			}
		}
	})
}

func TestPublicRecentHistory(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		s.SetUp(t)
		ctx := context.Background()
		api := addVisible(t, s, "API", true)
		inc, err := s.Store.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Login errors", Status: models.IncidentInvestigating,
			Message: "Looking.", Components: map[int64]models.ComponentStatus{api: models.StatusPartialOutage}})
		modelstest.Fatal(t, err, "create incident")
		_, err = s.Store.ResolveIncident(ctx, inc.ID, "All logins work **again**.")
		modelstest.Fatal(t, err, "resolve")
		now := time.Now().UTC()
		old, err := s.Store.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Slow search", Message: "Was slow.",
			Backfill: true, StartedAt: now.AddDate(0, 0, -5), ResolvedAt: now.AddDate(0, 0, -5).Add(time.Hour)})
		modelstest.Fatal(t, err, "back-fill")
		ancient, err := s.Store.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Ancient trouble", Message: "Long ago.",
			Backfill: true, StartedAt: now.AddDate(0, 0, -20), ResolvedAt: now.AddDate(0, 0, -20).Add(time.Hour)})
		modelstest.Fatal(t, err, "back-fill")
		done, err := s.Store.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "Kernel patching",
			WindowStart: now.Add(-time.Minute), WindowEnd: now.Add(time.Hour), ComponentIDs: []int64{api}})
		modelstest.Fatal(t, err, "schedule")
		_, err = s.Store.RunMaintenanceTransitions(ctx)
		modelstest.Fatal(t, err, "start")
		modelstest.Fatal(t, s.Store.EndMaintenanceNow(ctx, done.ID), "end")
		dropped, err := s.Store.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "Called-off migration",
			WindowStart: now.Add(time.Hour), WindowEnd: now.Add(2 * time.Hour)})
		modelstest.Fatal(t, err, "schedule")
		modelstest.Fatal(t, s.Store.CancelMaintenance(ctx, dropped.ID), "cancel")

		body := s.NewClient(t).Get("/").Body
		section := body[strings.Index(body, `<section class="history"`):]
		if n := strings.Count(section, `<section class="history-day"`); n != 14 {
			t.Fatalf("%d days of history, want 14", n)
		}
		days := regexp.MustCompile(`<h3 id="day-([0-9-]+)">([^<]+)</h3>`).FindAllStringSubmatch(section, -1)
		if len(days) != 14 || days[0][1] != inc.StartedAt.UTC().Format("2006-01-02") {
			t.Fatalf("history starts at %v, want today", days[0])
		}
		dayBlock := func(date time.Time) string {
			id := `id="day-` + date.UTC().Format("2006-01-02") + `"`
			i := strings.Index(section, id)
			if i < 0 {
				t.Fatalf("no day %s in the history", date.Format("2006-01-02"))
			}
			j := strings.Index(section[i:], "</section>")
			return section[i : i+j]
		}
		today := dayBlock(inc.StartedAt)
		for _, want := range []string{
			fmt.Sprintf(`href="/incidents/%d">Login errors</a>`, inc.ID), `class="past-item past-incident im-major"`,
			`<strong class="update-status is-resolved">Resolved</strong>`, "All logins work <strong>again</strong>.",
			fmt.Sprintf(`href="/maintenance/%d">Kernel patching</a>`, done.ID), "Completed",
			`<time datetime="` + inc.StartedAt.UTC().Format(time.RFC3339),
		} {
			if !strings.Contains(today, want) {
				t.Errorf("today's history lacks %q:\n%s", want, today)
			}
		}
		if strings.Contains(section, "Called-off migration") {
			t.Error("a cancelled window is in the history")
		}
		// The window began a minute before the incident did.
		if strings.Index(today, "Login errors") > strings.Index(today, "Kernel patching") {
			t.Error("today's history is not newest first")
		}
		if !strings.Contains(dayBlock(old.StartedAt), "Slow search") {
			t.Error("the back-filled incident of 5 days ago is missing")
		}
		if strings.Contains(section, "Ancient trouble") || strings.Contains(section, fmt.Sprintf("/incidents/%d", ancient.ID)) {
			t.Error("an incident older than 14 days is in the recent history")
		}
		if n := strings.Count(section, "No incidents reported."); n != 12 {
			t.Errorf("%d quiet days, want 12", n)
		}
		if !strings.Contains(section, `<a href="/history">Incident history →</a>`) {
			t.Error("no link to the archive")
		}
		for _, want := range []string{
			`<link rel="alternate" type="application/atom+xml" href="/history.atom"`,
			`<link rel="alternate" type="application/rss+xml" href="/history.rss"`,
			`<a href="/history.rss">RSS feed</a>`, "Times shown in UTC",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
	})
}

func TestHistoryArchive(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		s.SetUp(t)
		ctx := context.Background()
		visitor := s.NewClient(t)
		if res := visitor.Get("/history"); res.Status != http.StatusOK || !strings.Contains(res.Body, "No incidents or maintenance recorded yet.") {
			t.Fatalf("empty archive: %d", res.Status)
		}

		now := time.Now().UTC()
		var ids []int64 // newest first
		for i := 25; i >= 1; i-- {
			start := now.Add(-time.Duration(i) * 50 * time.Hour)
			inc, err := s.Store.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: fmt.Sprintf("Incident %02d", i),
				Message: "Logged afterwards.", Backfill: true, StartedAt: start, ResolvedAt: start.Add(time.Hour)})
			modelstest.Fatal(t, err, "back-fill %d", i)
			ids = append([]int64{inc.ID}, ids...)
		}
		m, err := s.Store.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "Network upgrade",
			WindowStart: now.Add(-time.Minute), WindowEnd: now.Add(time.Hour)})
		modelstest.Fatal(t, err, "schedule")
		_, err = s.Store.RunMaintenanceTransitions(ctx)
		modelstest.Fatal(t, err, "start")
		modelstest.Fatal(t, s.Store.EndMaintenanceNow(ctx, m.ID), "end")

		first := visitor.Get("/history")
		if first.Status != http.StatusOK {
			t.Fatalf("GET /history: %d", first.Status)
		}
		if cc := first.Header.Get("Cache-Control"); !strings.HasPrefix(cc, "public, max-age=") {
			t.Errorf("Cache-Control %q, want public with a max-age", cc)
		}
		if first.Header.Get("Set-Cookie") != "" {
			t.Error("the archive sets a cookie")
		}
		if n := strings.Count(first.Body, `class="past-item past-incident`); n != 20 {
			t.Errorf("page 1 lists %d incidents, want 20", n)
		}
		for _, want := range []string{
			fmt.Sprintf(`href="/incidents/%d">Incident 01</a>`, ids[0]), fmt.Sprintf(`href="/maintenance/%d">Network upgrade</a>`, m.ID),
			`href="/history?page=2" rel="next"`, "Page 1 of 2",
			`<h2 id="month-` + now.Format("2006-01") + `" class="section-title">` + now.Format("January 2006") + `</h2>`,
		} {
			if !strings.Contains(first.Body, want) {
				t.Errorf("page 1 lacks %q", want)
			}
		}
		if strings.Index(first.Body, "Network upgrade") > strings.Index(first.Body, "Incident 01") ||
			strings.Index(first.Body, "Incident 01") > strings.Index(first.Body, "Incident 20") {
			t.Error("page 1 is not newest first")
		}
		if strings.Contains(first.Body, "Incident 21") {
			t.Error("page 1 shows an incident of page 2")
		}
		if n := strings.Count(first.Body, `<section class="archive-month"`); n < 2 {
			t.Errorf("%d months on page 1, want at least 2 (the incidents span 40 days)", n)
		}

		second := visitor.Get("/history?page=2")
		if second.Status != http.StatusOK {
			t.Fatalf("page 2: %d", second.Status)
		}
		if n := strings.Count(second.Body, `class="past-item past-incident`); n != 5 {
			t.Errorf("page 2 lists %d incidents, want 5", n)
		}
		if !strings.Contains(second.Body, "Incident 25") || strings.Contains(second.Body, "Network upgrade") ||
			!strings.Contains(second.Body, `href="/history" rel="prev"`) || strings.Contains(second.Body, `rel="next"`) {
			t.Error("page 2 has the wrong items or links")
		}

		for _, q := range []string{"0", "-1", "3", "abc", "1.5", "99999999999999999999", "%00"} {
			res := visitor.Get("/history?page=" + q)
			if res.Status != http.StatusNotFound {
				t.Errorf("page=%s: %d, want 404", q, res.Status)
			}
		}
		if res := visitor.Get("/history?page=1"); res.Status != http.StatusOK {
			t.Errorf("page=1: %d", res.Status)
		}
	})
}
