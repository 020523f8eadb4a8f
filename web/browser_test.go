package web_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/browsertest"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestBrowserAdminFlow is a first day with Herald in a real browser: set up,
// build a group of components, declare an outage, see it on the public page,
// sign out.
func TestBrowserAdminFlow(t *testing.T) {
	for _, e := range modelstest.Engines {
		t.Run(string(e), func(t *testing.T) {
			srv := webtest.Start(t, e)
			p := browsertest.Open(t, srv.URL)

			// First run signs the new admin in.
			if status := p.Go("/setup"); status != http.StatusOK {
				t.Fatalf("GET /setup: status %d", status)
			}
			p.Fill("#f-page_name", "Acme Status")
			p.Fill("#f-email", webtest.AdminEmail)
			p.Fill("#f-password", webtest.AdminPassword)
			p.Click("main form button[type=submit]")
			wantPath(t, p, "/admin/components")
			wantText(t, p, ".flash-success", "Welcome to Herald")
			wantText(t, p, ".sidebar .who", webtest.AdminEmail)

			p.Click(`.page-head a[href="/admin/groups/new"]`)
			wantPath(t, p, "/admin/groups/new")
			p.Fill("#f-name", "Core platform")
			p.Click("form.form-card button.primary")
			wantPath(t, p, "/admin/components")
			wantText(t, p, ".flash-success", "Group “Core platform” created.")

			for _, name := range []string{"API", "Website"} {
				p.Go("/admin/components/new")
				p.Fill("#f-name", name)
				p.Choose("#f-group_id", "Core platform")
				p.Choose("#f-status", "Operational")
				p.Click("form.form-card button.primary")
				wantPath(t, p, "/admin/components")
				wantText(t, p, ".flash-success", "Component “"+name+"” created.")
			}
			apiID, websiteID := rowID(t, p, "API"), rowID(t, p, "Website")
			wantText(t, p, "#row-"+apiID+" .badge", "Operational")

			// The quick status form in the row.
			p.Choose("#status-"+apiID, "Major outage")
			p.Click("#row-" + apiID + ` form[action$="/status"] button`)
			wantText(t, p, ".flash-success", "“API” is now Major outage.")
			wantText(t, p, "#row-"+apiID+" .badge", "Major outage")
			wantText(t, p, "#row-"+websiteID+" .badge", "Operational")

			p.Go("/")
			wantText(t, p, "section.banner #banner-text", "Partial System Outage") // one of two components down (README: one status rule)
			wantText(t, p, "details.group summary", "Core platform")
			wantText(t, p, "#component-"+apiID, "Major outage")
			wantText(t, p, "#component-"+websiteID, "Operational")

			p.Go("/admin")
			p.Click(`.sidebar form[action="/logout"] button`)
			wantPath(t, p, "/login")
			wantText(t, p, ".flash-success", "You are signed out.")
			p.Go("/admin")
			if got := p.Path(); !strings.HasPrefix(got, "/login") {
				t.Errorf("after sign-out /admin ends at %s, want /login", got)
			}

			if problems := p.ConsoleProblems(); len(problems) > 0 {
				t.Errorf("console errors:\n%s", strings.Join(problems, "\n"))
			}
		})
	}
}

// TestBrowserScreenshots renders every screen at phone and desktop widths,
// light and dark, fails when a page is wider than the screen, and keeps the
// PNGs for a person to look at: set HERALD_SCREENSHOT_DIR to get a copy.
func TestBrowserScreenshots(t *testing.T) {
	// One engine is enough: the pages do not differ between them.
	srv := webtest.Start(t, models.SQLite)
	p := browsertest.Open(t, srv.URL)
	dirs := screenshotDirs(t)

	shoot := screenshotter(t, p, dirs)

	shoot("setup", func() { p.Go("/setup"); p.WaitVisible("#f-page_name") })
	seedStatusPage(t, srv)
	shoot("login", func() { p.Go("/login"); p.WaitVisible("#f-email") })

	p.Go("/login")
	p.Fill("#f-email", webtest.AdminEmail)
	p.Fill("#f-password", webtest.AdminPassword)
	p.Click("main form button[type=submit]")
	wantPath(t, p, "/admin")

	shoot("public", func() { p.Go("/"); p.WaitVisible("#banner-text") })
	shoot("dashboard", func() { p.Go("/admin"); p.WaitVisible(".stats") })
	shoot("components", func() { p.Go("/admin/components"); p.WaitVisible("table") })
	shoot("component-new-errors", func() {
		p.Go("/admin/components/new")
		if status := p.Click("form.form-card button.primary"); status != http.StatusUnprocessableEntity {
			t.Errorf("empty component form: status %d, want 422", status)
		}
		p.WaitVisible("#e-name")
	})

	if problems := p.ConsoleProblems(); len(problems) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(problems, "\n"))
	}
}

