package web_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/browsertest"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestBrowserSubscribers opens the Subscribers screen from the
// navigation, searches and filters it, imports a CSV through the dry run
// and its confirm button, exports the list, and renders the list and the
// dry run at phone and desktop widths, light and dark: no page wider than
// the screen, and at 1280 px the tables fit their cards.
func TestBrowserSubscribers(t *testing.T) {
	srv := webtest.Start(t, models.SQLite)
	p := browsertest.Open(t, srv.URL)
	dialogs := p.WatchDialogs()
	dirs := screenshotDirs(t)

	p.Go("/setup")
	p.Fill("#f-page_name", "Acme Status")
	p.Fill("#f-email", webtest.AdminEmail)
	p.Fill("#f-password", webtest.AdminPassword)
	p.Click("main form button[type=submit]")
	ctx := models.WithActor(t.Context(), models.UserActor(1, webtest.AdminEmail, "192.0.2.10"))
	var comps []int64
	for _, name := range []string{"API", "Dashboard", "Payouts to connected accounts in more than forty countries"} {
		c, err := srv.Store.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: name, Status: models.StatusOperational, Visible: true})
		modelstest.Fatal(t, err, "create component %s", name)
		comps = append(comps, c.ID)
	}
	for i, email := range []string{"ann@example.com", "bob.builder@example.org", "a.rather.long.address.for.a.subscriber@subdomain.example.co.uk"} {
		in := models.SubscribeInput{Email: email, AllComponents: i == 0}
		if i > 0 {
			in.Components = comps[i-1:]
		}
		_, err := srv.Store.CreateConfirmedSubscriber(ctx, models.DefaultPageID, in)
		modelstest.Fatal(t, err, "subscriber %s", email)
	}
	modelstest.Fatal(t, srv.Store.Subscribe(ctx, models.DefaultPageID, models.SubscribeInput{Email: "waiting@example.net", AllComponents: true}), "pending")
	execSQL(t, srv, `UPDATE subscribers SET state = 'bouncing' WHERE email = 'bob.builder@example.org'`)

	p.Click(`.sidebar a[href="/admin/subscribers"]`)
	wantPath(t, p, "/admin/subscribers")
	wantText(t, p, "#subscriber-counts", "2 active · 1 pending · 1 bouncing")
	wantText(t, p, ".subscribers-table tbody", "ann@example.com")
	wantText(t, p, "#mail-notice", "e-mail is not configured")

	rows := func() int {
		return browsertest.Eval[int](p, `document.querySelectorAll(".subscribers-table tbody tr").length`)
	}
	p.Fill("#q-search", "BOB")
	p.Click(".filters button[type=submit]")
	if n := rows(); n != 1 {
		t.Fatalf("search BOB: %d rows, want 1", n)
	}
	p.Click(`.filters a[href="/admin/subscribers"]`)
	p.Choose("#q-state", "Pending")
	p.Click(".filters button[type=submit]")
	if n := rows(); n != 1 || !strings.Contains(p.Text(".subscribers-table tbody"), "waiting@example.net") {
		t.Fatalf("state pending: %d rows", n)
	}
	p.Click(`.filters a[href="/admin/subscribers"]`)
	p.Choose("#q-component", "Payouts to connected accounts in more than forty countries")
	p.Click(".filters button[type=submit]")
	if n := rows(); n != 4 { // ann and waiting (all), bob and the long one (chosen)
		t.Fatalf("component Payouts: %d rows, want 4", n)
	}

	// Import: the dry run, then its button.
	file := filepath.Join(t.TempDir(), "from-elsewhere.csv")
	csvText := "email,components\nnew.one@example.com,API\nnew.two@example.com,All\nann@example.com,All\nnot an address,All\nnew.one@example.com,All\n\"<b>x</b>@example.com\",Billing\n"
	modelstest.Fatal(t, os.WriteFile(file, []byte(csvText), 0o644), "write csv")
	p.Go("/admin/subscribers")
	p.Click(`.head-actions a[href="/admin/subscribers/import"]`)
	wantPath(t, p, "/admin/subscribers/import")
	p.Upload("#f-file", file)
	p.Click(".import-form button[type=submit]")
	wantText(t, p, "#import-counts", "2 addresses would be added")
	wantText(t, p, ".import-problems", "The same address as line 2.")

	for _, width := range []int64{375, 1280} {
		for _, scheme := range []string{"light", "dark"} {
			p.Emulate(width, scheme)
			// The dry run is the answer to a POST: screenshot it as it is.
			shoot(t, p, dirs, fmt.Sprintf("subscribers-dry-run-%d-%s.png", width, scheme), width, ".import-plan")
		}
	}
	p.Emulate(1280, "light")
	p.Click(".import-plan button[type=submit]")
	wantPath(t, p, "/admin/subscribers")
	wantText(t, p, "main", "Imported 2 subscribers. 1 subscribed already, 3 invalid lines skipped.")
	wantText(t, p, "#subscriber-counts", "4 active · 1 pending · 1 bouncing")

	// Export: the file the link downloads, with the filters of the page.
	p.Fill("#q-search", "new.")
	p.Click(".filters button[type=submit]")
	href := browsertest.Eval[string](p, `document.querySelector('.head-actions a[download]').getAttribute("href")`)
	if href != "/admin/subscribers.csv?q=new." {
		t.Errorf("export link = %q", href)
	}
	export := p.Fetch(href)
	if lines := strings.Split(strings.TrimSpace(export), "\n"); len(lines) != 3 || lines[0] != "email,kind,state,components,created_at,confirmed_at" {
		t.Errorf("export = %q", export)
	}

	for _, width := range []int64{375, 1280} {
		for _, scheme := range []string{"light", "dark"} {
			p.Emulate(width, scheme)
			p.Go("/admin/subscribers")
			p.WaitVisible(".subscribers-table")
			shoot(t, p, dirs, fmt.Sprintf("subscribers-list-%d-%s.png", width, scheme), width, ".subscribers-card")
		}
	}
	assertNoDialogsOrConsoleErrors(t, p, dialogs())
}

// shoot checks the page is no wider than the screen and, on desktops,
// that card fits its table, then saves a screenshot.
func shoot(t *testing.T, p *browsertest.Page, dirs []string, file string, width int64, card string) {
	t.Helper()
	if over := browsertest.Eval[int](p, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); over > 0 {
		t.Errorf("%s: page is %dpx wider than the screen", file, over)
	}
	if width >= 1280 {
		if over := browsertest.Eval[int](p, `(() => { const c = document.querySelector(`+"`"+card+"`"+`); return c.scrollWidth - c.clientWidth; })()`); over > 0 {
			t.Errorf("%s: the table is %dpx wider than its card", file, over)
		}
	}
	png := p.Screenshot()
	for _, dir := range dirs {
		if err := os.WriteFile(filepath.Join(dir, file), png, 0o644); err != nil {
			t.Fatalf("save %s: %v", file, err)
		}
	}
}
