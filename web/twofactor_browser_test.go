package web_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/browsertest"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestBrowserTwoFactor sets up two-factor sign-in in a real browser,
// scanning nothing but reading the key the page shows, signs out and
// signs in again with a code; it screenshots the enrolment page (QR code
// visible), the recovery codes and the second sign-in step at phone and
// desktop widths, light and dark.
func TestBrowserTwoFactor(t *testing.T) {
	clock := modelstest.NewClock(time.Now().UTC().Truncate(30 * time.Second).Add(10 * time.Second))
	srv := webtest.StartWith(t, webtest.Options{Store: modelstest.OpenWith(t, models.SQLite, models.Options{Now: clock.Now})})
	p := browsertest.Open(t, srv.URL)
	dialogs := p.WatchDialogs()
	dirs := screenshotDirs(t)
	seedStatusPage(t, srv)
	shoot := screenshotter(t, p, dirs)

	p.Go("/login")
	p.Fill("#f-email", webtest.AdminEmail)
	p.Fill("#f-password", webtest.AdminPassword)
	p.Click("main form button[type=submit]")
	wantPath(t, p, "/admin")

	shoot("twofactor-off", func() { p.Go("/admin/account/2fa"); p.WaitVisible(`form[action="/admin/account/2fa/setup"]`) })
	p.Click(`form[action="/admin/account/2fa/setup"] button`)
	wantPath(t, p, "/admin/account/2fa")
	shoot("twofactor-enrol", func() {
		p.Go("/admin/account/2fa")
		p.WaitVisible("#totp-qr")
		if w := browsertest.Eval[int](p, `document.getElementById("totp-qr").naturalWidth`); w < 100 {
			t.Errorf("QR code image is %d px wide: not drawn", w)
		}
	})
	secret := strings.ReplaceAll(p.Text("#totp-secret"), " ", "")
	if len(secret) != 32 {
		t.Fatalf("key on the page: %q", secret)
	}
	p.Fill("#f-code", codeAt(t, secret, clock.Now()))
	p.Click(`form[action="/admin/account/2fa/enable"] button`)
	wantPath(t, p, "/admin/account/2fa/recovery-codes")
	wantText(t, p, ".flash-success", "Two-factor sign-in is on")
	if n := browsertest.Eval[int](p, `document.querySelectorAll("#recovery-codes li").length`); n != 10 {
		t.Fatalf("%d recovery codes shown, want 10", n)
	}
	// Shown once: screenshot each width and scheme without reloading.
	for _, width := range []int64{375, 1280} {
		for _, scheme := range []string{"light", "dark"} {
			p.Emulate(width, scheme)
			png := p.Screenshot()
			for _, dir := range dirs {
				file := fmt.Sprintf("twofactor-recovery-codes-%d-%s.png", width, scheme)
				if err := os.WriteFile(filepath.Join(dir, file), png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	shoot("twofactor-on", func() { p.Go("/admin/account/2fa"); p.WaitVisible("#recovery-left") })
	shoot("settings-sign-in", func() { p.Go("/admin/settings"); p.WaitVisible("#f-require_2fa") })
	p.Check("#f-require_2fa")
	p.Click(`form[action="/admin/settings/sign-in"] button`)
	wantText(t, p, ".flash-success", "now needs two-factor sign-in")
	shoot("user-reset-2fa", func() { p.Go("/admin/users/1/reset-2fa"); p.WaitVisible(".danger-zone") })

	// Sign out, then in with the password and a code of the next step.
	p.Emulate(1280, "light")
	p.Go("/admin")
	p.Click(`form[action="/logout"] button`)
	wantPath(t, p, "/login")
	p.Fill("#f-email", webtest.AdminEmail)
	p.Fill("#f-password", webtest.AdminPassword)
	p.Click("main form button[type=submit]")
	wantPath(t, p, "/login/2fa")
	shoot("login-2fa", func() { p.Go("/login/2fa"); p.WaitVisible("#f-code") })
	p.Emulate(375, "dark")
	p.Go("/login/2fa")
	p.Fill("#f-code", "000000")
	p.Click("main form button[type=submit]")
	wantPath(t, p, "/login/2fa")
	shoot("login-2fa-wrong", func() {
		p.Go("/login/2fa")
		p.Fill("#f-code", "12ab")
		p.Click("main form button[type=submit]")
		p.WaitVisible("#login-error")
	})
	clock.Add(30 * time.Second)
	p.Go("/login/2fa")
	p.Fill("#f-code", codeAt(t, secret, clock.Now()))
	p.Click("main form button[type=submit]")
	wantPath(t, p, "/admin")
	assertNoDialogsOrConsoleErrors(t, p, dialogs())
}
