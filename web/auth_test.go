package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

func eachServer(t *testing.T, fn func(t *testing.T, s *webtest.Server)) {
	for _, e := range modelstest.Engines {
		t.Run(string(e), func(t *testing.T) { fn(t, webtest.Start(t, e)) })
	}
}

func TestSetupValidatesAndThenDisappears(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.NewClient(t)
		if res := c.Get("/admin"); res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Location, "/login") {
			t.Fatalf("/admin before setup: %d %q, want redirect to login", res.Status, res.Location)
		}
		if res := c.Get("/login"); res.Location != "/setup" {
			t.Fatalf("/login before setup redirects to %q, want /setup", res.Location)
		}
		cases := []struct {
			name  string
			form  url.Values
			error string
			kept  string
		}{
			{"empty page name", url.Values{"page_name": {" "}, "email": {"a@example.com"}, "password": {"long enough pw"}}, "Give your status page a name.", `value="a@example.com"`},
			{"long page name", url.Values{"page_name": {strings.Repeat("n", 101)}, "email": {"a@example.com"}, "password": {"long enough pw"}}, "at most 100", `value="a@example.com"`},
			{"bad email", url.Values{"page_name": {"Acme"}, "email": {"not-an-address"}, "password": {"long enough pw"}}, "valid e-mail", `value="Acme"`},
			{"short password", url.Values{"page_name": {"Acme"}, "email": {"a@example.com"}, "password": {"short"}}, "at least 10", `value="Acme"`},
			// Long enough but easy to guess: refused, with the reason.
			{"common digits", url.Values{"page_name": {"Acme"}, "email": {"a@example.com"}, "password": {"1234567890"}}, "most common passwords", `value="Acme"`},
			{"common password", url.Values{"page_name": {"Acme"}, "email": {"a@example.com"}, "password": {"password12"}}, "most common passwords", `value="Acme"`},
			{"the e-mail", url.Values{"page_name": {"Acme"}, "email": {"ops.team@example.com"}, "password": {"ops.team@example.com"}}, "your e-mail address or the page", `value="Acme"`},
			{"the page name", url.Values{"page_name": {"Zyxwine Cloud"}, "email": {"a@example.com"}, "password": {"zyxwinecloud"}}, "your e-mail address or the page", `value="Zyxwine Cloud"`},
			{"keyboard walk", url.Values{"page_name": {"Acme"}, "email": {"a@example.com"}, "password": {"qazwsxedcrfv"}}, "too easy to guess", `value="Acme"`},
			{"xss in name", url.Values{"page_name": {`<script>alert(1)</script>`}, "email": {"bad"}, "password": {"long enough pw"}}, "valid e-mail", `value="&lt;script&gt;alert(1)&lt;/script&gt;"`},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := c.Submit("/setup", "/setup", tc.form)
				if res.Status != http.StatusUnprocessableEntity {
					t.Fatalf("status %d, want 422", res.Status)
				}
				if !strings.Contains(res.Body, tc.error) || !strings.Contains(res.Body, tc.kept) {
					t.Fatalf("body lacks error %q or kept value %q:\n%s", tc.error, tc.kept, res.Body)
				}
				if !strings.Contains(res.Body, `aria-invalid="true"`) {
					t.Fatal("invalid field not marked aria-invalid")
				}
			})
		}
		if has, _ := s.Store.HasUsers(t.Context()); has {
			t.Fatal("invalid setup forms created a user")
		}
		admin := s.SetUp(t)
		if res := admin.Get("/admin"); res.Status != http.StatusOK || !strings.Contains(res.Body, "Dashboard") {
			t.Fatalf("after setup /admin: %d", res.Status)
		}
		if res := c.Get("/setup"); res.Status != http.StatusNotFound {
			t.Fatalf("/setup after setup: %d, want 404", res.Status)
		}
		res := c.Submit("/login", "/setup", url.Values{"page_name": {"X"}, "email": {"evil@example.com"}, "password": {"long enough pw"}})
		if res.Status != http.StatusNotFound {
			t.Fatalf("POST /setup after setup: %d, want 404", res.Status)
		}
		page, err := s.Store.Page(t.Context(), models.DefaultPageID)
		modelstest.Fatal(t, err, "page")
		if page.Name != "Acme Status" {
			t.Fatalf("page name = %q", page.Name)
		}
	})
}

