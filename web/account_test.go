package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

const firefoxUA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

// signInAs signs email in from a client sending userAgent.
func signInAs(t *testing.T, s *webtest.Server, email, password, userAgent string) *webtest.Client {
	t.Helper()
	c := s.NewClient(t)
	c.SetUserAgent(userAgent)
	res := c.Submit("/login", "/login", url.Values{"email": {email}, "password": {password}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d\n%s", email, res.Status, res.Body)
	}
	return c
}

func countAudit(t *testing.T, s *webtest.Server, action string) int {
	t.Helper()
	es, err := s.Store.AuditEntries(context.Background(), models.AuditFilter{Action: action})
	modelstest.Fatal(t, err, "audit")
	return len(es)
}

func wantSignedIn(t *testing.T, c *webtest.Client, who string, in bool) {
	t.Helper()
	res := c.Get("/admin/account")
	switch {
	case in && res.Status != http.StatusOK:
		t.Fatalf("%s: /admin/account %d, want signed in", who, res.Status)
	case !in && (res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Location, "/login")):
		t.Fatalf("%s: /admin/account %d %q, want signed out", who, res.Status, res.Location)
	}
}

// TestAccountChangesPassword: any role changes their own password with
// the current one; wrong, weak, mistyped, bad-text and forged posts are
// refused with nothing changed; success signs out the other sessions
// only.
func TestAccountChangesPassword(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		s.SetUp(t)
		_, c := s.AddUser(t, "vi@example.com", models.RoleViewer)
		other := signInAs(t, s, "vi@example.com", webtest.AdminPassword, firefoxUA)

		page := c.Get("/admin/account")
		if page.Status != http.StatusOK {
			t.Fatalf("account page: %d", page.Status)
		}
		for _, want := range []string{"vi@example.com", "Viewer", "Reads everything in the admin", "Firefox on Linux", "a Go program", "This browser", "Sign out everywhere else"} {
			if !strings.Contains(page.Body, want) {
				t.Errorf("account page lacks %q", want)
			}
		}
		if n := strings.Count(page.Body, "This browser"); n != 1 {
			t.Errorf("%d sessions marked as this browser, want 1", n)
		}

		post := func(current, next, again string) webtest.Response {
			return c.Submit("/admin/account", "/admin/account/password", url.Values{
				"current_password": {current}, "new_password": {next}, "new_password_again": {again}})
		}
		const fresh = "a brand new passphrase"
		for _, tc := range []struct {
			name, current, next, again, want string
		}{
			{"wrong current password", "not my password", fresh, fresh, "That is not your current password."},
			{"no current password", "", fresh, fresh, "Enter your current password."},
			{"weak new password", webtest.AdminPassword, "password12", "password12", "too easy to guess"},
			{"new password built from the e-mail", webtest.AdminPassword, "vi@example.com", "vi@example.com", "too easy to guess"},
			{"mistyped again", webtest.AdminPassword, fresh, fresh + "x", "The two new passwords differ."},
			{"NUL", webtest.AdminPassword, "a brand\x00new passphrase", "a brand\x00new passphrase", "U+0000"},
			{"invalid UTF-8", webtest.AdminPassword, "a brand\xffnew passphrase", "a brand\xffnew passphrase", "UTF-8"},
			{"XSS as the current password", "<script>alert(1)</script>", fresh, fresh, "That is not your current password."},
		} {
			res := post(tc.current, tc.next, tc.again)
			if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, tc.want) {
				t.Errorf("%s: %d, want 422 saying %q\n%.2000s", tc.name, res.Status, tc.want, res.Body)
			}
			if strings.Contains(res.Body, "<script>alert(1)") || strings.Contains(res.Body, "brand new passphrase") {
				t.Errorf("%s: the page shows a password it was sent", tc.name)
			}
		}
		if n := countAudit(t, s, "user.wrong_password"); n != 2 {
			t.Errorf("%d wrong password entries, want 2 (an empty one is no attempt)", n)
		}
		forged := c.Post("/admin/account/password", url.Values{"_csrf": {"forged"}, "current_password": {webtest.AdminPassword},
			"new_password": {fresh}, "new_password_again": {fresh}})
		if forged.Status != http.StatusForbidden {
			t.Fatalf("forged form: %d, want 403", forged.Status)
		}
		if _, err := s.Store.Authenticate(context.Background(), "vi@example.com", webtest.AdminPassword); err != nil {
			t.Fatalf("a refused change changed the password: %v", err)
		}
		wantSignedIn(t, other, "the other browser after refused changes", true)

		res := post(webtest.AdminPassword, fresh, fresh)
		if res.Status != http.StatusSeeOther || res.Location != "/admin/account" {
			t.Fatalf("change password: %d %q\n%s", res.Status, res.Location, res.Body)
		}
		if page := c.Get("/admin/account"); !strings.Contains(page.Body, "Password changed. Your other session was signed out.") {
			t.Errorf("no confirmation:\n%.3000s", page.Body)
		}
		wantSignedIn(t, c, "the browser that changed it", true)
		wantSignedIn(t, other, "the other browser", false)
		signInAs(t, s, "vi@example.com", fresh, firefoxUA)
		if n := countAudit(t, s, "user.password"); n != 1 {
			t.Errorf("%d user.password entries, want 1", n)
		}
	})
}

