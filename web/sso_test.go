package web_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web"
	"github.com/heraldstatus/herald/web/webtest"
	"github.com/oauth2-proxy/mockoidc"
)

// ssoWorld is Herald configured for single sign-on with a real OpenID
// Connect provider (mockoidc) on 127.0.0.1. Each test gives the next
// person to sign in with QueueUser; down makes the provider answer 503.
type ssoWorld struct {
	srv  *webtest.Server
	idp  *mockoidc.MockOIDC
	down *atomic.Bool
}

// The role mapping of these tests.
const (
	ssoDomains = "example.com=operator,corp.example=viewer"
	ssoGroups  = "herald-admins=admin,oncall=operator"
)

func startSSO(t *testing.T, engine models.Engine, store *models.Store, down bool) *ssoWorld {
	t.Helper()
	idp, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	var isDown atomic.Bool
	isDown.Store(down)
	idp.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isDown.Load() {
				http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := idp.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idp.Shutdown() })
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + hl.Addr().String()
	srv := webtest.StartWith(t, webtest.Options{Engine: engine, Store: store, Listener: hl, Configure: func(c *web.Config) {
		c.BaseURL = base
		c.OIDCIssuer = idp.Issuer()
		c.OIDCClientID = idp.ClientID
		c.OIDCClientSecret = idp.ClientSecret
		c.OIDCRedirectURL = base + "/auth/oidc/callback"
		c.OIDCDomains = ssoDomains
		c.OIDCGroups = ssoGroups
		c.OIDCGroupsClaim = "groups"
	}})
	return &ssoWorld{srv: srv, idp: idp, down: &isDown}
}

// person is someone at the provider.
func person(sub, email string, groups ...string) *mockoidc.MockUser {
	return &mockoidc.MockUser{Subject: sub, Email: email, EmailVerified: true, Groups: groups}
}

// provider follows Herald's redirect to the provider's authorization
// endpoint, which answers with a redirect back to Herald's callback; it
// returns that callback's path and query.
func (w *ssoWorld) provider(t *testing.T, authURL string) string {
	t.Helper()
	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := plain.Get(authURL)
	if err != nil {
		t.Fatalf("provider: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(loc, w.srv.URL+"/auth/oidc/callback?") {
		t.Fatalf("provider answered %d to %q: %s", res.StatusCode, loc, body)
	}
	return strings.TrimPrefix(loc, w.srv.URL)
}

// start asks Herald to begin a sign-in and checks the request it sends
// the browser to the provider with.
func (w *ssoWorld) start(t *testing.T, c *webtest.Client, path string) string {
	t.Helper()
	res := c.Get(path)
	if res.Status != http.StatusFound || !strings.HasPrefix(res.Location, w.idp.AuthorizationEndpoint()+"?") {
		t.Fatalf("GET %s: %d to %q, want a redirect to the provider\n%.300s", path, res.Status, res.Location, res.Body)
	}
	u, _ := url.Parse(res.Location)
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) < 43 || len(q.Get("state")) < 32 ||
		len(q.Get("nonce")) < 32 || q.Get("client_id") != w.idp.ClientID || q.Get("redirect_uri") != w.srv.URL+"/auth/oidc/callback" ||
		!strings.Contains(q.Get("scope"), "openid") || !strings.Contains(q.Get("scope"), "email") {
		t.Fatalf("authorization request lacks PKCE S256, state, nonce, client or redirect: %s", res.Location)
	}
	return res.Location
}

// signIn runs the whole flow for p in c and returns the callback's answer.
func (w *ssoWorld) signIn(t *testing.T, c *webtest.Client, p *mockoidc.MockUser, startPath string) webtest.Response {
	t.Helper()
	w.idp.QueueUser(p)
	return c.Get(w.provider(t, w.start(t, c, startPath)))
}

func refusedEntries(t *testing.T, s *models.Store) []models.AuditEntry {
	t.Helper()
	es, err := s.AuditEntries(context.Background(), models.AuditFilter{Action: "access.sso_refused"})
	modelstest.Fatal(t, err, "audit entries")
	return es
}

func userCount(t *testing.T, s *models.Store) int {
	t.Helper()
	us, err := s.Users(context.Background())
	modelstest.Fatal(t, err, "users")
	return len(us)
}

