package web_test

import (
	"context"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/web/browsertest"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestBrowserPages creates a second status page in a real browser,
// switches between the pages with the switcher in the navigation, and
// screenshots the Pages screen and the switcher at phone and desktop
// widths, light and dark.
func TestBrowserPages(t *testing.T) {
	srv := webtest.Start(t, models.SQLite)
	p := browsertest.Open(t, srv.URL)
	dialogs := p.WatchDialogs()
	dirs := screenshotDirs(t)
	seedStatusPage(t, srv)

	p.Go("/login")
	p.Fill("#f-email", webtest.AdminEmail)
	p.Fill("#f-password", webtest.AdminPassword)
	p.Click("main form button[type=submit]")
	wantPath(t, p, "/admin")
	shoot := screenshotter(t, p, dirs)

	p.Click(`.sidebar a[href="/admin/pages"]`)
	wantPath(t, p, "/admin/pages")
	p.Fill("#f-name", "Internal tools")
	p.Fill("#f-slug", "Not a slug!")
	if status := p.Click("form.form-card button.primary"); status != 422 {
		t.Errorf("bad slug: status %d, want 422", status)
	}
	p.WaitVisible("#e-slug")
	shoot("pages-errors", func() {})
	p.Fill("#f-slug", "internal")
	p.Click("form.form-card button.primary")
	wantPath(t, p, "/admin")
	wantText(t, p, ".flash-success", "now managing it")
	if got := browsertest.Eval[string](p, `document.getElementById("page-switcher").selectedOptions[0].text`); got != "Internal tools" {
		t.Fatalf("switcher shows %q after creating, want the new page", got)
	}
	shoot("pages-switcher", func() { p.Go("/admin") })
	shoot("pages", func() { p.Go("/admin/pages"); p.WaitVisible(".pages-table") })

	p.Go("/admin")
	first, err := srv.Store.Page(context.Background(), models.DefaultPageID)
	if err != nil {
		t.Fatal(err)
	}
	p.Choose("#page-switcher", first.Name)
	p.Click(".page-switcher button")
	wantPath(t, p, "/admin")
	wantText(t, p, ".flash-success", "Now managing")
	if got := browsertest.Eval[string](p, `document.getElementById("page-switcher").selectedOptions[0].text`); got == "Internal tools" {
		t.Fatalf("switcher still on the new page")
	}
	assertNoDialogsOrConsoleErrors(t, p, dialogs())
}
