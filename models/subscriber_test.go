package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

// claimMails claims every due subscriber delivery and loads its e-mail.
func claimMails(t *testing.T, s *models.Store) []models.SubscriberMail {
	t.Helper()
	ctx := context.Background()
	ds, err := s.ClaimSubscriberDeliveries(ctx, 1000, time.Minute)
	modelstest.Fatal(t, err, "claim")
	mails, err := s.SubscriberMails(ctx, ds)
	modelstest.Fatal(t, err, "mails")
	for i := range ds {
		modelstest.Fatal(t, s.RecordSubscriberAttempt(ctx, &ds[i], models.MailResult{State: models.DeliveryDelivered}), "record")
	}
	return mails
}

// tokenOf is the last path segment of a link.
func tokenOf(link string) string { return link[strings.LastIndexByte(link, '/')+1:] }

func TestSubscribeConfirmFlow(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		api, _ := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Visible: true, Status: models.StatusOperational})

		err := s.Subscribe(ctx, models.DefaultPageID, models.SubscribeInput{Email: "  Ann@Example.COM ", Components: []int64{api.ID}})
		modelstest.Fatal(t, err, "subscribe")
		mails := claimMails(t, s)
		if len(mails) != 1 || mails[0].Delivery.Kind != models.MailConfirm || mails[0].Subscriber.Email != "ann@example.com" ||
			!strings.HasPrefix(mails[0].ConfirmURL, "https://status.example.com/subscriptions/confirm/") {
			t.Fatalf("confirmation mails = %+v", mails)
		}
		first := tokenOf(mails[0].ConfirmURL)

		// Within the hour: the same answer, no second e-mail.
		clock.Add(30 * time.Minute)
		modelstest.Fatal(t, s.Subscribe(ctx, models.DefaultPageID, models.SubscribeInput{Email: "ann@example.com", AllComponents: true}), "again")
		if n, _ := s.CountSubscriberDeliveries(ctx, "", ""); n != 1 {
			t.Fatalf("deliveries after a second sign-up within the hour = %d, want 1", n)
		}
		// After it: a new link, and the old one stops working.
		clock.Add(31 * time.Minute)
		modelstest.Fatal(t, s.Subscribe(ctx, models.DefaultPageID, models.SubscribeInput{Email: "ann@example.com", Components: []int64{api.ID}}), "later")
		mails = claimMails(t, s)
		if len(mails) != 1 {
			t.Fatalf("second confirmation: %d mails", len(mails))
		}
		second := tokenOf(mails[0].ConfirmURL)
		if _, err := s.ConfirmSubscription(ctx, first); !errors.Is(err, models.ErrSubscriptionLink) {
			t.Fatalf("confirm with the replaced link: %v", err)
		}
		if _, err := s.ConfirmSubscription(ctx, "forged-token"); !errors.Is(err, models.ErrSubscriptionLink) {
			t.Fatalf("confirm with a forged link: %v", err)
		}
		sub, err := s.ConfirmSubscription(ctx, second)
		modelstest.Fatal(t, err, "confirm")
		if sub.State != models.SubscriberActive {
			t.Fatalf("state after confirm = %s", sub.State)
		}
		if _, err := s.ConfirmSubscription(ctx, second); !errors.Is(err, models.ErrSubscriptionLink) {
			t.Fatalf("confirm twice: %v", err)
		}

		// Active: signing up again answers the same and sends nothing.
		clock.Add(2 * time.Hour)
		modelstest.Fatal(t, s.Subscribe(ctx, models.DefaultPageID, models.SubscribeInput{Email: "ann@example.com", AllComponents: true}), "subscribed")
		if n, _ := s.CountSubscriberDeliveries(ctx, "", models.DeliveryPending); n != 0 {
			t.Fatalf("pending deliveries for a subscribed address = %d", n)
		}

		// Preferences by the manage token.
		manage := tokenOf(strings.TrimSuffix(mails[0].UnsubscribeURL, "/unsubscribe"))
		got, err := s.SubscriberByManageToken(ctx, manage)
		modelstest.Fatal(t, err, "by manage token")
		if got.AllComponents || len(got.Components) != 1 || got.Components[0] != api.ID {
			t.Fatalf("preferences = %+v", got)
		}
		modelstest.Fatal(t, s.UpdateSubscriberPreferences(ctx, manage, models.SubscriberPreferences{AllComponents: true}), "update")
		got, _ = s.SubscriberByManageToken(ctx, manage)
		if !got.AllComponents || len(got.Components) != 0 {
			t.Fatalf("after update = %+v", got)
		}
		if n, _ := s.CountSubscribers(ctx, models.SubscriberFilter{PageID: models.DefaultPageID, State: models.SubscriberActive}); n != 1 {
			t.Fatalf("active subscribers = %d", n)
		}
		list, err := s.Subscribers(ctx, models.SubscriberFilter{Search: "ann@"})
		if err != nil || len(list) != 1 {
			t.Fatalf("search = %v, %v", list, err)
		}

		// Unsubscribing deletes the address.
		modelstest.Fatal(t, s.Unsubscribe(ctx, manage), "unsubscribe")
		if n, _ := s.CountSubscribers(ctx, models.SubscriberFilter{}); n != 0 {
			t.Fatalf("subscribers after unsubscribe = %d", n)
		}
		if err := s.Unsubscribe(ctx, manage); !errors.Is(err, models.ErrSubscriptionLink) {
			t.Fatalf("unsubscribe twice: %v", err)
		}
	})
}

