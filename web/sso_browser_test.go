package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/browsertest"
)

// TestBrowserSSOSignIn drives the whole redirect flow in Chromium: "Sign
// in with SSO" on the sign-in page → the provider (mockoidc on
// 127.0.0.1) → back at Herald's callback → signed in at /admin, the
// account created with its mapped role. Screenshots of the sign-in page
// with the SSO button, and with password sign-in off, at 375 and 1280 px,
// light and dark.
func TestBrowserSSOSignIn(t *testing.T) {
	for _, e := range modelstest.Engines {
		t.Run(string(e), func(t *testing.T) {
			w := startSSO(t, e, nil, false)
			w.srv.SetUp(t)
			p := browsertest.Open(t, w.srv.URL)
			shoot := screenshotter(t, p, screenshotDirs(t))
			if e == modelstest.Engines[0] {
				shoot("login-sso", func() {
					if status := p.Go("/login"); status != http.StatusOK {
						t.Fatalf("GET /login: %d", status)
					}
					p.WaitVisible("#sso-sign-in")
				})
			}
			p.Go("/admin/incidents")
			wantPath(t, p, "/login?next=%2Fadmin%2Fincidents")
			w.idp.QueueUser(person("sub-dana", "dana@example.com", "herald-admins"))
			if status := p.Click("#sso-sign-in"); status != http.StatusOK {
				t.Fatalf("after the SSO round trip: status %d at %s", status, p.Path())
			}
			wantPath(t, p, "/admin/incidents")
			wantText(t, p, ".sidebar .who", "dana@example.com")
			u, err := w.srv.Store.UserByEmail(context.Background(), "dana@example.com")
			modelstest.Fatal(t, err, "dana")
			if u.Role != models.RoleAdmin || u.PasswordHash != "" {
				t.Errorf("dana: role %s, password hash %q", u.Role, u.PasswordHash)
			}

			// Sign out; with password sign-in off, the page offers only SSO.
			if e == modelstest.Engines[0] {
				shoot("settings-sign-in", func() {
					p.Go("/admin/settings")
					p.WaitVisible("#sign-in")
					browsertest.Eval[bool](p, `(document.getElementById("sign-in").scrollIntoView(), true)`)
				})
			}
			p.Go("/admin/settings")
			p.Check(`#sign-in input[name="password_sign_in"]`)
			p.Click(`#sign-in button[type=submit]`)
			wantText(t, p, ".flash-success", "Password sign-in is off")
			p.Click(`.sidebar form[action="/logout"] button`)
			wantPath(t, p, "/login")
			if e == modelstest.Engines[0] {
				shoot("login-sso-only", func() {
					p.Go("/login")
					p.WaitVisible("#sso-sign-in")
				})
			}
			if n := browsertest.Eval[int](p, `document.querySelectorAll('form[action="/login"]').length`); n != 0 {
				t.Errorf("password form shown with password sign-in off")
			}
			w.idp.QueueUser(person("sub-dana", "dana@example.com", "herald-admins"))
			p.Click("#sso-sign-in")
			wantPath(t, p, "/admin")
			if got := p.Text(".sidebar .who"); !strings.Contains(got, "dana@example.com") {
				t.Errorf("signed in as %q", got)
			}
			if problems := p.ConsoleProblems(); len(problems) > 0 {
				t.Errorf("console errors:\n%s", strings.Join(problems, "\n"))
			}
		})
	}
}
