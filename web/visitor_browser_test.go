package web_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/browsertest"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestBrowserVisitorDetails: at 375 and 1280 px, light and dark, in an
// en-US and an en-GB browser, the page has an SVG favicon that loads, a
// heading without "Status status", a window next year shown with its
// year (text and tooltip) and this year's times without, in the
// visitor's clock (12-hour for en-US, 24-hour for en-GB). The PNGs are
// kept in HERALD_SCREENSHOT_DIR when set.
func TestBrowserVisitorDetails(t *testing.T) {
	srv := webtest.Start(t, models.SQLite)
	p := browsertest.Open(t, srv.URL)
	seedStatusPage(t, srv)
	ctx := context.Background()
	_, err := srv.Store.UpdatePage(ctx, models.DefaultPageID, models.PageInput{Name: "Acme Cloud Status", AccentColor: "blue", TimeZone: "UTC"})
	modelstest.Fatal(t, err, "rename page")
	year := time.Now().UTC().Year() + 1
	start := time.Date(year, 3, 4, 15, 0, 0, 0, time.UTC)
	_, err = srv.Store.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "Data centre move",
		WindowStart: start, WindowEnd: start.Add(2 * time.Hour)})
	modelstest.Fatal(t, err, "schedule")
	window := fmt.Sprintf(`time[datetime=%q]`, start.Format(time.RFC3339))
	shoot := screenshotter(t, p, screenshotDirs(t))

	for _, locale := range []string{"en-US", "en-GB"} {
		p.SetLocale(locale)
		shoot("visitor-"+locale, func() {
			p.Go("/")
			p.WaitVisible(window)
			if h := p.Text("h1"); h != "Acme Cloud Status" {
				t.Errorf("heading %q", h)
			}
			if st := browsertest.Eval[int](p, `(() => { const x = new XMLHttpRequest(); x.open("GET", document.querySelector('link[rel="icon"]').href, false); x.send(); return x.status; })()`); st != 200 {
				t.Errorf("favicon answers %d", st)
			}
			text, tip := p.Text(window), browsertest.Eval[string](p, `document.querySelector(`+jsQuote(window)+`).title`)
			if !strings.Contains(text, strconv.Itoa(year)) || !strings.Contains(tip, strconv.Itoa(year)) || !strings.Contains(tip, "UTC") {
				t.Errorf("%s: next year's window reads %q (tooltip %q), want the year", locale, text, tip)
			}
			twelve := strings.Contains(text, "AM") || strings.Contains(text, "PM")
			if twelve != (locale == "en-US") {
				t.Errorf("%s: %q does not follow the locale's clock", locale, text)
			}
			if updated := p.Text(".updated time"); strings.Contains(updated, strconv.Itoa(year-1)) {
				t.Errorf("%s: this year's time %q shows the year", locale, updated)
			}
		})
	}
	assertNoDialogsOrConsoleErrors(t, p, nil)
}
