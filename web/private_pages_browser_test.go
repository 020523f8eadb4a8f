package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/browsertest"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestBrowserPrivatePage: in a real browser, an admin makes a page
// private with a password in Settings → Access (after a refused try with
// no way in); the same browser, as a visitor (the team switch is off),
// opens /s/{slug}/, gets the sign-in form, enters a wrong password, then
// the right one, reads the page, and signs out of it. The Access section
// and the sign-in form are screenshot at phone and desktop widths, light
// and dark.
func TestBrowserPrivatePage(t *testing.T) {
	srv := webtest.Start(t, models.SQLite)
	p := browsertest.Open(t, srv.URL)
	dialogs := p.WatchDialogs()
	dirs := screenshotDirs(t)
	seedStatusPage(t, srv)
	ctx := context.Background()
	internal := modelstest.InsertPage(t, srv.Store, "internal", "Internal tools")
	_, err := srv.Store.CreateComponent(ctx, internal.ID, models.ComponentInput{Name: "Build farm", Visible: true, Status: models.StatusOperational})
	modelstest.Fatal(t, err, "component")

	p.Go("/login")
	p.Fill("#f-email", webtest.AdminEmail)
	p.Fill("#f-password", webtest.AdminPassword)
	p.Click("main form button[type=submit]")
	wantPath(t, p, "/admin")
	p.Choose("#page-switcher", "Internal tools")
	p.Click(".page-switcher button")
	shoot := screenshotter(t, p, dirs)

	p.Go("/admin/settings")
	p.Check("#f-visibility-private")
	if status := p.Click("form.access-settings button.primary"); status != http.StatusUnprocessableEntity {
		t.Errorf("private without a way in: status %d, want 422", status)
	}
	p.WaitVisible("#e-visibility")
	shoot("private-access-settings-errors", func() {})
	p.Check("#f-visibility-private")
	p.Fill("#f-password", "internal door password")
	p.Click("form.access-settings button.primary")
	wantPath(t, p, "/admin/settings")
	wantText(t, p, ".flash-success", "the page is private")

	// As a visitor: the team switch is off, so the admin's session does
	// not open the page.
	if status := p.Go("/s/internal/"); status != http.StatusUnauthorized {
		t.Fatalf("the private page: status %d, want 401", status)
	}
	p.WaitVisible("#f-password")
	if body := p.Text("body"); strings.Contains(body, "Internal tools") || strings.Contains(body, "Build farm") {
		t.Errorf("the sign-in form names the page: %s", body)
	}
	shoot("private-sign-in", func() { p.Go("/s/internal/"); p.WaitVisible("#f-password") })
	p.Go("/s/internal/")
	p.Fill("#f-password", "not the password")
	if status := p.Click("main form button[type=submit]"); status != http.StatusUnauthorized {
		t.Errorf("wrong password: status %d, want 401", status)
	}
	wantText(t, p, "#e-password", "not right")
	shoot("private-sign-in-error", func() {})
	p.Fill("#f-password", "internal door password")
	if status := p.Click("main form button[type=submit]"); status != http.StatusOK {
		t.Errorf("right password: status %d, want 200", status)
	}
	wantPath(t, p, "/s/internal/")
	wantText(t, p, "main", "Build farm")
	shoot("private-page", func() { p.Go("/s/internal/"); p.WaitVisible(".page-signout") })
	// Personal links for feed readers, shown once; the admin sees them
	// listed in the Access section.
	p.Click(`.page-signout a[href="/s/internal/access/feeds"]`)
	p.Click("main form button.primary")
	p.WaitVisible("#link-atom")
	if link := browsertest.Eval[string](p, `document.getElementById("link-atom").value`); !strings.Contains(link, "/s/internal/history.atom?token=hft_") {
		t.Errorf("the Atom link reads %q", link)
	}
	shoot("private-feed-links", func() {})
	shoot("private-access-settings", func() { p.Go("/admin/settings"); p.WaitVisible(".feed-tokens-table") })
	p.Go("/s/internal/")
	p.Click(".page-signout button")
	wantPath(t, p, "/s/internal/")
	p.WaitVisible("#f-password")
	assertNoDialogsOrConsoleErrors(t, p, dialogs())
}

// TestBrowserPrivatePageEmailLink: with e-mail set up, the sign-in form of
// a page with a password and an e-mail domain offers both; a visitor asks
// for a link, opens it from the e-mail, presses the button and reads the
// page. The form with both ways and the sent notice are screenshot at
// phone and desktop widths, light and dark.
func TestBrowserPrivatePageEmailLink(t *testing.T) {
	srv, mail, base := startWithMail(t, models.SQLite)
	srv.SetUp(t)
	ctx := context.Background()
	page := modelstest.InsertPage(t, srv.Store, "staff", "Staff only")
	_, err := srv.Store.CreateComponent(ctx, page.ID, models.ComponentInput{Name: "Build farm", Visible: true, Status: models.StatusOperational})
	modelstest.Fatal(t, err, "component")
	_, err = srv.Store.SetPageAccess(ctx, page.ID, models.PageAccessInput{Password: "staff door password", EmailDomains: []string{"example.com"}, EmailLinks: true})
	modelstest.Fatal(t, err, "make private")
	p := browsertest.Open(t, base)
	dialogs := p.WatchDialogs()
	shoot := screenshotter(t, p, screenshotDirs(t))

	shoot("private-sign-in-email", func() { p.Go("/s/staff/"); p.WaitVisible("#f-email") })
	p.Go("/s/staff/")
	p.Fill("#f-email", "ann@example.com")
	if status := p.Click("form.access-link button[type=submit]"); status != http.StatusOK {
		t.Errorf("ask for a link: status %d", status)
	}
	p.WaitVisible("#access-link-sent")
	shoot("private-sign-in-email-sent", func() {})
	msgs := waitMailTo(t, mail, "ann@example.com", 1)
	link := linkAfter(t, msgs[0].Text, base+"/s/staff/access/link/")
	p.Go(strings.TrimPrefix(link, base))
	p.Click("main form button.primary")
	wantPath(t, p, "/s/staff/")
	wantText(t, p, "main", "Build farm")
	assertNoDialogsOrConsoleErrors(t, p, dialogs())
}
