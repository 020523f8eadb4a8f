package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/vault"
	"github.com/heraldstatus/herald/web/webtest"
	"github.com/pquerna/otp/totp"
)

// eachClockedServer runs fn against a server on each engine whose store
// reads a clock the test moves, so TOTP codes can be computed at the
// server's time and time steps advanced without waiting.
func eachClockedServer(t *testing.T, fn func(t *testing.T, s *webtest.Server, clock *modelstest.Clock)) {
	for _, e := range modelstest.Engines {
		t.Run(string(e), func(t *testing.T) {
			// Mid-step, so a code's step is unambiguous.
			clock := modelstest.NewClock(time.Now().UTC().Truncate(30 * time.Second).Add(10 * time.Second))
			store := modelstest.OpenWith(t, e, models.Options{Now: clock.Now})
			fn(t, webtest.StartWith(t, webtest.Options{Store: store}), clock)
		})
	}
}

var (
	totpSecretRE   = regexp.MustCompile(`id="totp-secret">([A-Z2-7 ]+)<`)
	qrDataRE       = regexp.MustCompile(`<img class="qr" id="totp-qr" src="(/admin/account/2fa/qr\.png)"`)
	recoveryCodeRE = regexp.MustCompile(`<code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code>`)
)

func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, at)
	modelstest.Fatal(t, err, "totp code")
	return code
}

// enrol turns two-factor sign-in on for the signed-in client c, through
// the pages, and returns the key and the recovery codes shown once.
func enrol(t *testing.T, s *webtest.Server, c *webtest.Client, clock *modelstest.Clock) (string, []string) {
	t.Helper()
	if res := c.Submit("/admin/account/2fa", "/admin/account/2fa/setup", nil); res.Status != http.StatusSeeOther || res.Location != "/admin/account/2fa" {
		t.Fatalf("set up: %d %q\n%.500s", res.Status, res.Location, res.Body)
	}
	page := c.Get("/admin/account/2fa")
	m := totpSecretRE.FindStringSubmatch(page.Body)
	q := qrDataRE.FindStringSubmatch(page.Body)
	if page.Status != http.StatusOK || m == nil || q == nil {
		t.Fatalf("enrolment page: %d, no key or QR code\n%.3000s", page.Status, page.Body)
	}
	qr := c.Get(q[1])
	if qr.Status != http.StatusOK || qr.Header.Get("Content-Type") != "image/png" || qr.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("QR code: %d %q %q", qr.Status, qr.Header.Get("Content-Type"), qr.Header.Get("Cache-Control"))
	}
	img, err := png.Decode(strings.NewReader(qr.Body))
	modelstest.Fatal(t, err, "QR PNG")
	if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		t.Fatalf("QR code is %v", b)
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	res := c.Submit("/admin/account/2fa", "/admin/account/2fa/enable", url.Values{"code": {codeAt(t, secret, clock.Now())}})
	if res.Status != http.StatusSeeOther || res.Location != "/admin/account/2fa/recovery-codes" {
		t.Fatalf("confirm: %d %q\n%.500s", res.Status, res.Location, res.Body)
	}
	shown := c.Get("/admin/account/2fa/recovery-codes")
	var codes []string
	for _, m := range recoveryCodeRE.FindAllStringSubmatch(shown.Body, -1) {
		codes = append(codes, m[1])
	}
	if shown.Status != http.StatusOK || len(codes) != 10 {
		t.Fatalf("recovery codes page: %d, %d codes\n%.2000s", shown.Status, len(codes), shown.Body)
	}
	if again := c.Get("/admin/account/2fa/recovery-codes"); again.Status != http.StatusSeeOther {
		t.Fatalf("recovery codes shown a second time: %d", again.Status)
	}
	clock.Add(30 * time.Second) // the confirming code's step is used up
	return secret, codes
}