// TestAccountChangesEmail: the password is required, duplicates are
// refused ignoring case, bad text and markup are refused and shown
// escaped.
func TestAccountChangesEmail(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		s.SetUp(t)
		_, c := s.AddUser(t, "op@example.com", models.RoleOperator)
		post := func(email, password string) webtest.Response {
			return c.Submit("/admin/account", "/admin/account/email", url.Values{"email": {email}, "email_password": {password}})
		}
		for _, tc := range []struct {
			name, email, password, want string
		}{
			{"taken, other case", "OPS@Example.com", webtest.AdminPassword, "Another user has this e-mail address."},
			{"wrong password", "op2@example.com", "not my password", "That is not your current password."},
			{"no password", "op2@example.com", "", "Enter your current password."},
			{"not an address", "nobody", webtest.AdminPassword, "Enter a valid e-mail address"},
			{"XSS", `"><script>alert(1)</script>@example.com`, webtest.AdminPassword, "Enter a valid e-mail address"},
			{"NUL", "op\x002@example.com", webtest.AdminPassword, "U+0000"},
			{"invalid UTF-8", "op\xff2@example.com", webtest.AdminPassword, "UTF-8"},
			{"too long", strings.Repeat("a", 250) + "@example.com", webtest.AdminPassword, "at most 254"},
		} {
			res := post(tc.email, tc.password)
			if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, tc.want) {
				t.Errorf("%s: %d, want 422 saying %q\n%.2000s", tc.name, res.Status, tc.want, res.Body)
			}
			if strings.Contains(res.Body, "<script>alert(1)") {
				t.Errorf("%s: markup reached the page unescaped", tc.name)
			}
		}
		if res := post(`"><script>alert(1)</script>@example.com`, webtest.AdminPassword); !strings.Contains(res.Body, `value="&#34;&gt;&lt;script&gt;`) {
			t.Errorf("the refused address is not kept, escaped, in the field:\n%.3000s", res.Body)
		}
		forged := c.Post("/admin/account/email", url.Values{"email": {"op2@example.com"}, "email_password": {webtest.AdminPassword}})
		if forged.Status != http.StatusForbidden {
			t.Fatalf("form without CSRF token: %d, want 403", forged.Status)
		}
		if countAudit(t, s, "user.email") != 0 {
			t.Fatal("a refused change was audited")
		}
		res := post("Op.New@Example.com", webtest.AdminPassword)
		if res.Status != http.StatusSeeOther {
			t.Fatalf("change e-mail: %d\n%s", res.Status, res.Body)
		}
		page := c.Get("/admin/account")
		if !strings.Contains(page.Body, "Sign in with op.new@example.com from now on.") || !strings.Contains(page.Body, `class="who"`) {
			t.Fatalf("after the change:\n%.3000s", page.Body)
		}
		s.SignIn(t, "op.new@example.com", webtest.AdminPassword)
		if countAudit(t, s, "user.email") != 1 {
			t.Fatal("the change was not audited")
		}
	})
}

var sessionEndRE = regexp.MustCompile(`action="/admin/account/sessions/([A-Za-z0-9_-]{16})/end"`)

