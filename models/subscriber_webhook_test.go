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

// claimChannelDeliveries claims every due delivery to a channel.
func claimChannelDeliveries(t *testing.T, s *models.Store) []models.Delivery {
	t.Helper()
	ds, err := s.ClaimDeliveries(context.Background(), models.ClaimOptions{Limit: 1000, Lease: time.Minute})
	modelstest.Fatal(t, err, "claim")
	return ds
}

func subscriberState(t *testing.T, s *models.Store, id int64) models.SubscriberState {
	t.Helper()
	subs, err := s.Subscribers(context.Background(), models.SubscriberFilter{})
	modelstest.Fatal(t, err, "subscribers")
	for _, sub := range subs {
		if sub.ID == id {
			return sub.State
		}
	}
	return ""
}

// TestWebhookSubscriberLifecycle: a sign-up writes a pending subscriber,
// its hidden channel and the verification delivery, nothing else; a 2xx
// to the verification activates it; the admin's request writes no
// delivery for it, the engine's fan-out writes one, once; a receiver the
// engine gives up on makes it bouncing with no entry in the admin's
// audit log; an unverified one is deleted after 48 hours.
func TestWebhookSubscriberLifecycle(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		sub, err := s.SubscribeWebhook(ctx, models.DefaultPageID, models.WebhookSubscribeInput{URL: "HTTPS://Hooks.Example.com/status/abcdefghijklmnopqrstuvwxyz012345", AllComponents: true})
		modelstest.Fatal(t, err, "subscribe")
		if sub.Subscriber.Kind != models.SubscriberWebhook || sub.Subscriber.State != models.SubscriberPending || sub.Subscriber.Email != "" ||
			!strings.HasPrefix(sub.Secret, "whsec_") || strings.Contains(sub.URLHint, "abcdefghijklmnopqrstuvwxyz") {
			t.Fatalf("subscription %+v", sub)
		}
		if chans, _ := s.Channels(ctx, models.DefaultPageID); len(chans) != 0 {
			t.Errorf("the subscriber's channel is listed among the admin's: %+v", chans)
		}
		c, err := s.Channel(ctx, sub.ChannelID)
		modelstest.Fatal(t, err, "channel")
		if c.URL != "https://hooks.example.com/status/abcdefghijklmnopqrstuvwxyz012345" || c.Secret != sub.Secret ||
			c.SubscriberID == nil || *c.SubscriberID != sub.Subscriber.ID {
			t.Errorf("channel %+v", c)
		}
		ds := claimChannelDeliveries(t, s)
		if len(ds) != 1 || ds[0].EventType != models.EventSubscriptionVerification || ds[0].EventID != nil || ds[0].Test {
			t.Fatalf("deliveries after sign-up %+v, want the verification only", ds)
		}
		// Before verification the fan-out writes nothing for it.
		_, err = s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Before", Status: models.IncidentInvestigating, Message: "x"})
		modelstest.Fatal(t, err, "incident")
		if _, _, err := s.FanOutSubscribers(ctx, 100); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.CountDeliveries(ctx, models.DeliveryFilter{ChannelID: sub.ChannelID}); n != 1 {
			t.Errorf("%d deliveries before verification, want 1", n)
		}
		clock.Add(time.Second)
		modelstest.Fatal(t, s.RecordAttempt(ctx, &ds[0], models.AttemptResult{State: models.DeliveryDelivered,
			Attempt: models.DeliveryAttempt{Number: 1, StartedAt: clock.Now(), ResponseStatus: 204}}), "record")
		if st := subscriberState(t, s, sub.Subscriber.ID); st != models.SubscriberActive {
			t.Fatalf("after a 2xx the subscriber is %s", st)
		}

		clock.Add(time.Second)
		_, err = s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "After", Status: models.IncidentInvestigating, Message: "x"})
		modelstest.Fatal(t, err, "incident")
		if n, _ := s.CountDeliveries(ctx, models.DeliveryFilter{ChannelID: sub.ChannelID}); n != 1 {
			t.Errorf("the admin's transaction wrote %d deliveries to the subscriber, want none", n-1)
		}
		for range 3 { // the fan-out runs again: no double
			for {
				_, more, err := s.FanOutSubscribers(ctx, 1)
				modelstest.Fatal(t, err, "fan out")
				if !more {
					break
				}
			}
		}
		ds = claimChannelDeliveries(t, s)
		if len(ds) != 1 || ds[0].EventType != models.EventIncidentCreated || ds[0].ChannelID != sub.ChannelID {
			t.Fatalf("deliveries after the incident %+v, want one incident.created", ds)
		}

		// The receiver is gone: the engine gives up on its channel.
		modelstest.Fatal(t, s.RecordAttempt(ctx, &ds[0], models.AttemptResult{State: models.DeliveryFailed, DisableChannel: "Gone.",
			Attempt: models.DeliveryAttempt{Number: 1, StartedAt: clock.Now(), ResponseStatus: 410}}), "record")
		if st := subscriberState(t, s, sub.Subscriber.ID); st != models.SubscriberBouncing {
			t.Errorf("after its channel was turned off the subscriber is %s, want bouncing", st)
		}
		entries, err := s.AuditEntries(ctx, models.AuditFilter{ObjectType: models.AuditChannel})
		modelstest.Fatal(t, err, "audit")
		if len(entries) != 0 {
			t.Errorf("the admin's audit log has subscriber channel entries: %+v", entries)
		}

		// Expiry: an unverified subscription is deleted after 48 h.
		late, err := s.SubscribeWebhook(ctx, models.DefaultPageID, models.WebhookSubscribeInput{URL: "https://hooks.example.com/late", AllComponents: true})
		modelstest.Fatal(t, err, "subscribe")
		clock.Add(models.ConfirmValidity - time.Minute)
		if n, _ := s.PurgeExpiredWebhookSubscribers(ctx); n != 0 {
			t.Errorf("purged %d before 48 h", n)
		}
		clock.Add(2 * time.Minute)
		if n, _ := s.PurgeExpiredWebhookSubscribers(ctx); n != 1 {
			t.Errorf("purged %d after 48 h, want 1", n)
		}
		if _, ok, _ := s.SubscriberChannelID(ctx, late.Subscriber.ID); ok {
			t.Error("the expired subscription's channel is left")
		}
		if st := subscriberState(t, s, sub.Subscriber.ID); st != models.SubscriberBouncing {
			t.Errorf("the verified subscriber was purged too (%q)", st)
		}
	})
}