// passwordStep signs in with the password alone and returns the client
// and where it was sent.
func passwordStep(t *testing.T, s *webtest.Server, ip, email string) (*webtest.Client, string) {
	t.Helper()
	c := s.NewClientFrom(t, ip)
	res := c.Submit("/login", "/login", url.Values{"email": {email}, "password": {webtest.AdminPassword}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("password step as %s: %d\n%.500s", email, res.Status, res.Body)
	}
	return c, res.Location
}

func secondStep(c *webtest.Client, code string) webtest.Response {
	return c.Submit("/login/2fa", "/login/2fa", url.Values{"code": {code}})
}

func signInFailures(t *testing.T, s *webtest.Server) []models.AuditEntry {
	t.Helper()
	es, err := s.Store.AuditEntries(context.Background(), models.AuditFilter{Action: "access.signin_failed"})
	modelstest.Fatal(t, err, "audit entries")
	return es
}

// TestTwoFactorSignIn: enrol through the pages, then sign in with a code;
// a code works once, a recovery code once, wrong codes are refused and
// audited, no session exists before the second step, and the pending
// sign-in expires.
func TestTwoFactorSignIn(t *testing.T) {
	eachClockedServer(t, func(t *testing.T, s *webtest.Server, clock *modelstest.Clock) {
		ctx := context.Background()
		admin := s.SetUp(t)
		if res := admin.Get("/admin/account/2fa"); res.Status != http.StatusOK || !strings.Contains(res.Body, "Set up two-factor sign-in") {
			t.Fatalf("2FA page before enrolling: %d\n%.500s", res.Status, res.Body)
		}
		// A code before setting up, and codes that are wrong or no codes.
		for _, code := range []string{"123456", "", "12345", "abcdef", strings.Repeat("1", 100), "12\x0034", "\xff\xfe1234"} {
			if res := admin.Submit("/admin/account/2fa", "/admin/account/2fa/enable", url.Values{"code": {code}}); res.Status != http.StatusUnprocessableEntity && res.Status != http.StatusSeeOther {
				t.Errorf("enable with %q before setting up: %d", code, res.Status)
			}
		}
		secret, codes := enrol(t, s, admin, clock)
		u, err := s.Store.UserByEmail(ctx, webtest.AdminEmail)
		modelstest.Fatal(t, err, "admin")
		if !u.TwoFactor() || !strings.HasPrefix(u.TOTPSecret, "v1:") || strings.Contains(u.TOTPSecret, secret) {
			t.Fatalf("stored: on %v, secret %q: want on and sealed", u.TwoFactor(), u.TOTPSecret)
		}
		db, err := s.Store.SQLDB()
		modelstest.Fatal(t, err, "sql")
		var stored int
		modelstest.Fatal(t, db.QueryRow(fmt.Sprintf("SELECT COUNT(*) FROM recovery_codes WHERE user_id = %d AND code_hash NOT LIKE '%%-%%'", u.ID)).Scan(&stored), "count codes")
		if stored != 10 {
			t.Fatalf("%d hashed recovery codes stored, want 10", stored)
		}
		if res := admin.Get("/admin/account/2fa"); !strings.Contains(res.Body, "Two-factor sign-in is on") || !strings.Contains(res.Body, "<strong>10</strong>") {
			t.Fatalf("2FA page once on:\n%.2000s", res.Body)
		}

		// The password alone makes no session.
		c, next := passwordStep(t, s, "127.0.0.1", webtest.AdminEmail)
		if next != "/login/2fa" {
			t.Fatalf("after the password: sent to %q, want /login/2fa", next)
		}
		if res := c.Get("/admin"); res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Location, "/login") {
			t.Fatalf("/admin between the steps: %d %q, want sign in", res.Status, res.Location)
		}
		if res := c.Get("/login/2fa"); res.Status != http.StatusOK || !strings.Contains(res.Body, webtest.AdminEmail) {
			t.Fatalf("second step: %d\n%.500s", res.Status, res.Body)
		}
		failures := len(signInFailures(t, s))
		// The code of the step enrolment used is spent.
		res := secondStep(c, codeAt(t, secret, clock.Now().Add(-30*time.Second)))
		if res.Status != http.StatusUnauthorized || !strings.Contains(res.Body, "used already") {
			t.Fatalf("replayed enrolment code: %d\n%.500s", res.Status, res.Body)
		}
		code := codeAt(t, secret, clock.Now())
		if res := secondStep(c, code); res.Status != http.StatusSeeOther || res.Location != "/admin" {
			t.Fatalf("right code: %d %q\n%.500s", res.Status, res.Location, res.Body)
		}
		if res := c.Get("/admin"); res.Status != http.StatusOK {
			t.Fatalf("/admin after both steps: %d", res.Status)
		}
		if res := c.Get("/login/2fa"); res.Status != http.StatusSeeOther || res.Location != "/login" {
			t.Fatalf("second step again after signing in: %d %q", res.Status, res.Location)
		}

		// The same code again, from another browser: refused, even a
		// step later (it belongs to an older step).
		c2, _ := passwordStep(t, s, "127.0.0.2", webtest.AdminEmail)
		if res := secondStep(c2, code); res.Status != http.StatusUnauthorized {
			t.Fatalf("replayed code: %d\n%.500s", res.Status, res.Body)
		}
		clock.Add(30 * time.Second)
		if res := secondStep(c2, code); res.Status != http.StatusUnauthorized {
			t.Fatalf("replayed code a step later: %d", res.Status)
		}
		wrong := fmt.Sprintf("%06d", (atoi(codeAt(t, secret, clock.Now()))+1)%1000000)
		if res := secondStep(c2, wrong); res.Status != http.StatusUnauthorized || !strings.Contains(res.Body, "not right") {
			t.Fatalf("wrong code: %d\n%.500s", res.Status, res.Body)
		}
		if res := c2.Get("/admin"); res.Status != http.StatusSeeOther {
			t.Fatalf("/admin after refused codes: %d, want no session", res.Status)
		}
		got := signInFailures(t, s)
		if len(got) != failures+4 {
			t.Fatalf("%d sign-in failures audited, want %d", len(got), failures+4)
		}
		for _, e := range got[:4] {
			if e.ObjectID != webtest.AdminEmail || e.ActorName != webtest.AdminEmail || e.IP == "" || e.ObjectType != models.AuditAccess {
				t.Errorf("failure row: %+v", e)
			}
		}
		if !strings.Contains(got[0].Summary, "wrong two-factor code") || !strings.Contains(got[1].Summary, "already used") {
			t.Errorf("summaries: %q, %q", got[0].Summary, got[1].Summary)
		}

		// A recovery code works once, in any spelling.
		recovery := strings.ToUpper(strings.ReplaceAll(codes[3], "-", " "))
		if res := secondStep(c2, recovery); res.Status != http.StatusSeeOther || res.Location != "/admin" {
			t.Fatalf("recovery code: %d %q\n%.500s", res.Status, res.Location, res.Body)
		}
		if res := c2.Get("/admin"); res.Status != http.StatusOK || !strings.Contains(res.Body, "9 left") {
			t.Fatalf("after the recovery code: %d, want a warning with 9 left\n%.3000s", res.Status, res.Body)
		}
		c3, _ := passwordStep(t, s, "127.0.0.3", webtest.AdminEmail)
		if res := secondStep(c3, codes[3]); res.Status != http.StatusUnauthorized {
			t.Fatalf("used recovery code again: %d", res.Status)
		}
		if left, err := s.Store.RecoveryCodesLeft(ctx, u.ID); err != nil || left != 9 {
			t.Fatalf("recovery codes left: %d %v", left, err)
		}

		// Bad input: a clear 422, nothing written.
		c4, _ := passwordStep(t, s, "127.0.0.4", webtest.AdminEmail)
		before := len(signInFailures(t, s))
		for _, bad := range []string{"", "12345", "1234567", "abcdef", "12 34 5x", strings.Repeat("7", 100), strings.Repeat("a", 100), "123\x00456", "\xff\xfe\xfd\xfc\xfb\xfa", "<script>alert(1)</script>"} {
			if res := secondStep(c4, bad); res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "6-digit code") {
				t.Errorf("code %q: %d, want 422\n%.300s", bad, res.Status, res.Body)
			}
		}
		if after := len(signInFailures(t, s)); after != before {
			t.Errorf("bad input wrote %d audit rows", after-before)
		}

		// The pending sign-in expires.
		c5, _ := passwordStep(t, s, "127.0.0.5", webtest.AdminEmail)
		page := c5.CSRF("/login/2fa")
		clock.Add(6 * time.Minute)
		res = c5.Post("/login/2fa", url.Values{"_csrf": {page}, "code": {codeAt(t, secret, clock.Now())}})
		if res.Status != http.StatusSeeOther || res.Location != "/login" {
			t.Fatalf("code after 6 minutes: %d %q, want back to /login", res.Status, res.Location)
		}
		// No password step at all.
		if res := s.NewClient(t).Submit("/login", "/login/2fa", url.Values{"code": {codeAt(t, secret, clock.Now())}}); res.Status != http.StatusSeeOther || res.Location != "/login" {
			t.Fatalf("second step without the first: %d %q", res.Status, res.Location)
		}
	})
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