// TestAccountEndsSessions: one other session ends by its own button,
// the rest with "Sign out everywhere else"; this browser stays in.
func TestAccountEndsSessions(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		s.SetUp(t)
		_, c := s.AddUser(t, "vi@example.com", models.RoleViewer)
		firefox := signInAs(t, s, "vi@example.com", webtest.AdminPassword, firefoxUA)
		phone := signInAs(t, s, "vi@example.com", webtest.AdminPassword,
			"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")

		// From the phone, end the Firefox session by its row's button.
		page := phone.Get("/admin/account")
		handles := sessionEndRE.FindAllStringSubmatch(page.Body, -1)
		if len(handles) != 2 {
			t.Fatalf("%d sign-out buttons, want one per other session (2)", len(handles))
		}
		rows := strings.Split(page.Body, "<tr")
		var firefoxHandle string
		for _, r := range rows {
			if strings.Contains(r, "Firefox on Linux") {
				if m := sessionEndRE.FindStringSubmatch(r); m != nil {
					firefoxHandle = m[1]
				}
			}
		}
		if firefoxHandle == "" {
			t.Fatal("no sign-out button on the Firefox row")
		}
		if strings.Contains(page.Body, firefox.CookieHeader()) {
			t.Fatal("the page shows a session cookie")
		}
		res := phone.Submit("/admin/account", "/admin/account/sessions/"+firefoxHandle+"/end", nil)
		if res.Status != http.StatusSeeOther {
			t.Fatalf("end one session: %d\n%s", res.Status, res.Body)
		}
		wantSignedIn(t, firefox, "firefox", false)
		wantSignedIn(t, c, "the first browser", true)
		if again := phone.Submit("/admin/account", "/admin/account/sessions/"+firefoxHandle+"/end", nil); again.Status != http.StatusSeeOther ||
			!strings.Contains(phone.Get("/admin/account").Body, "That session had already ended.") {
			t.Fatalf("ending it again: %d", again.Status)
		}
		if bad := phone.Submit("/admin/account", "/admin/account/sessions/%3Cscript%3E/end", nil); bad.Status != http.StatusNotFound {
			t.Fatalf("a handle of the wrong shape: %d, want 404", bad.Status)
		}

		// Sign out everywhere else, from the phone.
		res = phone.Submit("/admin/account", "/admin/account/sessions/others", nil)
		if res.Status != http.StatusSeeOther {
			t.Fatalf("sign out everywhere else: %d", res.Status)
		}
		page = phone.Get("/admin/account") // signed in, with the notice
		wantSignedIn(t, c, "the first browser", false)
		if !strings.Contains(page.Body, "Signed out 1 other session.") || strings.Contains(page.Body, "Sign out everywhere else") {
			i := strings.Index(page.Body, `<main`)
			t.Fatalf("after signing out everywhere else:\n%s", page.Body[i:])
		}
		if n := countAudit(t, s, "user.sessions_end"); n != 2 {
			t.Fatalf("%d user.sessions_end entries, want 2", n)
		}
		// Another user's sessions are untouched.
		admin := s.SignIn(t, webtest.AdminEmail, webtest.AdminPassword)
		wantSignedIn(t, admin, "the admin", true)
	})
}

var scopeBoxRE = regexp.MustCompile(`name="scopes" value="([a-z:]+)"`)

