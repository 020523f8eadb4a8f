package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/browsertest"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestBrowserSubscriberPageLooks renders a subscriber with a long address,
// a confirmation refused for now then delivered and an incident e-mail
// refused for good with a long reply, at phone and desktop widths, light
// and dark: nothing wider than the screen, the Replay buttons there.
func TestBrowserSubscriberPageLooks(t *testing.T) {
	srv := webtest.Start(t, models.SQLite)
	ctx := context.Background()
	st := srv.Store
	addr := "a.very.long.mailbox.name.for.testing.wrapping@subdomain.of.an.example-company.example.com"
	modelstest.Fatal(t, st.Subscribe(ctx, models.DefaultPageID, models.SubscribeInput{Email: addr, AllComponents: true}), "subscribe")
	record := func(r models.MailResult) *models.SubscriberMail {
		ds, err := st.ClaimSubscriberDeliveries(ctx, 10, 60e9)
		modelstest.Fatal(t, err, "claim")
		if len(ds) != 1 {
			t.Fatalf("%d claimed", len(ds))
		}
		mails, err := st.SubscriberMails(ctx, ds)
		modelstest.Fatal(t, err, "mails")
		modelstest.Fatal(t, st.RecordSubscriberAttempt(ctx, &ds[0], r), "record")
		return &mails[0]
	}
	record(models.MailResult{State: models.DeliveryRetrying, NextAt: st.Now(), Code: 451, DurationMS: 41,
		Error: "SMTP RCPT TO failed: 451 4.7.1 Greylisted, please try again in 60 seconds, affected recipient(s): [subscriber]"})
	m := record(models.MailResult{State: models.DeliveryDelivered, Code: 250, DurationMS: 12, Reply: "2.0.0 Ok: queued as 4XkQ1C2nTz9z"})
	_, err := st.ConfirmSubscription(ctx, m.ConfirmURL[strings.LastIndexByte(m.ConfirmURL, '/')+1:])
	modelstest.Fatal(t, err, "confirm")
	_, err = st.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Elevated error rates on the payments API in eu-west-1",
		Status: models.IncidentInvestigating, Message: "Looking."})
	modelstest.Fatal(t, err, "incident")
	_, _, err = st.FanOutSubscribers(ctx, 100)
	modelstest.Fatal(t, err, "fan out")
	record(models.MailResult{State: models.DeliveryFailed, Permanent: true, Code: 550, DurationMS: 1530,
		Error: "SMTP RCPT TO failed: 550 5.1.1 <[subscriber]>: Recipient address rejected: User unknown in virtual mailbox table; see https://postmaster.example.com/bounces/5.1.1-user-unknown-in-virtual-mailbox-table"})
	subs, err := st.Subscribers(ctx, models.SubscriberFilter{})
	modelstest.Fatal(t, err, "subscribers")

	p := browsertest.Open(t, srv.URL)
	dialogs := p.WatchDialogs()
	p.Go("/setup")
	p.Fill("#f-page_name", "Acme Status")
	p.Fill("#f-email", webtest.AdminEmail)
	p.Fill("#f-password", webtest.AdminPassword)
	p.Click("main form button[type=submit]")
	wantPath(t, p, "/admin/components")
	path := fmt.Sprintf("/admin/subscribers/%d", subs[0].ID)
	for _, width := range []int64{375, 1280} {
		for _, scheme := range []string{"light", "dark"} {
			file := fmt.Sprintf("subscriber-%d-%s.png", width, scheme)
			p.Emulate(width, scheme)
			p.Go(path)
			p.WaitVisible(".attempt-card")
			if over := browsertest.Eval[int](p, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); over > 0 {
				t.Errorf("%s: page is %dpx wider than the screen; sticking out: %v", file, over, browsertest.Eval[[]string](p, overflowingJS))
			}
			if wide := browsertest.Eval[[]string](p, cardsOverflowJS); len(wide) > 0 {
				t.Errorf("%s: cards wider than themselves: %v", file, wide)
			}
			if n := browsertest.Eval[int](p, `document.querySelectorAll(".attempt-card form button").length`); n != 2 {
				t.Errorf("%s: %d Replay buttons, want one per e-mail (2)", file, n)
			}
			png := p.Screenshot()
			for _, dir := range screenshotDirs(t) {
				if err := os.WriteFile(filepath.Join(dir, file), png, 0o644); err != nil {
					t.Fatalf("save %s: %v", file, err)
				}
			}
		}
	}
	assertNoDialogsOrConsoleErrors(t, p, dialogs())
}