func TestCSRFIsRequired(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		admin := s.SetUp(t)
		anon := s.NewClient(t)
		for _, tc := range []struct {
			name   string
			c      *webtest.Client
			path   string
			token  string
			fields url.Values
		}{
			{"login without token", anon, "/login", "", url.Values{"email": {webtest.AdminEmail}, "password": {webtest.AdminPassword}}},
			{"login with wrong token", anon, "/login", "forged", url.Values{"email": {webtest.AdminEmail}, "password": {webtest.AdminPassword}}},
			{"create component without token", admin, "/admin/components", "", url.Values{"name": {"API"}, "status": {"operational"}}},
			{"logout with wrong token", admin, "/logout", "forged", url.Values{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if tc.token != "" {
					tc.fields.Set("_csrf", tc.token)
				}
				res := tc.c.Post(tc.path, tc.fields)
				if res.Status != http.StatusForbidden || !strings.Contains(res.Body, "expired") {
					t.Fatalf("status %d, want the 403 page:\n%s", res.Status, res.Body)
				}
			})
		}
		cs, _ := s.Store.Components(t.Context(), models.DefaultPageID)
		if len(cs) != 0 {
			t.Fatal("a forged form created a component")
		}
		if res := admin.Get("/admin"); res.Status != http.StatusOK {
			t.Fatal("a forged logout signed the admin out")
		}
	})
}

func TestLoginLogoutAndRateLimits(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		s.SetUp(t)
		c := s.NewClient(t)
		res := c.Submit("/login", "/login", url.Values{"email": {webtest.AdminEmail}, "password": {"wrong password"}})
		if res.Status != http.StatusUnauthorized || !strings.Contains(res.Body, "do not match") || !strings.Contains(res.Body, `value="ops@example.com"`) {
			t.Fatalf("wrong password: %d, want 401 with message and e-mail kept", res.Status)
		}
		res = c.Submit("/login", "/login", url.Values{"email": {webtest.AdminEmail}, "password": {webtest.AdminPassword}, "next": {"/admin/components"}})
		if res.Status != http.StatusSeeOther || res.Location != "/admin/components" {
			t.Fatalf("login: %d → %q", res.Status, res.Location)
		}
		if res := c.Submit("/login", "/login", url.Values{"email": {webtest.AdminEmail}, "password": {webtest.AdminPassword}, "next": {"//evil.example"}}); res.Location != "/admin" {
			t.Fatalf("open redirect: next=//evil.example led to %q", res.Location)
		}
		res = c.Submit("/admin", "/logout", nil)
		if res.Status != http.StatusSeeOther || res.Location != "/login" {
			t.Fatalf("logout: %d → %q", res.Status, res.Location)
		}
		if res := c.Get("/admin"); res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Location, "/login") {
			t.Fatalf("/admin after logout: %d %q", res.Status, res.Location)
		}

		// Per (account, address): five failures lock this address out of
		// this account, even with the right password.
		attacker := s.NewClientFrom(t, "127.0.0.2")
		for i := 0; i < 5; i++ {
			attacker.Submit("/login", "/login", url.Values{"email": {webtest.AdminEmail}, "password": {"guess"}})
		}
		res = attacker.Submit("/login", "/login", url.Values{"email": {webtest.AdminEmail}, "password": {webtest.AdminPassword}})
		if res.Status != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" || !strings.Contains(res.Body, "Too many sign-in attempts") {
			t.Fatalf("sixth attempt from the guessing address: %d Retry-After=%q, want the 429 page", res.Status, res.Header.Get("Retry-After"))
		}
		// Per address: many accounts from one client.
		for i := 0; i < 20; i++ {
			attacker.Submit("/login", "/login", url.Values{"email": {"user" + string(rune('a'+i)) + "@example.com"}, "password": {"guess"}})
		}
		res = attacker.Submit("/login", "/login", url.Values{"email": {"other@example.com"}, "password": {"guess"}})
		if res.Status != http.StatusTooManyRequests {
			t.Fatalf("after 20 failures from one address: %d, want 429", res.Status)
		}
	})
}