// TestSignInFailuresAudited: a wrong password and an unknown e-mail each
// write one row with the e-mail tried and the address, never the
// password; input no account can have writes none.
func TestSignInFailuresAudited(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		s.SetUp(t)
		c := s.NewClientFrom(t, "127.0.0.7")
		for _, email := range []string{webtest.AdminEmail, "Nobody@Example.com"} {
			res := c.Submit("/login", "/login", url.Values{"email": {email}, "password": {"hunter2-secret-guess"}})
			if res.Status != http.StatusUnauthorized {
				t.Fatalf("bad sign-in as %s: %d", email, res.Status)
			}
		}
		for _, email := range []string{"a\x00b@example.com", "\xff@example.com", strings.Repeat("x", 300) + "@example.com"} {
			if res := c.Submit("/login", "/login", url.Values{"email": {email}, "password": {"hunter2-secret-guess"}}); res.Status != http.StatusUnauthorized {
				t.Fatalf("bad sign-in as %q: %d", email, res.Status)
			}
		}
		got := signInFailures(t, s)
		if len(got) != 2 {
			t.Fatalf("%d failures audited, want 2: %+v", len(got), got)
		}
		for i, want := range []string{"nobody@example.com", webtest.AdminEmail} {
			e := got[i]
			if e.ObjectID != want || e.ActorName != want || e.IP != "127.0.0.7" || !strings.Contains(e.Summary, "wrong e-mail or password") {
				t.Errorf("row %d: %+v, want %s from 127.0.0.7", i, e, want)
			}
			if strings.Contains(e.Summary+e.Before+e.After, "hunter2") {
				t.Errorf("row %d holds the password", i)
			}
		}
	})
}