// TestOwnTokensStayWithinTheRole: the form offers the role's scopes
// only, a forged scope beyond it is refused by name, a demoted user's
// token can no longer write, and nobody revokes another's token here.
func TestOwnTokensStayWithinTheRole(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		admin := s.SetUp(t)
		op, c := s.AddUser(t, "op@example.com", models.RoleOperator)
		_, viewer := s.AddUser(t, "vi@example.com", models.RoleViewer)

		offered := func(c *webtest.Client) []string {
			var out []string
			for _, m := range scopeBoxRE.FindAllStringSubmatch(c.Get("/admin/account/tokens").Body, -1) {
				out = append(out, m[1])
			}
			return out
		}
		if got := strings.Join(offered(viewer), " "); got != "read" {
			t.Errorf("a viewer is offered %q, want read only", got)
		}
		if got := strings.Join(offered(c), " "); got != "read components:write incidents:write maintenance:write channels:write" {
			t.Errorf("an operator is offered %q", got)
		}
		create := func(c *webtest.Client, name string, scopes ...string) webtest.Response {
			return c.Submit("/admin/account/tokens", "/admin/account/tokens", url.Values{"name": {name}, "scopes": scopes})
		}
		for _, tc := range []struct {
			client *webtest.Client
			scope  string
		}{{viewer, "incidents:write"}, {c, "page:write"}, {c, "users:write"}} {
			res := create(tc.client, "forged", "read", tc.scope)
			if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "“"+tc.scope+"”") {
				t.Errorf("forged scope %s: %d, want 422 naming it\n%.2000s", tc.scope, res.Status, res.Body)
			}
		}
		for _, tc := range []struct{ name, value, want string }{
			{"NUL", "my\x00token", "U+0000"},
			{"invalid UTF-8", "my\xfftoken", "UTF-8"},
			{"no name", "", "name"},
		} {
			if res := create(c, tc.value, "read"); res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, tc.want) {
				t.Errorf("%s: %d, want 422 saying %q", tc.name, res.Status, tc.want)
			}
		}
		if forged := c.Post("/admin/account/tokens", url.Values{"name": {"x"}, "scopes": {"read"}}); forged.Status != http.StatusForbidden {
			t.Fatalf("form without CSRF: %d, want 403", forged.Status)
		}
		if toks, _ := s.Store.UserTokens(context.Background(), op.ID); len(toks) != 0 {
			t.Fatalf("refused forms made tokens: %+v", toks)
		}

		res := create(c, "<script>alert(1)</script>", "incidents:write")
		if res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Location, "/admin/account/tokens/") {
			t.Fatalf("create: %d %q\n%s", res.Status, res.Location, res.Body)
		}
		shown := c.Get(res.Location)
		m := tokenValueRE.FindStringSubmatch(shown.Body)
		if m == nil || !strings.Contains(shown.Body, `href="/admin/account/tokens"`) {
			t.Fatalf("the created page:\n%.3000s", shown.Body)
		}
		plain := m[1]
		if again := c.Get(res.Location); again.Status != http.StatusSeeOther {
			t.Fatalf("the token shown twice: %d", again.Status)
		}
		list := c.Get("/admin/account/tokens")
		if strings.Contains(list.Body, "<script>alert(1)") || !strings.Contains(list.Body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Fatalf("the token's name is not escaped:\n%.3000s", list.Body)
		}
		body := `{"name":"From the token","status":"investigating","body":"Looking."}`
		if r := apiCall(t, s, plain, http.MethodPost, "/api/v1/incidents", body); r.Status != http.StatusCreated {
			t.Fatalf("operator's token opens an incident: %d\n%s", r.Status, r.Body)
		}

		// Demoted: the token still lists incidents:write, struck out, and
		// can only read.
		_, err := s.Store.SetUserRole(context.Background(), op.ID, models.RoleViewer)
		modelstest.Fatal(t, err, "demote")
		r := apiCall(t, s, plain, http.MethodPost, "/api/v1/incidents", body)
		wantAPIError(t, r, http.StatusForbidden, "forbidden", "")
		if r := apiCall(t, s, plain, http.MethodGet, "/api/v1/incidents", ""); r.Status != http.StatusOK {
			t.Fatalf("demoted token reads: %d", r.Status)
		}
		if list := c.Get("/admin/account/tokens"); !strings.Contains(list.Body, "<del") || !strings.Contains(list.Body, "beyond your role") {
			t.Fatalf("the demoted user's list does not strike the lost scope:\n%.3000s", list.Body)
		}

		// The admin's token is not the operator's to revoke; their own is.
		adminID, _ := createToken(t, admin, "Admin's", models.ScopeRead)
		if res := c.Submit("/admin/account/tokens", "/admin/account/tokens/"+itoa(adminID)+"/revoke", nil); res.Status != http.StatusNotFound {
			t.Fatalf("revoke another's token: %d, want 404", res.Status)
		}
		if tok, _ := s.Store.Token(context.Background(), adminID); tok.RevokedAt != nil {
			t.Fatal("another's token was revoked")
		}
		own, _ := s.Store.UserTokens(context.Background(), op.ID)
		if res := c.Submit("/admin/account/tokens", "/admin/account/tokens/"+itoa(own[0].ID)+"/revoke", nil); res.Status != http.StatusSeeOther {
			t.Fatalf("revoke own token: %d", res.Status)
		}
		r = apiCall(t, s, plain, http.MethodGet, "/api/v1/incidents", "")
		wantAPIError(t, r, http.StatusUnauthorized, "unauthorized", "")
		// The admin still sees every token, the operator's too.
		if all := admin.Get("/admin/tokens"); !strings.Contains(all.Body, "&lt;script&gt;") || !strings.Contains(all.Body, "Admin&#39;s") ||
			!strings.Contains(all.Body, "by op@example.com") {
			t.Fatalf("the admin's token list:\n%.3000s", all.Body)
		}
	})
}

// TestAccountLimitsWrongPasswords: after five wrong current passwords in
// a quarter of an hour, the account's forms answer 429 with Retry-After,
// even to the right password, and change nothing.
func TestAccountLimitsWrongPasswords(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		s.SetUp(t)
		_, c := s.AddUser(t, "vi@example.com", models.RoleViewer)
		for i := range 5 {
			res := c.Submit("/admin/account", "/admin/account/email", url.Values{"email": {"new@example.com"}, "email_password": {"guess " + itoa(int64(i))}})
			if res.Status != http.StatusUnprocessableEntity {
				t.Fatalf("wrong password %d: %d", i+1, res.Status)
			}
		}
		res := c.Submit("/admin/account", "/admin/account/password", url.Values{"current_password": {webtest.AdminPassword},
			"new_password": {"a brand new passphrase"}, "new_password_again": {"a brand new passphrase"}})
		if res.Status != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" || !strings.Contains(res.Body, "Too many wrong passwords") {
			t.Fatalf("sixth try: %d, Retry-After %q\n%.2000s", res.Status, res.Header.Get("Retry-After"), res.Body)
		}
		if _, err := s.Store.Authenticate(context.Background(), "vi@example.com", webtest.AdminPassword); err != nil {
			t.Fatalf("the refused change changed the password: %v", err)
		}
	})
}