func TestConfirmLinkExpires(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		modelstest.Fatal(t, s.Subscribe(ctx, models.DefaultPageID, models.SubscribeInput{Email: "bob@example.com", AllComponents: true}), "subscribe")
		mails := claimMails(t, s)
		clock.Add(models.ConfirmValidity)
		if _, err := s.ConfirmSubscription(ctx, tokenOf(mails[0].ConfirmURL)); !errors.Is(err, models.ErrSubscriptionExpired) {
			t.Fatalf("confirm after 48 h: %v", err)
		}
	})
}

func TestSubscribeRefusesBadAddresses(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, _ *modelstest.Clock) {
		ctx := context.Background()
		for _, addr := range []string{"", "not an address", "ann@example.com\r\nBcc: eve@example.com",
			"Ann <ann@example.com>", "a@b@example.com", "ann@localhost", "ann@example.com,eve@example.com",
			strings.Repeat("a", 250) + "@example.com"} {
			err := s.Subscribe(ctx, models.DefaultPageID, models.SubscribeInput{Email: addr, AllComponents: true})
			var ve *models.ValidationError
			if !errors.As(err, &ve) || ve.Fields["email"] == "" {
				t.Errorf("Subscribe(%q) = %v, want a validation error on email", addr, err)
			}
		}
		if err := s.Subscribe(ctx, models.DefaultPageID, models.SubscribeInput{Email: "ann@example.com"}); err == nil {
			t.Error("no component chosen: accepted")
		}
		if n, _ := s.CountSubscribers(ctx, models.SubscriberFilter{}); n != 0 {
			t.Fatalf("subscribers written by refused sign-ups = %d", n)
		}
	})
}

// TestFanOutFollowsComponents: the engine's fan-out gives each active
// subscriber whose components match one delivery per event, in batches,
// and nothing to pending subscribers.
func TestFanOutFollowsComponents(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		api, _ := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Visible: true, Status: models.StatusOperational})
		db, _ := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "Database", Visible: true, Status: models.StatusOperational})
		subscribe := func(addr string, in models.SubscribeInput) {
			in.Email = addr
			modelstest.Fatal(t, s.Subscribe(ctx, models.DefaultPageID, in), "subscribe %s", addr)
		}
		subscribe("all@example.com", models.SubscribeInput{AllComponents: true})
		subscribe("api@example.com", models.SubscribeInput{Components: []int64{api.ID}})
		subscribe("db@example.com", models.SubscribeInput{Components: []int64{db.ID}})
		for _, m := range claimMails(t, s) {
			_, err := s.ConfirmSubscription(ctx, tokenOf(m.ConfirmURL))
			modelstest.Fatal(t, err, "confirm")
		}
		subscribe("pending@example.com", models.SubscribeInput{AllComponents: true})
		claimMails(t, s)
		clock.Add(time.Minute)

		_, err := s.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "Upgrade",
			ComponentIDs: []int64{db.ID}, WindowStart: t0.Add(time.Hour), WindowEnd: t0.Add(2 * time.Hour)})
		modelstest.Fatal(t, err, "schedule")
		_, err = s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Errors", Status: models.IncidentInvestigating,
			Message: "Looking.", Components: map[int64]models.ComponentStatus{api.ID: models.StatusPartialOutage}})
		modelstest.Fatal(t, err, "incident")
		if n, _ := s.PendingSubscriberFanouts(ctx); n != 2 {
			t.Fatalf("fan-outs queued = %d, want 2 (one per event, none written by the request)", n)
		}
		if n, _ := s.CountSubscriberDeliveries(ctx, "", models.DeliveryPending); n != 0 {
			t.Fatalf("the request wrote %d subscriber deliveries", n)
		}
		for {
			_, more, err := s.FanOutSubscribers(ctx, 1) // one subscriber per transaction
			modelstest.Fatal(t, err, "fan out")
			if !more {
				break
			}
		}
		got := map[string][]string{}
		for _, m := range claimMails(t, s) {
			got[string(m.Event.Type)] = append(got[string(m.Event.Type)], m.Subscriber.Email)
		}
		want := map[string][]string{
			string(models.EventMaintenanceScheduled): {"all@example.com", "db@example.com"},
			string(models.EventIncidentCreated):      {"all@example.com", "api@example.com"},
		}
		for typ, addrs := range want {
			if strings.Join(got[typ], ",") != strings.Join(addrs, ",") {
				t.Errorf("%s went to %v, want %v", typ, got[typ], addrs)
			}
		}
		if len(got) != len(want) {
			t.Errorf("deliveries by event: %v", got)
		}
	})
}
