package web_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/browsertest"
	"github.com/heraldstatus/herald/web/webtest"
)

// cardsOverflowJS lists the cards whose content is wider than the card:
// a table-card scrolls inside itself, so the page-width check misses it.
const cardsOverflowJS = `[...document.querySelectorAll("main .card")]
	.filter(el => el.scrollWidth > el.clientWidth + 1)
	.map(el => String(el.className) + ": " + el.scrollWidth + " > " + el.clientWidth)`

// activeTabOutsideJS says how the current section's nav link sits
// against the viewport: "" when wholly inside it.
const activeTabOutsideJS = `(() => {
	const a = document.querySelector('.sidebar a[aria-current="page"]');
	if (!a) return "no active tab";
	const r = a.getBoundingClientRect();
	const w = document.documentElement.clientWidth;
	return (r.left >= 0 && r.right <= w + 0.5) ? "" : "left " + r.left + ", right " + r.right + ", viewport " + w;
})()`

// looksSeed is what startLooks made: a component, a scheduled maintenance
// window, and audit entries, all named with long unbreakable ids.
type looksSeed struct {
	componentID, maintenanceID int64
}

// startLooks sets Herald up in a browser and seeds long names made by a
// token with a long name, and an accent change from the old default.
func startLooks(t *testing.T) (*browsertest.Page, looksSeed) {
	t.Helper()
	srv := webtest.Start(t, models.SQLite)
	p := browsertest.Open(t, srv.URL)
	p.Go("/setup")
	p.Fill("#f-page_name", "Acme Status")
	p.Fill("#f-email", webtest.AdminEmail)
	p.Fill("#f-password", webtest.AdminPassword)
	p.Click("main form button[type=submit]")
	wantPath(t, p, "/admin/components")

	const ulid = "01JEXAMPLE7Q3ZKXW5V9N2M4P6R8T0ULIDWITHOUTANYSPACES"
	ctx := models.WithActor(t.Context(), models.TokenActor(7, "deploy-bot-for-the-payments-platform-"+ulid, "2001:db8:85a3::8a2e:370:7334"))
	comp, err := srv.Store.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{
		Name: "Payouts-to-connected-accounts-" + ulid, Status: models.StatusOperational, Visible: true})
	modelstest.Fatal(t, err, "create component")
	_, err = srv.Store.CreateChannel(ctx, models.DefaultPageID, models.ChannelInput{Type: models.ChannelWebhook,
		Name: "Pager-bridge-" + ulid, URL: "https://hooks.example.com/herald/incoming", Enabled: true})
	modelstest.Fatal(t, err, "create channel")
	start := time.Now().Add(48 * time.Hour).Truncate(time.Minute)
	m, err := srv.Store.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{
		Title: "Database upgrade " + ulid, Message: "Planned.", ComponentIDs: []int64{comp.ID},
		WindowStart: start, WindowEnd: start.Add(time.Hour)})
	modelstest.Fatal(t, err, "schedule maintenance")
	_, err = srv.Store.UpdatePage(ctx, models.DefaultPageID, models.PageInput{Name: "Acme Status", AccentColor: "purple", TimeZone: "UTC"})
	modelstest.Fatal(t, err, "update page")
	return p, looksSeed{componentID: comp.ID, maintenanceID: m.ID}
}

// looksPage is a screen to check: its path, an element that shows it has
// loaded, and the navigation tab that must be current.
type looksPage struct{ name, path, sel, nav string }

