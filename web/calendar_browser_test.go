package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/web/browsertest"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestBrowserCalendarAndFeedLinks: in headless Chromium, the public page
// offers "Add to calendar" beside scheduled maintenance and the
// maintenance calendar in its footer, the maintenance permalink offers
// it too, and the history page lists each component's feeds; screenshots
// at 375 and 1280 px, light and dark, none wider than the screen.
func TestBrowserCalendarAndFeedLinks(t *testing.T) {
	srv := webtest.Start(t, models.SQLite)
	seedStatusPage(t, srv)
	start := time.Now().UTC().Add(26 * time.Hour)
	id := planMaintenance(t, srv, models.DefaultPageID, "Database upgrade", start)
	p := browsertest.Open(t, srv.URL)
	shoot := screenshotter(t, p, screenshotDirs(t))

	shoot("public-calendar", func() { p.Go("/"); p.WaitVisible("#maintenance-upcoming") })
	href := func(sel string) string {
		return browsertest.Eval[string](p, fmt.Sprintf(`document.querySelector(%q)?.getAttribute("href") || ""`, sel))
	}
	if got := href(`#maintenance-upcoming + a`); got != "/maintenance.ics" {
		t.Errorf("the scheduled maintenance heading's link goes to %q", got)
	}
	wantText(t, p, `#maintenance-upcoming + a`, "Add to calendar")
	if got := href(`.footer-links a[type="text/calendar"]`); got != "/maintenance.ics" {
		t.Errorf("the footer's calendar link goes to %q", got)
	}

	shoot("maintenance-permalink", func() { p.Go("/maintenance/" + itoa(id)); p.WaitVisible("#maintenance-title") })
	wantText(t, p, ".incident-meta", "Add to calendar")

	shoot("history-feeds", func() { p.Go("/history"); p.WaitVisible("#component-feeds") })
	names := browsertest.Eval[[]string](p, `[...document.querySelectorAll(".feed-list .feed-name")].map(e => e.textContent)`)
	if len(names) != 6 || !strings.Contains(strings.Join(names, "|"), "Card processing") {
		t.Errorf("feeds by component lists %q, want the 6 visible components", names)
	}
	if got := href(`.feed-list a[type="application/atom+xml"]`); !strings.HasPrefix(got, "/history.atom?component=") {
		t.Errorf("a component's Atom link goes to %q", got)
	}
	if problems := p.ConsoleProblems(); len(problems) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(problems, "\n"))
	}
}
