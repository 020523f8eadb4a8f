package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/browsertest"
)

// TestBrowserWebhookSubscription is a visitor in a real browser, on a
// page without e-mail: subscribe a webhook for one component, read the
// secret the answer shows once, see the verification arrive signed with
// it, find the subscription verified behind the manage link, unsubscribe.
// A wrong URL first: the form says why and keeps what was typed.
func TestBrowserWebhookSubscription(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			srv, base := startWithHooks(t, engine, nil)
			api := addComponent(t, srv, "API", models.StatusOperational)
			addComponent(t, srv, "Website", models.StatusOperational)
			addComponent(t, srv, "Customer dashboard and reporting exports", models.StatusOperational)
			rc := newTLSReceiver(t, http.StatusOK)
			p := browsertest.Open(t, srv.URL)
			shoot := screenshotter(t, p, screenshotDirs(t))

			p.Go("/")
			if status := p.Click(`.site-nav a[href="/subscribe"]`); status != http.StatusOK {
				t.Fatalf("Subscribe link: %d", status)
			}
			wantPath(t, p, "/subscribe")
			shoot("webhook-form", func() { p.Go("/subscribe") })

			// A plain-http URL: refused, explained, kept in the field.
			p.Go("/subscribe")
			p.Fill("#hook-url", "http://hooks.example.com/status")
			if status := p.Click(`form[action="/subscribe/webhook"] button[type=submit]`); status != http.StatusUnprocessableEntity {
				t.Fatalf("http URL: %d, want 422", status)
			}
			wantText(t, p, "#webhook-error", "Webhook URLs start with https://.")
			if v := browsertest.Eval[string](p, `document.getElementById("hook-url").value`); v != "http://hooks.example.com/status" {
				t.Errorf("the field lost what was typed: %q", v)
			}
			shoot("webhook-form-error", func() {})

			p.Go("/subscribe")
			p.Fill("#hook-url", rc.URL+"/status-hook")
			p.Check("#hook-some")
			p.Check("#webhook-form .subscribe-details summary")
			p.Check(fmt.Sprintf("#hook-c-%d", api))
			if status := p.Click(`form[action="/subscribe/webhook"] button[type=submit]`); status != http.StatusOK {
				t.Fatalf("sign-up: %d", status)
			}
			wantText(t, p, "main h1", "Your webhook subscription")
			secret := browsertest.Eval[string](p, `document.getElementById("signing-secret").textContent`)
			if !strings.HasPrefix(secret, "whsec_") {
				t.Fatalf("secret shown: %q", secret)
			}
			shoot("webhook-secret", func() {}) // the page stays; only the viewport changes
			manage := strings.TrimPrefix(browsertest.Eval[string](p, `document.getElementById("manage-link").href`), base)

			got := waitRequests(t, rc, 1)
			checkHookSignature(t, got[0], secret)
			deadline := time.Now().Add(5 * time.Second)
			for {
				p.Go(manage)
				if strings.HasPrefix(p.Text("#hook-state"), "Verified") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("never verified: %s", p.Text("#hook-state"))
				}
				time.Sleep(100 * time.Millisecond)
			}
			if browsertest.Eval[bool](p, fmt.Sprintf(`document.getElementById("sub-c-%d").checked`, api)) != true {
				t.Error("the manage page does not show the chosen component")
			}
			shoot("webhook-manage", func() { p.Go(manage) })

			if status := p.Click(`form[action$="/unsubscribe"] button[type=submit]`); status != http.StatusOK {
				t.Fatalf("unsubscribe: %d", status)
			}
			wantText(t, p, "main h1", "You are unsubscribed")
			if n := subscriberCount(t, srv); n != 0 {
				t.Errorf("%d subscribers after unsubscribing, want 0", n)
			}
			if problems := p.ConsoleProblems(); len(problems) > 0 {
				t.Errorf("console errors:\n%s", strings.Join(problems, "\n"))
			}
		})
	}
}
