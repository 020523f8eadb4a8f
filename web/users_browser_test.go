package web_test

import (
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/web/browsertest"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestBrowserUsersAndInvitation invites someone from the Users screen in
// a real browser, reads the link from the page that shows it once, opens
// it, chooses a password and lands signed in with the invited role;
// along the way it screenshots the Users screen and the invitation page
// at phone and desktop widths, light and dark.
func TestBrowserUsersAndInvitation(t *testing.T) {
	srv := webtest.Start(t, models.SQLite)
	p := browsertest.Open(t, srv.URL)
	dialogs := p.WatchDialogs()
	dirs := screenshotDirs(t)
	seedStatusPage(t, srv)
	srv.AddUser(t, "viewer.with.a.rather.long.address@example.com", models.RoleViewer) // signed in once
	if _, err := srv.Store.CreateUser(t.Context(), models.UserInput{Email: "never@example.com", Password: webtest.AdminPassword, Role: models.RoleOperator}); err != nil {
		t.Fatal(err)
	}

	p.Go("/login")
	p.Fill("#f-email", webtest.AdminEmail)
	p.Fill("#f-password", webtest.AdminPassword)
	p.Click("main form button[type=submit]")
	wantPath(t, p, "/admin")
	p.Click(`.sidebar a[href="/admin/users"]`)
	wantPath(t, p, "/admin/users")

	p.Fill("#f-email", "dana@example.com")
	p.Choose("#f-role", "Operator")
	p.Click("#invite button.primary")
	if path := p.Path(); !strings.HasSuffix(path, "/created") {
		t.Fatalf("after inviting, browser is at %s", path)
	}
	p.WaitVisible(`button[data-copy="invitation-link"]`)
	wantText(t, p, ".notice-warning", "Copy this link now")
	link := browsertest.Eval[string](p, `document.getElementById("invitation-link").value`)
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(u.Path, "/invite/") {
		t.Fatalf("link reads %q", link)
	}
	p.Emulate(375, "light")
	png := p.Screenshot()
	for _, dir := range dirs {
		if err := os.WriteFile(filepath.Join(dir, "invitation-created-375-light.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	shoot := screenshotter(t, p, dirs)
	shoot("users", func() { p.Go("/admin/users"); p.WaitVisible(".users-table") })
	wantText(t, p, ".invitations-table", "dana@example.com")
	wantText(t, p, ".users-table", "you")
	wantText(t, p, ".users-table", "Never")

	shoot("invitation", func() { p.Go(u.Path); p.WaitVisible("#f-password") })
	wantText(t, p, "main", "operator")
	p.Fill("#f-password", "dana's own long password")
	p.Click("main form button[type=submit]")
	wantPath(t, p, "/admin")
	wantText(t, p, ".flash", "signed in as an operator")
	if n := browsertest.Eval[int](p, `document.querySelectorAll('.sidebar a[href="/admin/users"], .sidebar a[href="/admin/tokens"]').length`); n != 0 {
		t.Errorf("an operator's navigation shows %d admin-only entries", n)
	}

	// A viewer's incident page: the timeline, no forms.
	inc, err := srv.Store.CreateIncident(t.Context(), models.DefaultPageID, models.IncidentInput{Title: "Slow API", Status: models.IncidentInvestigating,
		Impact: models.ImpactMinor, Message: "We are looking into slow responses."})
	if err != nil {
		t.Fatal(err)
	}
	p.Click(`.sidebar-foot button.link`) // sign out
	p.Go("/login")
	p.Fill("#f-email", "viewer.with.a.rather.long.address@example.com")
	p.Fill("#f-password", webtest.AdminPassword)
	p.Click("main form button[type=submit]")
	wantPath(t, p, "/admin")
	incidentPath := "/admin/incidents/" + strconv.FormatInt(inc.ID, 10)
	shoot("viewer-incident", func() { p.Go(incidentPath); p.WaitVisible(".timeline") })
	if n := browsertest.Eval[int](p, `document.querySelectorAll("main form").length`); n != 0 {
		t.Errorf("a viewer's incident page holds %d forms", n)
	}
	shoot("viewer-components", func() { p.Go("/admin/components"); p.WaitVisible(".components-table") })
	if n := browsertest.Eval[int](p, `document.querySelectorAll("main form").length`); n != 0 {
		t.Errorf("a viewer's components page holds %d forms", n)
	}
	assertNoDialogsOrConsoleErrors(t, p, dialogs())
}