// shootLooks loads each page at 375 and 1280 px, light and dark, checks
// that neither the page nor a card is wider than it should be and that
// the current tab is wholly on screen, and saves a screenshot.
func shootLooks(t *testing.T, p *browsertest.Page, pages []looksPage) {
	t.Helper()
	dirs := screenshotDirs(t)
	for _, pg := range pages {
		for _, width := range []int64{375, 1280} {
			for _, scheme := range []string{"light", "dark"} {
				file := fmt.Sprintf("%s-%d-%s.png", pg.name, width, scheme)
				p.Emulate(width, scheme)
				p.Go(pg.path)
				p.WaitVisible(pg.sel)
				if over := browsertest.Eval[int](p, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); over > 0 {
					t.Errorf("%s: page is %dpx wider than the screen; sticking out: %v", file, over, browsertest.Eval[[]string](p, overflowingJS))
				}
				if wide := browsertest.Eval[[]string](p, cardsOverflowJS); len(wide) > 0 {
					t.Errorf("%s: cards wider than themselves: %v", file, wide)
				}
				if got := browsertest.Eval[string](p, `document.querySelector('.sidebar a[aria-current="page"]').getAttribute("href")`); got != pg.nav {
					t.Errorf("%s: current tab %s, want %s", file, got, pg.nav)
				}
				if out := browsertest.Eval[string](p, activeTabOutsideJS); out != "" {
					t.Errorf("%s: the current tab is not wholly on screen: %s", file, out)
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
}

// TestBrowserAdminLooks renders the dashboard, a confirmation page and the
// cancel-maintenance page, each about an object with a long unbreakable
// name, at phone and desktop widths, light and dark.
func TestBrowserAdminLooks(t *testing.T) {
	p, seed := startLooks(t)
	dialogs := p.WatchDialogs()
	shootLooks(t, p, []looksPage{
		{"looks-dashboard", "/admin", ".page-head .button.primary", "/admin"},
		{"looks-confirm-delete", "/admin/components/" + strconv.FormatInt(seed.componentID, 10) + "/delete", ".confirm-card", "/admin/components"},
		{"looks-cancel-maintenance", fmt.Sprintf("/admin/maintenance/%d/cancel", seed.maintenanceID), ".confirm-card", "/admin/maintenance"},
	})
	p.Go(fmt.Sprintf("/admin/maintenance/%d/cancel", seed.maintenanceID))
	wantText(t, p, ".confirm-card button.danger", "Cancel this maintenance")
	wantText(t, p, ".confirm-card a.button", "Keep it")
	if gap := browsertest.Eval[float64](p, `document.querySelector(".confirm-card p").getBoundingClientRect().top - document.querySelector(".confirm-card").getBoundingClientRect().top`); gap > 24 {
		t.Errorf("the confirmation text starts %.0fpx below the top of its card, want the card's padding only", gap)
	}
	assertNoDialogsOrConsoleErrors(t, p, dialogs())
}

// TestBrowserAuditLooks renders the audit log of long ids and names and an
// accent change at phone and desktop widths, light and dark: the table
// fits its card, and the accent reads as one name with a swatch on both
// sides.
func TestBrowserAuditLooks(t *testing.T) {
	p, _ := startLooks(t)
	dialogs := p.WatchDialogs()
	p.Go("/admin/audit?action=page.update")
	entry := browsertest.Eval[string](p, `document.querySelector(".audit-table tbody tr .row-actions a").getAttribute("href")`)
	shootLooks(t, p, []looksPage{
		{"looks-audit-log", "/admin/audit", ".audit-table", "/admin/audit"},
		{"looks-audit-entry", entry, ".audit-changes", "/admin/audit"},
	})
	p.Go(entry)
	wantText(t, p, ".audit-changes .change-before", "Blue")
	wantText(t, p, ".audit-changes .change-after", "Purple")
	if n := browsertest.Eval[int](p, `document.querySelectorAll(".audit-changes .swatch").length`); n != 2 {
		t.Errorf("accent change shows %d swatches, want 2", n)
	}
	// the actor search looks like the other filter inputs
	p.Go("/admin/audit")
	same := `(() => { const a = getComputedStyle(document.querySelector("#q-actor")), b = getComputedStyle(document.querySelector("#q-from"));
		return ["height", "borderTopColor", "borderRadius", "backgroundColor", "fontSize"].filter(k => a[k] !== b[k]).map(k => k + ": " + a[k] + " vs " + b[k]); })()`
	if diff := browsertest.Eval[[]string](p, same); len(diff) > 0 {
		t.Errorf("the actor search box differs from the date inputs: %v", diff)
	}
	assertNoDialogsOrConsoleErrors(t, p, dialogs())
}