// TestRequireTwoFactor: with the setting on, a user without 2FA reaches
// only the enrolment page (their API token still works) until they
// enrol; they cannot then turn it off. An admin reset sends them back to
// the password alone.
func TestRequireTwoFactor(t *testing.T) {
	eachClockedServer(t, func(t *testing.T, s *webtest.Server, clock *modelstest.Clock) {
		ctx := context.Background()
		admin := s.SetUp(t)
		viewer, vc := s.AddUser(t, "viewer@example.com", models.RoleViewer)
		_, token, err := s.Store.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: "v", Scopes: []models.Scope{models.ScopeRead}}, viewer.ID)
		modelstest.Fatal(t, err, "token")

		if res := admin.Get("/admin/settings"); !strings.Contains(res.Body, "Require two-factor sign-in for everyone") {
			t.Fatalf("settings page has no sign-in section\n%.3000s", res.Body)
		}
		if res := vc.Get("/admin/settings"); strings.Contains(res.Body, "require_2fa") {
			t.Fatalf("a viewer sees the sign-in setting")
		}
		if res := vc.Submit("/admin", "/admin/settings/sign-in", url.Values{"require_2fa": {"on"}}); res.Status != http.StatusForbidden {
			t.Fatalf("viewer turns the requirement on: %d", res.Status)
		}
		res := admin.Submit("/admin/settings", "/admin/settings/sign-in", url.Values{"require_2fa": {"on"}})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("require 2FA: %d\n%.500s", res.Status, res.Body)
		}
		if on, err := s.Store.RequireTwoFactor(ctx); err != nil || !on {
			t.Fatalf("required: %v %v", on, err)
		}

		for _, path := range []string{"/admin", "/admin/incidents", "/admin/settings", "/admin/audit"} {
			if res := vc.Get(path); res.Status != http.StatusSeeOther || res.Location != "/admin/account/2fa" {
				t.Errorf("viewer without 2FA at %s: %d %q, want the enrolment page", path, res.Status, res.Location)
			}
		}
		// Signing in again lands there too.
		fresh := s.SignIn(t, "viewer@example.com", webtest.AdminPassword)
		if res := fresh.Get("/admin"); res.Location != "/admin/account/2fa" {
			t.Fatalf("fresh sign-in: %d %q", res.Status, res.Location)
		}
		if res := vc.Get("/admin/account/2fa"); res.Status != http.StatusOK || !strings.Contains(res.Body, "Your team requires two-factor sign-in") {
			t.Fatalf("enrolment page when required: %d\n%.500s", res.Status, res.Body)
		}
		if res := apiCall(t, s, token, http.MethodGet, "/api/v1/components", ""); res.Status != http.StatusOK {
			t.Fatalf("viewer's API token while 2FA is required: %d", res.Status)
		}
		secret, _ := enrol(t, s, vc, clock)
		if res := vc.Get("/admin"); res.Status != http.StatusOK {
			t.Fatalf("viewer after enrolling: %d %q", res.Status, res.Location)
		}
		res = vc.Submit("/admin/account/2fa", "/admin/account/2fa/disable", url.Values{"password": {webtest.AdminPassword}, "code": {codeAt(t, secret, clock.Now())}})
		if res.Status != http.StatusConflict {
			t.Fatalf("turn off while required: %d\n%.500s", res.Status, res.Body)
		}
		if u, _ := s.Store.User(ctx, viewer.ID); !u.TwoFactor() {
			t.Fatal("turned off while required")
		}

		// The admin, without 2FA themself, is sent to enrol as well.
		if res := admin.Get("/admin/users/" + fmt.Sprint(viewer.ID) + "/reset-2fa"); res.Location != "/admin/account/2fa" {
			t.Fatalf("admin without 2FA: %d %q", res.Status, res.Location)
		}
		enrol(t, s, admin, clock)
		confirm := admin.Get(fmt.Sprintf("/admin/users/%d/reset-2fa", viewer.ID))
		if confirm.Status != http.StatusOK || !strings.Contains(confirm.Body, "Reset two-factor sign-in of viewer@example.com?") {
			t.Fatalf("reset confirmation: %d\n%.500s", confirm.Status, confirm.Body)
		}
		if res := vc.Submit("/admin", fmt.Sprintf("/admin/users/%d/reset-2fa", viewer.ID), nil); res.Status != http.StatusForbidden {
			t.Fatalf("viewer resets: %d", res.Status)
		}
		if res := admin.Submit("/admin", "/admin/users/999999/reset-2fa", nil); res.Status != http.StatusNotFound {
			t.Fatalf("reset of no one: %d", res.Status)
		}
		res = admin.Submit(fmt.Sprintf("/admin/users/%d/reset-2fa", viewer.ID), fmt.Sprintf("/admin/users/%d/reset-2fa", viewer.ID), nil)
		if res.Status != http.StatusSeeOther {
			t.Fatalf("reset: %d\n%.500s", res.Status, res.Body)
		}
		// Without 2FA again, the password alone signs in; the
		// requirement then sends them to enrol.
		c, next := passwordStep(t, s, "127.0.0.9", "viewer@example.com")
		if next != "/admin" {
			t.Fatalf("after the reset, password sign-in goes to %q", next)
		}
		if res := c.Get("/admin"); res.Location != "/admin/account/2fa" {
			t.Fatalf("after the reset, while required: %d %q", res.Status, res.Location)
		}
		if res := admin.Submit("/admin/settings", "/admin/settings/sign-in", nil); res.Status != http.StatusSeeOther {
			t.Fatalf("stop requiring: %d", res.Status)
		}
		if res := c.Get("/admin"); res.Status != http.StatusOK {
			t.Fatalf("after the requirement is off: %d %q", res.Status, res.Location)
		}
		var actions []string
		es, err := s.Store.AuditEntries(ctx, models.AuditFilter{})
		modelstest.Fatal(t, err, "audit")
		for _, e := range es {
			actions = append(actions, e.Action)
		}
		for _, want := range []string{"settings.require_2fa", "user.2fa_enable", "user.2fa_reset"} {
			if !strings.Contains(strings.Join(actions, " "), want) {
				t.Errorf("no %s in the audit log: %v", want, actions)
			}
		}
	})
}