// TestSSOSignIn: the whole flow through real HTTP against a real
// provider: users are created at their first sign-in with the role their
// e-mail domain or groups map to (the highest wins), follow the mapping at
// each sign-in, can never sign in with a password, and a password account
// is linked by its verified e-mail.
func TestSSOSignIn(t *testing.T) {
	for _, e := range modelstest.Engines {
		t.Run(string(e), func(t *testing.T) {
			w := startSSO(t, e, nil, false)
			s := w.srv
			s.SetUp(t)
			ctx := context.Background()
			issuer := w.idp.Issuer()

			login := s.NewClient(t).Get("/login")
			if !strings.Contains(login.Body, `href="/auth/oidc/start"`) || !strings.Contains(login.Body, "Sign in with SSO") ||
				!strings.Contains(login.Body, `action="/login"`) {
				t.Fatalf("login page lacks the SSO button or the password form:\n%s", login.Body)
			}

			cases := []struct {
				name  string
				who   *mockoidc.MockUser
				want  models.Role
				start string
				lands string
			}{
				{"by e-mail domain", person("sub-jane", "jane@example.com", "engineering"), models.RoleOperator, "/auth/oidc/start", "/admin"},
				{"by group", person("sub-bob", "bob@elsewhere.example", "herald-admins"), models.RoleAdmin, "/auth/oidc/start", "/admin"},
				{"the highest of domain and group", person("sub-alice", "Alice@Corp.example", "oncall"), models.RoleOperator,
					"/auth/oidc/start?next=" + url.QueryEscape("/admin/incidents"), "/admin/incidents"},
				{"a domain alone", person("sub-carol", "carol@corp.example"), models.RoleViewer, "/auth/oidc/start?next=//evil.example", "/admin"},
			}
			for _, tc := range cases {
				c := s.NewClient(t)
				res := w.signIn(t, c, tc.who, tc.start)
				if res.Status != http.StatusSeeOther || res.Location != tc.lands {
					t.Fatalf("%s: callback %d to %q, want 303 to %s\n%.500s", tc.name, res.Status, res.Location, tc.lands, res.Body)
				}
				if page := c.Get("/admin"); page.Status != http.StatusOK || !strings.Contains(page.Body, strings.ToLower(tc.who.Email)) {
					t.Fatalf("%s: /admin after sign-in: %d", tc.name, page.Status)
				}
				u, err := s.Store.UserByEmail(ctx, tc.who.Email)
				modelstest.Fatal(t, err, "%s: user", tc.name)
				if u.Role != tc.want || u.PasswordHash != "" || u.OIDCSubject == nil || u.LastSignInAt == nil {
					t.Errorf("%s: user %+v, want role %s, no password, linked, signed in", tc.name, u, tc.want)
				}
				created, err := s.Store.AuditEntries(ctx, models.AuditFilter{Action: "user.create", ObjectID: modelsID(u.ID)})
				modelstest.Fatal(t, err, "audit")
				if len(created) != 1 || created[0].ActorName != "sso:"+issuer+" "+strings.ToLower(tc.who.Email) {
					t.Errorf("%s: user.create audit %+v, want one by the SSO identity", tc.name, created)
				}
				// No password: the password form never signs them in.
				bad := s.NewClient(t).Submit("/login", "/login", url.Values{"email": {tc.who.Email}, "password": {""}})
				if bad.Status != http.StatusUnauthorized {
					t.Errorf("%s: password sign-in of an SSO user: %d, want 401", tc.name, bad.Status)
				}
			}

			// Jane joins herald-admins at the provider: her next sign-in
			// makes her an admin, audited as her SSO identity.
			c := s.NewClient(t)
			if res := w.signIn(t, c, person("sub-jane", "jane@example.com", "herald-admins"), "/auth/oidc/start"); res.Status != http.StatusSeeOther {
				t.Fatalf("second sign-in: %d\n%s", res.Status, res.Body)
			}
			jane, err := s.Store.UserByEmail(ctx, "jane@example.com")
			modelstest.Fatal(t, err, "jane")
			changed, err := s.Store.AuditEntries(ctx, models.AuditFilter{Action: "user.role", ObjectID: modelsID(jane.ID)})
			modelstest.Fatal(t, err, "audit")
			if jane.Role != models.RoleAdmin || len(changed) != 1 || changed[0].ActorName != "sso:"+issuer+" jane@example.com" {
				t.Errorf("jane after joining herald-admins: role %s, role audit %+v", jane.Role, changed)
			}
			// The same mapping again changes nothing.
			w.signIn(t, s.NewClient(t), person("sub-jane", "jane@example.com", "herald-admins"), "/auth/oidc/start")
			if again, _ := s.Store.AuditEntries(ctx, models.AuditFilter{Action: "user.role", ObjectID: modelsID(jane.ID)}); len(again) != 1 {
				t.Errorf("an unchanged role was audited again: %d entries", len(again))
			}

			// The admin made at setup signs in with SSO: linked by the
			// verified e-mail, keeps their password.
			before := userCount(t, s.Store)
			if res := w.signIn(t, s.NewClient(t), person("sub-ops", webtest.AdminEmail, "herald-admins"), "/auth/oidc/start"); res.Status != http.StatusSeeOther {
				t.Fatalf("linking sign-in: %d\n%s", res.Status, res.Body)
			}
			ops, err := s.Store.UserByEmail(ctx, webtest.AdminEmail)
			modelstest.Fatal(t, err, "ops")
			linked, _ := s.Store.AuditEntries(ctx, models.AuditFilter{Action: "user.sso_link", ObjectID: modelsID(ops.ID)})
			if userCount(t, s.Store) != before || ops.OIDCSubject == nil || ops.Role != models.RoleAdmin || len(linked) != 1 {
				t.Errorf("linking: users %d→%d, %+v, link audit %d", before, userCount(t, s.Store), ops, len(linked))
			}
			s.SignIn(t, webtest.AdminEmail, webtest.AdminPassword)
			// Another identity with the same e-mail is refused.
			res := w.signIn(t, s.NewClient(t), person("sub-impostor", webtest.AdminEmail, "herald-admins"), "/auth/oidc/start")
			if res.Status != http.StatusForbidden || !strings.Contains(res.Body, "already linked to another identity") {
				t.Errorf("second identity for a linked e-mail: %d\n%.300s", res.Status, res.Body)
			}
		})
	}
}

