package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/browsertest"
)

// TestBrowserSubscription is a visitor in a real browser: subscribe from
// the header's link, confirm from the link in the captured e-mail, change
// the preferences from a notice's link, unsubscribe.
func TestBrowserSubscription(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			srv, mail, base := startWithMail(t, engine)
			api := addComponent(t, srv, "API", models.StatusOperational)
			addComponent(t, srv, "Website", models.StatusOperational)
			addComponent(t, srv, "Customer dashboard and reporting exports", models.StatusOperational)
			p := browsertest.Open(t, srv.URL)
			shoot := screenshotter(t, p, screenshotDirs(t))
			const addr = "browser@example.com"

			p.Go("/")
			if status := p.Click(`.site-nav a[href="/subscribe"]`); status != http.StatusOK {
				t.Fatalf("Subscribe link: %d", status)
			}
			wantPath(t, p, "/subscribe")
			shoot("subscribe-form", func() { p.Go("/subscribe") })

			// The form, without JavaScript's help: radio, folded checkboxes.
			subscribe := func() {
				p.Go("/subscribe")
				p.Fill("#sub-email", addr)
				p.Check("#sub-some")
				p.Check(".subscribe-details summary")
				p.Check(fmt.Sprintf("#sub-c-%d", api))
				if status := p.Click(`form[action="/subscribe"] button[type=submit]`); status != http.StatusOK {
					t.Fatalf("sign-up: %d", status)
				}
				wantText(t, p, ".subscribe-card h2", "Check your inbox to confirm")
			}
			subscribe()
			// Asking again (each screenshot) answers the same and sends no
			// second confirmation.
			shoot("subscribe-sent", subscribe)

			confirm := strings.TrimPrefix(linkAfter(t, waitMailTo(t, mail, addr, 1)[0].Text, base+"/subscriptions/confirm/"), base)
			shoot("subscribe-confirm", func() { p.Go(confirm) })
			p.Go(confirm)
			if status := p.Click("main form button[type=submit]"); status != http.StatusOK {
				t.Fatalf("confirm: %d", status)
			}
			wantText(t, p, "main h1", "You are subscribed")
			shoot("subscribe-confirmed", func() {}) // the page stays; only the viewport changes

			_, err := srv.Store.CreateIncident(t.Context(), models.DefaultPageID, models.IncidentInput{Title: "API errors",
				Status: models.IncidentInvestigating, Message: "Looking into it.", Components: map[int64]models.ComponentStatus{api: models.StatusMajorOutage}})
			modelstest.Fatal(t, err, "incident")
			notice := waitMailTo(t, mail, addr, 2)[1]
			if n := len(mailsTo(mail.Messages(), addr)); n != 2 {
				t.Errorf("%d e-mails to the visitor, want the confirmation and the notice", n)
			}
			prefs := strings.TrimPrefix(linkAfter(t, notice.Text, base+"/subscriptions/"), base)
			shoot("subscribe-preferences", func() { p.Go(prefs) })
			p.Go(prefs)
			wantText(t, p, ".subscriber-email", addr)
			p.Check("#sub-all")
			if status := p.Click(`form[action="` + prefs + `"] button[type=submit]`); status != http.StatusOK {
				t.Fatalf("save preferences: %d", status)
			}
			wantText(t, p, ".saved", "Saved.")

			if status := p.Click(`form[action$="/unsubscribe"] button[type=submit]`); status != http.StatusOK {
				t.Fatalf("unsubscribe: %d", status)
			}
			wantText(t, p, "main h1", "You are unsubscribed")
			shoot("subscribe-unsubscribed", func() {})
			if n := subscriberCount(t, srv); n != 0 {
				t.Errorf("%d subscribers after unsubscribing, want 0", n)
			}
			if problems := p.ConsoleProblems(); len(problems) > 0 {
				t.Errorf("console errors:\n%s", strings.Join(problems, "\n"))
			}
		})
	}
}
