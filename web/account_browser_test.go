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

// TestBrowserAccount: an operator reaches their account from the
// sidebar, sees where they are signed in, gets a wrong current password
// explained, makes an API token offered only their role's scopes,
// revokes it through the inline confirmation, and signs out everywhere
// else; each screen is photographed at phone and desktop widths, light
// and dark.
func TestBrowserAccount(t *testing.T) {
	srv := webtest.Start(t, models.SQLite)
	p := browsertest.Open(t, srv.URL)
	dialogs := p.WatchDialogs()
	dirs := screenshotDirs(t)
	seedStatusPage(t, srv)
	op, err := srv.Store.CreateUser(context.Background(), models.UserInput{Email: "dana.operator@example.com", Password: webtest.AdminPassword, Role: models.RoleOperator})
	modelstest.Fatal(t, err, "operator")
	firefox := signInAs(t, srv, op.Email, webtest.AdminPassword, firefoxUA)
	phone := signInAs(t, srv, op.Email, webtest.AdminPassword,
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")

	p.Go("/login")
	p.Fill("#f-email", op.Email)
	p.Fill("#f-password", webtest.AdminPassword)
	p.Click("main form button[type=submit]")
	wantPath(t, p, "/admin")
	p.Click(`.sidebar a.who`)
	wantPath(t, p, "/admin/account")
	wantText(t, p, ".role-tag", "Operator")
	wantText(t, p, ".sessions-table tr.current", "Headless Chrome on Linux")
	wantText(t, p, ".sessions-table tbody", "Firefox on Linux")
	wantText(t, p, ".sessions-table tbody", "Safari on iPhone")

	shoot := screenshotter(t, p, dirs)
	shoot("account", func() { p.Go("/admin/account"); p.WaitVisible(".sessions-table") })
	shoot("account-wrong-password", func() {
		p.Go("/admin/account")
		p.Fill("#f-current_password", "not my password")
		p.Fill("#f-new_password", "a brand new passphrase")
		p.Fill("#f-new_password_again", "a brand new passphrase")
		if status := p.Click(`form[action="/admin/account/password"] button.primary`); status != http.StatusUnprocessableEntity {
			t.Errorf("wrong current password: status %d, want 422", status)
		}
		p.WaitVisible("#e-current_password")
	})

	p.Click(`.tabs a[href="/admin/account/tokens"]`)
	wantPath(t, p, "/admin/account/tokens")
	offered := browsertest.Eval[[]string](p, `[...document.querySelectorAll('input[name=scopes]')].map(i => i.value)`)
	if strings.Join(offered, " ") != "read components:write incidents:write maintenance:write channels:write" {
		t.Errorf("an operator is offered %v", offered)
	}
	shoot("account-tokens-empty", func() { p.Go("/admin/account/tokens"); p.WaitVisible(".empty-state") })
	p.Go("/admin/account/tokens")
	p.Fill("#f-name", "Alertmanager")
	p.Check("#f-scope-incidents-write")
	p.Click("form.own-token-form button.primary")
	if !strings.HasSuffix(p.Path(), "/created") {
		t.Fatalf("after creating, the browser is at %s", p.Path())
	}
	token := browsertest.Eval[string](p, `document.getElementById("api-token").value`)
	if res := apiCall(t, srv, token, http.MethodGet, "/api/v1/incidents", ""); res.Status != http.StatusOK {
		t.Fatalf("the new token: %d", res.Status)
	}
	p.Click(`.actions a.primary`)
	wantPath(t, p, "/admin/account/tokens")
	wantText(t, p, ".own-tokens tbody tr", "Alertmanager")
	shoot("account-tokens", func() { p.Go("/admin/account/tokens"); p.WaitVisible(".own-tokens") })

	shoot("account-token-revoke", func() {
		p.Go("/admin/account/tokens")
		p.Check(".own-tokens details.confirm-inline summary")
		p.WaitVisible(".own-tokens details.confirm-inline form button")
	})
	wantText(t, p, ".own-tokens details.confirm-inline form", "stops working")
	p.Click(".own-tokens details.confirm-inline form button")
	wantPath(t, p, "/admin/account/tokens")
	wantText(t, p, ".flash-success", "Token “Alertmanager” revoked.")
	if res := apiCall(t, srv, token, http.MethodGet, "/api/v1/incidents", ""); res.Status != http.StatusUnauthorized {
		t.Fatalf("the revoked token: %d", res.Status)
	}

	p.Click(`.tabs a[href="/admin/account"]`)
	p.Click(`form.end-others button`)
	wantText(t, p, ".flash-success", "Signed out 2 other sessions.")
	wantSignedIn(t, firefox, "firefox", false)
	wantSignedIn(t, phone, "phone", false)
	if n := browsertest.Eval[int](p, `document.querySelectorAll(".sessions-table tbody tr").length`); n != 1 {
		t.Errorf("%d sessions listed after signing out everywhere else, want 1", n)
	}
	assertNoDialogsOrConsoleErrors(t, p, dialogs())
}