func modelsID(id int64) string { return strconv.FormatInt(id, 10) }

// TestSSORefusals: a callback with a wrong or missing state, a replayed
// callback, an ID token with another sign-in's nonce, an unverified
// e-mail and an identity no role is mapped to each get a clear 4xx page
// and an access.sso_refused audit entry, and nobody is created or signed
// in.
func TestSSORefusals(t *testing.T) {
	for _, e := range modelstest.Engines {
		t.Run(string(e), func(t *testing.T) {
			w := startSSO(t, e, nil, false)
			s := w.srv
			s.SetUp(t)
			cases := []struct {
				name   string
				status int
				page   string
				// callback returns the callback path to request with c.
				callback func(t *testing.T, c *webtest.Client) string
			}{
				{"wrong state", http.StatusBadRequest, "did not start in this browser", func(t *testing.T, c *webtest.Client) string {
					w.idp.QueueUser(person("sub-x", "x@example.com"))
					cb := w.provider(t, w.start(t, c, "/auth/oidc/start"))
					u, _ := url.Parse(cb)
					q := u.Query()
					q.Set("state", "forged-"+q.Get("state"))
					return u.Path + "?" + q.Encode()
				}},
				{"no sign-in started in this browser", http.StatusBadRequest, "did not start in this browser", func(t *testing.T, c *webtest.Client) string {
					w.idp.QueueUser(person("sub-x", "x@example.com"))
					return w.provider(t, w.start(t, s.NewClient(t), "/auth/oidc/start"))
				}},
				{"a callback used twice", http.StatusBadRequest, "did not start in this browser", func(t *testing.T, c *webtest.Client) string {
					w.idp.QueueUser(person("sub-x", "x@example.com"))
					cb := w.provider(t, w.start(t, c, "/auth/oidc/start"))
					if res := c.Get(cb); res.Status != http.StatusSeeOther {
						t.Fatalf("first use: %d", res.Status)
					}
					c.Post("/logout", url.Values{"_csrf": {c.CSRF("/admin")}})
					return cb
				}},
				{"wrong nonce", http.StatusBadRequest, "meant for another sign-in", func(t *testing.T, c *webtest.Client) string {
					w.idp.QueueUser(person("sub-x", "x@example.com"))
					u, _ := url.Parse(w.start(t, c, "/auth/oidc/start"))
					q := u.Query()
					q.Set("nonce", "nonce-of-another-sign-in-0123456789")
					u.RawQuery = q.Encode()
					return w.provider(t, u.String())
				}},
				{"an expired ID token", http.StatusBadRequest, "could not verify the identity provider", func(t *testing.T, c *webtest.Client) string {
					w.idp.QueueUser(person("sub-x", "x@example.com"))
					w.idp.FastForward(-2 * time.Hour) // the provider issues tokens that expired long ago
					return w.provider(t, w.start(t, c, "/auth/oidc/start"))
				}},
				{"the provider refuses", http.StatusBadRequest, "did not sign you in (access_denied)", func(t *testing.T, c *webtest.Client) string {
					u, _ := url.Parse(w.start(t, c, "/auth/oidc/start"))
					return "/auth/oidc/callback?error=access_denied&state=" + url.QueryEscape(u.Query().Get("state"))
				}},
				{"unverified e-mail", http.StatusForbidden, "has not verified your e-mail address", func(t *testing.T, c *webtest.Client) string {
					p := person("sub-u", "unverified@example.com", "herald-admins")
					p.EmailVerified = false
					w.idp.QueueUser(p)
					return w.provider(t, w.start(t, c, "/auth/oidc/start"))
				}},
				{"no role mapped", http.StatusForbidden, "nobody@elsewhere.example may not sign in to Herald", func(t *testing.T, c *webtest.Client) string {
					w.idp.QueueUser(person("sub-n", "nobody@elsewhere.example", "visitors", "design"))
					return w.provider(t, w.start(t, c, "/auth/oidc/start"))
				}},
				{"a look-alike domain", http.StatusForbidden, "may not sign in to Herald", func(t *testing.T, c *webtest.Client) string {
					w.idp.QueueUser(person("sub-l", "eve@notexample.com"))
					return w.provider(t, w.start(t, c, "/auth/oidc/start"))
				}},
			}
			for _, tc := range cases {
				c := s.NewClient(t)
				cb := tc.callback(t, c)
				users, refused := userCount(t, s.Store), len(refusedEntries(t, s.Store))
				res := c.Get(cb)
				w.idp.FastForward(-w.idp.FastForward(0)) // the provider's clock is right again
				if res.Status != tc.status || !strings.Contains(res.Body, tc.page) {
					t.Errorf("%s: %d, want %d saying %q\n%.600s", tc.name, res.Status, tc.status, tc.page, res.Body)
				}
				if got := userCount(t, s.Store); got != users {
					t.Errorf("%s: users %d → %d, want none created", tc.name, users, got)
				}
				if got := refusedEntries(t, s.Store); len(got) != refused+1 {
					t.Errorf("%s: %d new access.sso_refused entries, want 1", tc.name, len(got)-refused)
				} else if !strings.HasPrefix(got[0].ActorName, "sso:"+w.idp.Issuer()+" ") {
					t.Errorf("%s: refusal audited as %q", tc.name, got[0].ActorName)
				}
				if res := c.Get("/admin"); res.Status != http.StatusSeeOther {
					t.Errorf("%s: /admin after the refusal: %d, want the redirect to sign-in", tc.name, res.Status)
				}
			}
		})
	}
}

