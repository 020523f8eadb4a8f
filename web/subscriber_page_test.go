package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestSubscriberPageShowsAttemptsAndReplays: an admin sees a subscriber's
// e-mails with every attempt (times in the page's zone, the server's
// reply without the address) and replays a failed one, which is sent once
// more; replays to a bouncing address are refused with a reason.
func TestSubscriberPageShowsAttemptsAndReplays(t *testing.T) {
	for _, e := range modelstest.Engines {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			s, mail, _ := startWithMail(t, e)
			c := s.SetUp(t)
			_, err := s.Store.UpdatePage(ctx, models.DefaultPageID, models.PageInput{Name: "Acme Status", AccentColor: "blue", TimeZone: "Europe/Paris"})
			modelstest.Fatal(t, err, "page zone")
			var refuse atomic.Bool
			refuse.Store(true)
			mail.SetRcpt(func(to string, n int) *smtp.SMTPError {
				if refuse.Load() {
					return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user <" + to + ">"}
				}
				return nil
			})
			addr := "ann@example.com"
			modelstest.Fatal(t, s.Store.Subscribe(ctx, models.DefaultPageID, models.SubscribeInput{Email: addr, AllComponents: true}), "subscribe")
			subs, err := s.Store.Subscribers(ctx, models.SubscriberFilter{})
			modelstest.Fatal(t, err, "subscribers")
			id := subs[0].ID
			path := fmt.Sprintf("/admin/subscribers/%d", id)
			confirmation := waitSubscriberMail(t, s, id, models.DeliveryFailed)

			page := c.Get(path)
			if page.Status != http.StatusOK {
				t.Fatalf("GET %s: %d", path, page.Status)
			}
			wantBody(t, page, addr, "E-mail", "Waiting for confirmation", "All components", "Confirmation e-mail",
				"badge ds-failed", "550", "No such user &lt;[subscriber]&gt;", "Times in Europe/Paris", "Replay")
			if !strings.Contains(page.Body, " CET") && !strings.Contains(page.Body, " CEST") {
				t.Errorf("no time in the page's zone:\n%.3000s", page.Body)
			}
			if strings.Count(page.Body, addr) != 1 {
				t.Errorf("the address appears %d times, want once (the heading): the log keeps none", strings.Count(page.Body, addr))
			}

			for _, p := range []string{"/admin/subscribers/abc", "/admin/subscribers/99999", "/admin/subscribers/-1"} {
				if res := c.Get(p); res.Status != http.StatusNotFound {
					t.Errorf("GET %s: %d, want 404", p, res.Status)
				}
			}
			replay := fmt.Sprintf("%s/deliveries/%d/replay", path, confirmation)
			for _, p := range []string{fmt.Sprintf("%s/deliveries/%d/replay", path, confirmation+1000), path + "/deliveries/abc/replay",
				fmt.Sprintf("/admin/subscribers/%d/deliveries/%d/replay", id+1000, confirmation)} {
				if res := c.Submit(path, p, nil); res.Status != http.StatusNotFound && !(res.Status == http.StatusSeeOther && res.Location == "/admin/subscribers") {
					t.Errorf("POST %s: %d → %q, want 404 or back to the list", p, res.Status, res.Location)
				}
			}

			refuse.Store(false)
			res := c.Submit(path, replay, nil)
			if res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Location, path) {
				t.Fatalf("replay: %d → %q", res.Status, res.Location)
			}
			wantBody(t, c.Get(res.Location), "Replay queued.")
			waitSubscriberMail(t, s, id, models.DeliveryDelivered)
			time.Sleep(200 * time.Millisecond) // a second copy would arrive now
			if n := len(mailsTo(mail.Messages(), addr)); n != 1 {
				t.Errorf("%d messages after the replay, want 1", n)
			}
			wantBody(t, c.Get(path), "badge ds-delivered", "250")
			entries, err := s.Store.AuditEntries(ctx, models.AuditFilter{ObjectType: models.AuditSubscriber})
			modelstest.Fatal(t, err, "audit")
			if len(entries) != 1 || entries[0].Action != "subscriber.replay" || entries[0].ActorName != webtest.AdminEmail ||
				strings.Contains(entries[0].Summary+entries[0].Before+entries[0].After, addr) {
				t.Errorf("audit: %+v", entries)
			}

			execSQL(t, s, "UPDATE subscribers SET state = 'bouncing', permanent_failures = 3 WHERE id = ?", id)
			res = c.Submit(path, replay, nil)
			if res.Status != http.StatusSeeOther {
				t.Fatalf("replay to a bouncing address: %d", res.Status)
			}
			wantBody(t, c.Get(res.Location), "Not replayed: the address is bouncing", "Bouncing")
		})
	}
}

// waitSubscriberMail waits until the newest e-mail of subscriber id is in
// state, and returns its id.
func waitSubscriberMail(t *testing.T, s *webtest.Server, id int64, state models.DeliveryState) int64 {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		logs, _, err := s.Store.SubscriberDeliveryLogs(context.Background(), id, 1)
		modelstest.Fatal(t, err, "subscriber e-mails")
		if len(logs) == 1 && logs[0].Delivery.State == state && logs[0].Delivery.LeaseToken == "" {
			return logs[0].Delivery.ID
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("subscriber %d has no e-mail %s", id, state)
	return 0
}