// TestSubscribeWebhookBadInput: malformed URLs are refused with a
// sentence, and nothing is written.
func TestSubscribeWebhookBadInput(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		for name, url := range map[string]string{
			"empty":        "",
			"http":         "http://hooks.example.com/x",
			"javascript":   "javascript:alert(1)",
			"CR LF":        "https://hooks.example.com/x\r\nX-Evil: 1",
			"NUL":          "https://hooks.example.com/\x00",
			"invalid UTF8": "https://hooks.example.com/\xff",
			"10 KB":        "https://hooks.example.com/" + strings.Repeat("a", 10<<10),
			"userinfo":     "https://user:pass@hooks.example.com/x",
			"no host":      "https:///x",
		} {
			_, err := s.SubscribeWebhook(ctx, models.DefaultPageID, models.WebhookSubscribeInput{URL: url, AllComponents: true})
			var ve *models.ValidationError
			if !errors.As(err, &ve) || ve.Fields["url"] == "" {
				t.Errorf("%s: %v, want a validation error on url", name, err)
			}
		}
		if _, err := s.SubscribeWebhook(ctx, models.DefaultPageID, models.WebhookSubscribeInput{URL: "https://hooks.example.com/x", Components: []int64{999}}); err == nil {
			t.Error("an unknown component was accepted")
		}
		if n, _ := s.CountSubscribers(ctx, models.SubscriberFilter{}); n != 0 {
			t.Errorf("%d subscribers written", n)
		}
		if n, _ := s.CountDeliveries(ctx, models.DeliveryFilter{}); n != 0 {
			t.Errorf("%d deliveries written", n)
		}
	})
}
