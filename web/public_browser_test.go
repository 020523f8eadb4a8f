package web_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/browsertest"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestBrowserPublicPage renders the status page with 90-day bars and its
// history at phone and desktop widths, light and dark: every bar has 90
// cells (30 shown on a phone), an outage day's tooltip names the date, the
// uptime and the incident, and no page is wider than the screen. The PNGs
// are kept in HERALD_SCREENSHOT_DIR when set.
func TestBrowserPublicPage(t *testing.T) {
	srv := webtest.Start(t, models.SQLite)
	p := browsertest.Open(t, srv.URL)
	dirs := screenshotDirs(t)
	seedStatusPage(t, srv)
	api, outage, title := seedUptimeHistory(t, srv)
	seedIncidents(t, srv)
	visible := 0
	comps, err := srv.Store.Components(t.Context(), models.DefaultPageID)
	modelstest.Fatal(t, err, "components")
	for _, c := range comps {
		if c.Visible {
			visible++
		}
	}

	shoot := func(name string, load func(width int64)) {
		t.Helper()
		for _, width := range []int64{375, 1280} {
			for _, scheme := range []string{"light", "dark"} {
				p.Emulate(width, scheme)
				load(width)
				file := fmt.Sprintf("%s-%d-%s.png", name, width, scheme)
				if over := browsertest.Eval[int](p, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); over > 0 {
					t.Errorf("%s: page is %dpx wider than the screen; sticking out: %v", file, over, browsertest.Eval[[]string](p, overflowingJS))
				}
				png := p.Screenshot()
				for _, dir := range dirs {
					if err := os.WriteFile(filepath.Join(dir, file), png, 0o644); err != nil {
						t.Fatalf("save %s: %v", file, err)
					}
				}
			}
		}
	}

	day := fmt.Sprintf(`#component-%d .uptime-day[data-date="%s"]`, api, outage.Format("2006-01-02"))
	shoot("public-uptime", func(width int64) {
		p.Go("/")
		p.WaitVisible(".uptime-bar")
		cells := browsertest.Eval[[]int](p, `[...document.querySelectorAll(".uptime-bar")].map(b => b.querySelectorAll(".uptime-day").length)`)
		if len(cells) != visible {
			t.Errorf("%d bars, want one per visible component (%d)", len(cells), visible)
		}
		for i, n := range cells {
			if n != 90 {
				t.Errorf("bar %d has %d cells, want 90", i, n)
			}
		}
		want := map[int64]int{375: 30, 1280: 90}[width]
		shown := browsertest.Eval[int](p, fmt.Sprintf(`[...document.querySelectorAll("#component-%d .uptime-day")].filter(c => c.getBoundingClientRect().width > 0).length`, api))
		if shown != want {
			t.Errorf("%dpx: %d days shown, want %d", width, shown, want)
		}
		tip := browsertest.Eval[string](p, `document.querySelector(`+jsQuote(day)+`).title`)
		for _, part := range []string{outage.Format("Jan 2, 2006"), "75% uptime", "Major outage", title} {
			if !strings.Contains(tip, part) {
				t.Errorf("the outage day's tooltip %q lacks %q", tip, part)
			}
		}
		if cls := browsertest.Eval[string](p, `document.querySelector(`+jsQuote(day)+`).className`); cls != "uptime-day st-major_outage" {
			t.Errorf("the outage day's class is %q", cls)
		}
		// Cells are drawn: the outage day is red-ish, not the grey of no data.
		bg := browsertest.Eval[string](p, `getComputedStyle(document.querySelector(`+jsQuote(day)+`)).backgroundColor`)
		noData := browsertest.Eval[string](p, `getComputedStyle(document.querySelector(".uptime-day.no-data")).backgroundColor`)
		if bg == noData || bg == "rgba(0, 0, 0, 0)" {
			t.Errorf("the outage day is painted %s (no data: %s)", bg, noData)
		}
		// The bar's accessible name: the component, its 90-day uptime.
		label := browsertest.Eval[string](p, fmt.Sprintf(`document.querySelector("#component-%d .uptime-bar").getAttribute("aria-labelledby")
			.split(" ").map(id => document.getElementById(id).textContent).join(" ")`, api))
		if !strings.HasPrefix(label, "API ") || !strings.HasSuffix(label, "% uptime over the last 90 days") {
			t.Errorf("the bar is labelled %q", label)
		}
		if n := browsertest.Eval[int](p, `document.querySelectorAll(".history-day").length`); n != 14 {
			t.Errorf("%d days of history, want 14", n)
		}
	})
	shoot("history-archive", func(int64) { p.Go("/history"); p.WaitVisible(".archive-month") })

	p.Go("/login")
	p.Fill("#f-email", webtest.AdminEmail)
	p.Fill("#f-password", webtest.AdminPassword)
	p.Click("main form button[type=submit]")
	wantPath(t, p, "/admin")
	shoot("settings", func(int64) { p.Go("/admin/settings"); p.WaitVisible("#f-name") })
	shoot("settings-errors", func(int64) {
		p.Go("/admin/settings")
		p.Fill("#f-time_zone", "Mars/Olympus")
		p.Fill("#f-logo_url", "http://example.com/logo.png")
		if status := p.Click("form.settings-form button.primary"); status != http.StatusUnprocessableEntity {
			t.Errorf("bad settings: status %d, want 422", status)
		}
		p.WaitVisible("#e-time_zone")
	})

	// Save a logo and an accent through the form; the page shows both.
	p.Emulate(1280, "light")
	p.Go("/admin/settings")
	p.Fill("#f-logo_url", "https://example.com/logo.svg")
	p.Check("#f-accent_color-purple")
	if status := p.Click("form.settings-form button.primary"); status != http.StatusOK {
		t.Fatalf("save settings: status %d", status)
	}
	wantText(t, p, ".flash-success", "Settings saved.")
	p.Go("/?after=settings") // the page before was cached for max-age
	p.WaitVisible(".uptime-bar")
	if got := browsertest.Eval[string](p, `document.body.className`); got != "public accent-purple" {
		t.Errorf("body class %q, want the purple accent", got)
	}
	if alt := browsertest.Eval[string](p, `(document.querySelector(".brand img") || {}).alt || ""`); alt != "Acme Status" {
		t.Errorf("logo alt %q, want the page name", alt)
	}

	if problems := p.ConsoleProblems(); len(problems) > 0 {
		// The logo's host does not exist here: its failed load is expected.
		var real []string
		for _, m := range problems {
			if !strings.Contains(m, "logo.svg") {
				real = append(real, m)
			}
		}
		if len(real) > 0 {
			t.Errorf("console errors:\n%s", strings.Join(real, "\n"))
		}
	}
}