// TestPasswordSignInSwitch: with SSO configured an admin switches password
// sign-in off: the sign-in page shows only SSO and POST /login answers
// 403; without SSO it cannot be switched off; and if SSO is removed from
// the configuration, password sign-in is back (the way in when the
// provider is gone).
func TestPasswordSignInSwitch(t *testing.T) {
	for _, e := range modelstest.Engines {
		t.Run(string(e), func(t *testing.T) {
			w := startSSO(t, e, nil, false)
			s := w.srv
			admin := s.SetUp(t)
			if page := admin.Get("/admin/settings"); !strings.Contains(page.Body, `action="/admin/settings/sign-in"`) ||
				!strings.Contains(page.Body, w.idp.Issuer()) {
				t.Fatalf("settings page lacks the sign-in card:\n%s", page.Body)
			}
			_, operator := s.AddUser(t, "op@example.com", models.RoleOperator)
			if page := operator.Get("/admin/settings"); strings.Contains(page.Body, `action="/admin/settings/sign-in"`) {
				t.Error("an operator is offered the sign-in setting")
			}
			// A form token taken while the password form was still shown.
			c := s.NewClient(t)
			token := c.CSRF("/login")
			res := admin.Submit("/admin/settings", "/admin/settings/sign-in", url.Values{"password_sign_in_shown": {"1"}})
			if res.Status != http.StatusSeeOther {
				t.Fatalf("switch off: %d\n%s", res.Status, res.Body)
			}
			if on, err := s.Store.PasswordSignIn(context.Background()); err != nil || on {
				t.Fatalf("password sign-in after switching off: %v %v", on, err)
			}
			audit, _ := s.Store.AuditEntries(context.Background(), models.AuditFilter{Action: "settings.password_sign_in"})
			if len(audit) != 1 || audit[0].ActorName != webtest.AdminEmail {
				t.Errorf("switch audited as %+v", audit)
			}
			login := c.Get("/login")
			if strings.Contains(login.Body, `action="/login"`) || !strings.Contains(login.Body, "Sign in with SSO") {
				t.Errorf("login page with password sign-in off:\n%s", login.Body)
			}
			refused := c.Post("/login", url.Values{"_csrf": {token}, "email": {webtest.AdminEmail}, "password": {webtest.AdminPassword}})
			if refused.Status != http.StatusForbidden || !strings.Contains(refused.Body, "Password sign-in is switched off") {
				t.Errorf("POST /login with password sign-in off: %d\n%.300s", refused.Status, refused.Body)
			}
			if res := c.Get("/admin"); res.Status != http.StatusSeeOther {
				t.Errorf("refused password sign-in signed in: /admin %d", res.Status)
			}
			// SSO still signs people in.
			if res := w.signIn(t, c, person("sub-j", "j@example.com"), "/auth/oidc/start"); res.Status != http.StatusSeeOther {
				t.Errorf("SSO with password sign-in off: %d", res.Status)
			}

			// The same database served without SSO: password sign-in is
			// back, and cannot be switched off.
			plain := webtest.StartWith(t, webtest.Options{Store: s.Store})
			if login := plain.NewClient(t).Get("/login"); strings.Contains(login.Body, "Sign in with SSO") || !strings.Contains(login.Body, `action="/login"`) {
				t.Errorf("login page without SSO:\n%s", login.Body)
			}
			back := plain.SignIn(t, webtest.AdminEmail, webtest.AdminPassword)
			if page := back.Get("/admin/settings"); !strings.Contains(page.Body, "Single sign-on is not configured") {
				t.Errorf("settings without SSO lack the note:\n%s", page.Body)
			}
			modelstest.Fatal(t, s.Store.SetPasswordSignIn(context.Background(), true), "switch on")
			// A form shown while SSO was configured, sent after it was not.
			res = back.Submit("/admin/settings", "/admin/settings/sign-in", url.Values{"password_sign_in_shown": {"1"}})
			if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "Password sign-in stays on") {
				t.Errorf("switching off without SSO: %d\n%.300s", res.Status, res.Body)
			}
			if on, _ := s.Store.PasswordSignIn(context.Background()); !on {
				t.Error("password sign-in was switched off without SSO")
			}
		})
	}
}