// TestTwoFactorAccountChanges: new recovery codes and turning 2FA off
// both take the password and a current code.
func TestTwoFactorAccountChanges(t *testing.T) {
	eachClockedServer(t, func(t *testing.T, s *webtest.Server, clock *modelstest.Clock) {
		s.SetUp(t)
		_, c := s.AddUser(t, "op@example.com", models.RoleOperator)
		secret, old := enrol(t, s, c, clock)
		post := func(action string, form url.Values) webtest.Response {
			return c.Submit("/admin/account/2fa", "/admin/account/2fa/"+action, form)
		}
		cases := []struct {
			name, password, code, field string
		}{
			{"wrong password", "not my password at all", codeAt(t, secret, clock.Now()), "That is not your password."},
			{"wrong code", webtest.AdminPassword, "000000", "That code is not right."},
			{"no code", webtest.AdminPassword, "", "6-digit code"},
			{"NUL in the password", "a\x00b", codeAt(t, secret, clock.Now()), "password"},
			{"a 100-character code", webtest.AdminPassword, strings.Repeat("9", 100), "6-digit code"},
		}
		for _, tc := range cases {
			for _, action := range []string{"recovery-codes", "disable"} {
				res := post(action, url.Values{"password": {tc.password}, "code": {tc.code}})
				if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, tc.field) {
					t.Errorf("%s, %s: %d, want 422 with %q\n%.300s", action, tc.name, res.Status, tc.field, res.Body)
				}
			}
		}
		res := post("recovery-codes", url.Values{"password": {webtest.AdminPassword}, "code": {codeAt(t, secret, clock.Now())}})
		if res.Status != http.StatusSeeOther || res.Location != "/admin/account/2fa/recovery-codes" {
			t.Fatalf("new recovery codes: %d %q\n%.500s", res.Status, res.Location, res.Body)
		}
		shown := c.Get(res.Location)
		fresh := recoveryCodeRE.FindAllStringSubmatch(shown.Body, -1)
		if len(fresh) != 10 || fresh[0][1] == old[0] {
			t.Fatalf("new codes: %d", len(fresh))
		}
		// An old recovery code no longer works; a new one does, for
		// turning 2FA off.
		res = post("disable", url.Values{"password": {webtest.AdminPassword}, "code": {old[0]}})
		if res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("disable with an old recovery code: %d", res.Status)
		}
		res = post("disable", url.Values{"password": {webtest.AdminPassword}, "code": {fresh[5][1]}})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("disable: %d\n%.500s", res.Status, res.Body)
		}
		if _, next := passwordStep(t, s, "127.0.0.8", "op@example.com"); next != "/admin" {
			t.Fatalf("sign-in after turning 2FA off goes to %q", next)
		}
	})
}