// seedUptimeHistory gives the components of seedStatusPage a past: API
// appeared 60 days ago and had maintenance, a degraded day, a partial
// outage and, three days ago, six hours of major outage with a back-filled
// incident; Website has 120 days, Dashboard 20. It returns API's id, the
// outage day and the incident's title.
func seedUptimeHistory(t *testing.T, srv *webtest.Server) (int64, time.Time, string) {
	t.Helper()
	comps, err := srv.Store.Components(t.Context(), models.DefaultPageID)
	modelstest.Fatal(t, err, "components")
	byName := map[string]models.Component{}
	for _, c := range comps {
		byName[c.Name] = c
	}
	today := utcDay(time.Now())
	at := func(daysAgo, hour int) time.Time {
		return today.AddDate(0, 0, -daysAgo).Add(time.Duration(hour) * time.Hour)
	}
	change := func(s models.ComponentStatus, when time.Time) models.StatusChange {
		return models.StatusChange{NewStatus: s, ChangedAt: when}
	}
	rewriteHistory(t, srv, byName["API"].ID,
		change(models.StatusOperational, at(60, 0)),
		change(models.StatusUnderMaintenance, at(45, 1)), change(models.StatusOperational, at(45, 5)),
		change(models.StatusDegradedPerformance, at(30, 8)), change(models.StatusOperational, at(30, 20)),
		change(models.StatusPartialOutage, at(17, 2)), change(models.StatusOperational, at(17, 10)),
		change(models.StatusMajorOutage, at(3, 6)), change(models.StatusOperational, at(3, 12)),
		change(models.StatusMajorOutage, time.Now().Add(-30*time.Minute)))
	rewriteHistory(t, srv, byName["Website"].ID,
		change(models.StatusOperational, at(120, 0)),
		change(models.StatusDegradedPerformance, at(8, 13)), change(models.StatusOperational, at(8, 15)))
	rewriteHistory(t, srv, byName["Dashboard"].ID,
		change(models.StatusOperational, at(20, 9)), change(models.StatusDegradedPerformance, time.Now().Add(-time.Hour)))
	for _, name := range []string{"Card processing", "Payouts to connected accounts in more than forty countries", "E-mail notifications"} {
		rewriteHistory(t, srv, byName[name].ID, change(byName[name].Status, at(75, 0)))
	}
	title := "Database failover on the primary cluster"
	_, err = srv.Store.CreateIncident(t.Context(), models.DefaultPageID, models.IncidentInput{Title: title,
		Message: "The primary database failed over; writes were refused for six hours.", Backfill: true,
		StartedAt: at(3, 6), ResolvedAt: at(3, 12), Components: map[int64]models.ComponentStatus{byName["API"].ID: models.StatusMajorOutage}})
	modelstest.Fatal(t, err, "back-fill")
	return byName["API"].ID, at(3, 0), title
}

// jsQuote quotes s as a JavaScript string literal.
func jsQuote(s string) string { return fmt.Sprintf("%q", s) }
