package web_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/web/browsertest"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestBrowserAPITokens creates a token in a real browser, reads it from
// the page that shows it once, uses it, then revokes it through the
// confirmation; along the way it screenshots each screen at phone and
// desktop widths, light and dark.
func TestBrowserAPITokens(t *testing.T) {
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

	shoot("tokens-empty", func() { p.Go("/admin/tokens"); p.WaitVisible(".empty-state") })
	p.Click(`.sidebar a[href="/admin/tokens"]`)
	wantPath(t, p, "/admin/tokens")
	p.Click(`.page-head a[href="/admin/tokens/new"]`)
	wantPath(t, p, "/admin/tokens/new")
	shoot("token-new-errors", func() {
		p.Go("/admin/tokens/new")
		p.Check("#f-scope-read") // untick the default: no name, no scope
		if status := p.Click("form.form-card button.primary"); status != http.StatusUnprocessableEntity {
			t.Errorf("empty token form: status %d, want 422", status)
		}
		p.WaitVisible("#e-scopes")
	})

	p.Go("/admin/tokens/new")
	p.Fill("#f-name", "Deploy pipeline")
	p.Check("#f-scope-components-write")
	p.Click("form.form-card button.primary")
	if path := p.Path(); !strings.HasSuffix(path, "/created") {
		t.Fatalf("after creating, browser is at %s", path)
	}
	p.WaitVisible(`button[data-copy="api-token"]`) // the script shows the copy button
	token := browsertest.Eval[string](p, `document.getElementById("api-token").value`)
	if !strings.HasPrefix(token, "hrd_") {
		t.Fatalf("token field reads %q", token)
	}
	wantText(t, p, ".notice-warning", "Copy this token now")
	wantText(t, p, ".body-box", "Authorization: Bearer "+token)
	created := p.Path()
	p.Emulate(375, "light")
	png := p.Screenshot()
	for _, dir := range dirs {
		if err := os.WriteFile(filepath.Join(dir, "token-created-375-light.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p.Emulate(1280, "dark")
	p.Go(created) // a reload shows it no more
	wantPath(t, p, "/admin/tokens")
	wantText(t, p, ".flash-warning", "shown only once")

	if res := apiCall(t, srv, token, http.MethodGet, "/api/v1/components", ""); res.Status != http.StatusOK {
		t.Fatalf("the new token: %d", res.Status)
	}
	shoot("tokens", func() { p.Go("/admin/tokens"); p.WaitVisible(".tokens-table") })
	wantText(t, p, ".tokens-table tbody tr", "Deploy pipeline")
	wantText(t, p, ".tokens-table tbody tr", "components:write")
	wantText(t, p, ".tokens-table tbody tr", "Active")

	p.Click(".tokens-table tbody tr a.danger")
	wantText(t, p, "h1", "Revoke “Deploy pipeline”?")
	p.Click("form button.danger")
	wantPath(t, p, "/admin/tokens")
	wantText(t, p, ".flash-success", "Token “Deploy pipeline” revoked.")
	wantText(t, p, ".tokens-table tbody tr", "Revoked")
	if res := apiCall(t, srv, token, http.MethodGet, "/api/v1/components", ""); res.Status != http.StatusUnauthorized {
		t.Fatalf("the revoked token: %d", res.Status)
	}
	assertNoDialogsOrConsoleErrors(t, p, dialogs())
}