// TestSSOProviderDownAtStart: Herald starts while the provider is down;
// "Sign in with SSO" then says it is unavailable, and works as soon as
// the provider is back, without a restart.
func TestSSOProviderDownAtStart(t *testing.T) {
	for _, e := range modelstest.Engines {
		t.Run(string(e), func(t *testing.T) {
			w := startSSO(t, e, nil, true)
			s := w.srv
			s.SetUp(t)
			c := s.NewClient(t)
			res := c.Get("/auth/oidc/start")
			if res.Status != http.StatusServiceUnavailable || !strings.Contains(res.Body, "Single sign-on is unavailable") ||
				!strings.Contains(res.Body, `action="/login"`) {
				t.Fatalf("start while the provider is down: %d\n%.500s", res.Status, res.Body)
			}
			w.down.Store(false)
			if res := w.signIn(t, c, person("sub-late", "late@example.com"), "/auth/oidc/start"); res.Status != http.StatusSeeOther {
				t.Fatalf("sign-in once the provider is back: %d\n%.300s", res.Status, res.Body)
			}
		})
	}
}

// Without SSO configured its routes do not exist.
func TestSSORoutesOffWithoutConfiguration(t *testing.T) {
	s := webtest.Start(t, models.SQLite)
	s.SetUp(t)
	for _, path := range []string{"/auth/oidc/start", "/auth/oidc/callback?code=x&state=y"} {
		if res := s.NewClient(t).Get(path); res.Status != http.StatusNotFound {
			t.Errorf("%s without SSO: %d, want 404", path, res.Status)
		}
	}
}