// TestLoginLockIsPerAddress: someone who knows the admin's e-mail cannot
// keep them out. Failures from one address lock that address only; the
// account is slowed down for other addresses, and the right password still
// gets in from them.
func TestLoginLockIsPerAddress(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		s.SetUp(t)
		attacker := s.NewClientFrom(t, "127.0.0.3")
		for i := 0; i < 5; i++ {
			if res := attacker.Submit("/login", "/login", url.Values{"email": {webtest.AdminEmail}, "password": {"guess"}}); res.Status != http.StatusUnauthorized {
				t.Fatalf("guess %d: %d, want 401", i+1, res.Status)
			}
		}
		if res := attacker.Submit("/login", "/login", url.Values{"email": {webtest.AdminEmail}, "password": {"guess"}}); res.Status != http.StatusTooManyRequests {
			t.Fatalf("sixth guess from the same address: %d, want 429", res.Status)
		}

		// Another address: a wrong password is slowed down, not refused.
		other := s.NewClientFrom(t, "127.0.0.4")
		start := time.Now()
		res := other.Submit("/login", "/login", url.Values{"email": {webtest.AdminEmail}, "password": {"another guess"}})
		if res.Status != http.StatusUnauthorized {
			t.Fatalf("wrong password from another address: %d, want 401 (slowed, not locked)", res.Status)
		}
		if took := time.Since(start); took < time.Second {
			t.Fatalf("wrong password from another address answered in %v, want a slow-down of at least 1s", took)
		}

		// The admin, from their own address: slowed down, then signed in.
		admin := s.NewClientFrom(t, "127.0.0.5")
		start = time.Now()
		res = admin.Submit("/login", "/login", url.Values{"email": {webtest.AdminEmail}, "password": {webtest.AdminPassword}})
		if res.Status != http.StatusSeeOther || res.Location != "/admin" {
			t.Fatalf("right password from another address: %d → %q, want 303 to /admin", res.Status, res.Location)
		}
		if took := time.Since(start); took < time.Second {
			t.Fatalf("sign-in during an attack answered in %v, want the slow-down", took)
		}
		if res := admin.Get("/admin"); res.Status != http.StatusOK {
			t.Fatalf("/admin after sign-in: %d", res.Status)
		}
		// The good sign-in ends the slow-down but not the guesser's lock.
		start = time.Now()
		if res := s.NewClientFrom(t, "127.0.0.6").Submit("/login", "/login", url.Values{"email": {webtest.AdminEmail}, "password": {webtest.AdminPassword}}); res.Status != http.StatusSeeOther {
			t.Fatalf("sign-in after the slow-down: %d", res.Status)
		}
		if took := time.Since(start); took >= time.Second {
			t.Fatalf("sign-in after a good one still slowed: %v", took)
		}
		if res := attacker.Submit("/login", "/login", url.Values{"email": {webtest.AdminEmail}, "password": {webtest.AdminPassword}}); res.Status != http.StatusTooManyRequests {
			t.Fatalf("the guessing address after the admin signed in: %d, want still 429", res.Status)
		}
	})
}

func TestLoggedOutCookieIsWorthless(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		stolen := c.CookieHeader()
		if res := c.Submit("/admin", "/logout", nil); res.Status != http.StatusSeeOther {
			t.Fatalf("logout: %d", res.Status)
		}
		replay := s.NewClient(t)
		if res := replay.GetWithCookie("/admin", stolen); res.Status != http.StatusSeeOther {
			t.Fatalf("replayed session cookie after logout: %d, want redirect to login", res.Status)
		}
	})
}