// TestTwoFactorKeyUnreadable: after HERALD_SECRET_KEY changes, a user's
// sealed authenticator key no longer opens. The second step says so in
// words and points at the recovery codes, which still work.
func TestTwoFactorKeyUnreadable(t *testing.T) {
	eachClockedServer(t, func(t *testing.T, s *webtest.Server, clock *modelstest.Clock) {
		admin := s.SetUp(t)
		secret, codes := enrol(t, s, admin, clock)
		other, err := vault.New(bytes.Repeat([]byte{7}, 32))
		modelstest.Fatal(t, err, "other vault")
		resealed, err := other.Seal(secret)
		modelstest.Fatal(t, err, "seal with another key")
		db, err := s.Store.SQLDB()
		modelstest.Fatal(t, err, "sql")
		_, err = db.Exec("UPDATE users SET totp_secret = '" + resealed + "'")
		modelstest.Fatal(t, err, "reseal")

		c, _ := passwordStep(t, s, "127.0.0.1", webtest.AdminEmail)
		res := secondStep(c, codeAt(t, secret, clock.Now()))
		if res.Status != http.StatusInternalServerError || !strings.Contains(res.Body, "recovery codes") || !strings.Contains(res.Body, `name="code"`) {
			t.Fatalf("code with an unreadable key: %d\n%.2000s", res.Status, res.Body)
		}
		if res := secondStep(c, codes[0]); res.Status != http.StatusSeeOther || res.Location != "/admin" {
			t.Fatalf("recovery code with an unreadable key: %d %q\n%.500s", res.Status, res.Location, res.Body)
		}
	})
}