// seedStatusPage completes setup and builds a page with two groups, an
// ungrouped component, an outage and a slow component.
func seedStatusPage(t *testing.T, srv *webtest.Server) {
	t.Helper()
	srv.SetUp(t)
	ctx := context.Background()
	group := func(name string, collapsed bool) *int64 {
		g, err := srv.Store.CreateGroup(ctx, models.DefaultPageID, models.GroupInput{Name: name, Collapsed: collapsed})
		modelstest.Fatal(t, err, "create group %s", name)
		return &g.ID
	}
	core, payments := group("Core platform", false), group("Payments", true)
	for _, c := range []models.ComponentInput{
		{Name: "API", GroupID: core, Status: models.StatusMajorOutage},
		{Name: "Website", Description: "Marketing site and documentation", GroupID: core, Status: models.StatusOperational},
		{Name: "Dashboard", GroupID: core, Status: models.StatusDegradedPerformance},
		{Name: "Card processing", GroupID: payments, Status: models.StatusOperational},
		{Name: "Payouts to connected accounts in more than forty countries", GroupID: core, Status: models.StatusOperational},
		{Name: "E-mail notifications", Status: models.StatusOperational},
	} {
		c.Visible = true
		_, err := srv.Store.CreateComponent(ctx, models.DefaultPageID, c)
		modelstest.Fatal(t, err, "create component %s", c.Name)
	}
}

func wantPath(t *testing.T, p *browsertest.Page, want string) {
	t.Helper()
	if got := p.Path(); got != want {
		t.Fatalf("browser is at %s, want %s", got, want)
	}
}

func wantText(t *testing.T, p *browsertest.Page, sel, want string) {
	t.Helper()
	if got := p.Text(sel); !strings.Contains(got, want) {
		t.Errorf("%s on %s reads %q, want it to contain %q", sel, p.Path(), got, want)
	}
}

// rowID finds the id of a component from its row in the admin table.
func rowID(t *testing.T, p *browsertest.Page, name string) string {
	t.Helper()
	id := browsertest.Eval[string](p, fmt.Sprintf(`(() => {
		const a = [...document.querySelectorAll('tr[id^="row-"] td:first-child a')].find(a => a.textContent.trim() === %q);
		return a ? a.closest("tr").id.slice("row-".length) : "";
	})()`, name))
	if id == "" {
		t.Fatalf("no row for component %q on %s", name, p.Path())
	}
	return id
}

// screenshotDirs is where a test saves its screenshots: its temporary
// directory, and HERALD_SCREENSHOT_DIR too when set.
func screenshotDirs(t *testing.T) []string {
	t.Helper()
	dirs := []string{t.TempDir()}
	if d := os.Getenv("HERALD_SCREENSHOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("screenshot dir: %v", err)
		}
		dirs = append(dirs, d)
	}
	return dirs
}

// assertNoDialogsOrConsoleErrors fails when the page opened a JavaScript
// dialog or logged a console error: signs of injected script.
func assertNoDialogsOrConsoleErrors(t *testing.T, p *browsertest.Page, dialogs []string) {
	t.Helper()
	if len(dialogs) > 0 {
		t.Errorf("JavaScript dialogs opened: %v", dialogs)
	}
	if problems := p.ConsoleProblems(); len(problems) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(problems, "\n"))
	}
}

// screenshotter returns shoot(name, load): for each of 375 and 1280 px,
// light and dark, it runs load, fails when the page is wider than the
// screen, and saves a PNG into each of dirs.
func screenshotter(t *testing.T, p *browsertest.Page, dirs []string) func(name string, load func()) {
	return func(name string, load func()) {
		t.Helper()
		for _, width := range []int64{375, 1280} {
			for _, scheme := range []string{"light", "dark"} {
				p.Emulate(width, scheme)
				load()
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
}
