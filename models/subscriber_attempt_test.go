package models_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

// claimAll claims every due subscriber e-mail.
func claimAll(t *testing.T, s *models.Store) []models.SubscriberDelivery {
	t.Helper()
	ds, err := s.ClaimSubscriberDeliveries(context.Background(), 1000, time.Minute)
	modelstest.Fatal(t, err, "claim")
	return ds
}

// activeSubscriber subscribes addr and confirms it, its confirmation
// recorded delivered; it returns the subscriber's id.
func activeSubscriber(t *testing.T, s *models.Store, addr string) int64 {
	t.Helper()
	ctx := context.Background()
	modelstest.Fatal(t, s.Subscribe(ctx, models.DefaultPageID, models.SubscribeInput{Email: addr, AllComponents: true}), "subscribe")
	ds := claimAll(t, s)
	mails, err := s.SubscriberMails(ctx, ds)
	modelstest.Fatal(t, err, "mails")
	if len(mails) != 1 {
		t.Fatalf("%d confirmation e-mails, want 1", len(mails))
	}
	_, err = s.ConfirmSubscription(ctx, mails[0].ConfirmURL[strings.LastIndexByte(mails[0].ConfirmURL, '/')+1:])
	modelstest.Fatal(t, err, "confirm")
	modelstest.Fatal(t, s.RecordSubscriberAttempt(ctx, &ds[0], models.MailResult{State: models.DeliveryDelivered, Code: 250}), "record")
	return ds[0].SubscriberID
}

// fanOutAll expands every pending event.
func fanOutAll(t *testing.T, s *models.Store) {
	t.Helper()
	for {
		_, more, err := s.FanOutSubscribers(context.Background(), 1000)
		modelstest.Fatal(t, err, "fan out")
		if !more {
			return
		}
	}
}

func TestSubscriberAttemptsRecordedInBatches(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		var ids []int64
		for i := range 3 {
			ids = append(ids, activeSubscriber(t, s, fmt.Sprintf("batch%d@example.com", i)))
		}
		_, err := s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Batch", Status: models.IncidentInvestigating, Message: "Looking."})
		modelstest.Fatal(t, err, "incident")
		fanOutAll(t, s)
		ds := claimAll(t, s)
		if len(ds) != 3 {
			t.Fatalf("%d claimed, want 3", len(ds))
		}
		// The third lease is lost: another engine took it over.
		stolen := ds[2]
		stolen.LeaseToken = "someone-else"
		outs := []models.MailOutcome{
			{Delivery: &ds[0], Result: models.MailResult{State: models.DeliveryDelivered, Code: 250, Reply: "2.0.0 queued", DurationMS: 3}},
			{Delivery: &ds[1], Result: models.MailResult{State: models.DeliveryRetrying, Code: 451, Error: "451 try later", NextAt: clock.Now().Add(time.Minute)}},
			{Delivery: &stolen, Result: models.MailResult{State: models.DeliveryDelivered, Code: 250}},
		}
		lost, err := s.RecordSubscriberAttempts(ctx, outs)
		modelstest.Fatal(t, err, "record")
		if lost != 1 {
			t.Errorf("lost = %d, want 1", lost)
		}
		for i, want := range []struct {
			state    models.DeliveryState
			attempts int
		}{{models.DeliveryDelivered, 1}, {models.DeliveryRetrying, 1}, {models.DeliveryPending, 0}} {
			logs, _, err := s.SubscriberDeliveryLogs(ctx, ids[i], 10)
			modelstest.Fatal(t, err, "logs")
			ev := logs[0] // newest first: the incident's
			if ev.Delivery.State != want.state || len(ev.Log) != want.attempts || ev.EventType != models.EventIncidentCreated || ev.EventTitle != "Batch" {
				t.Errorf("subscriber %d: %s, %d attempts, event %s %q; want %s, %d", i, ev.Delivery.State, len(ev.Log), ev.EventType, ev.EventTitle, want.state, want.attempts)
			}
		}
		if ds[0].State != models.DeliveryDelivered || ds[0].Attempts != 1 || ds[0].LeaseToken != "" {
			t.Errorf("the recorded delivery in memory: %+v", ds[0])
		}
		// Pruning deletes the attempts with their deliveries.
		clock.Add(time.Hour)
		n, err := s.PruneSubscriberDeliveries(ctx, clock.Now())
		modelstest.Fatal(t, err, "prune")
		if n != 4 { // three confirmations and one delivered incident
			t.Errorf("pruned %d, want 4", n)
		}
		logs, _, _ := s.SubscriberDeliveryLogs(ctx, ids[0], 10)
		if len(logs) != 0 {
			t.Errorf("%d deliveries left after pruning", len(logs))
		}
	})
}

func TestReplaySubscriberDeliveryRefusals(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		// Bouncing: three permanent refusals.
		bouncing := activeSubscriber(t, s, "bounce@example.com")
		for i := range models.BounceAfter {
			_, err := s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: fmt.Sprintf("Bounce %d", i), Status: models.IncidentInvestigating, Message: "Looking."})
			modelstest.Fatal(t, err, "incident")
			fanOutAll(t, s)
			for _, d := range claimAll(t, s) {
				modelstest.Fatal(t, s.RecordSubscriberAttempt(ctx, &d, models.MailResult{State: models.DeliveryFailed, Permanent: true, Code: 550}), "record")
			}
		}
		sub, err := s.SubscriberByID(ctx, bouncing)
		modelstest.Fatal(t, err, "subscriber")
		if sub.State != models.SubscriberBouncing {
			t.Fatalf("state %s after %d refusals", sub.State, models.BounceAfter)
		}
		logs, total, _ := s.SubscriberDeliveryLogs(ctx, bouncing, 10)
		if total != 1+int64(models.BounceAfter) {
			t.Fatalf("%d deliveries", total)
		}
		if err := s.ReplaySubscriberDelivery(ctx, bouncing, logs[0].Delivery.ID); !errors.Is(err, models.ErrSubscriberBouncing) {
			t.Errorf("replay to a bouncing address: %v", err)
		}

		// Gone: unsubscribed (deleted) since.
		gone := activeSubscriber(t, s, "gone@example.com")
		logs, _, _ = s.SubscriberDeliveryLogs(ctx, gone, 10)
		modelstest.Fatal(t, s.DeleteSubscriber(ctx, gone), "delete")
		if err := s.ReplaySubscriberDelivery(ctx, gone, logs[0].Delivery.ID); !errors.Is(err, models.ErrSubscriberGone) {
			t.Errorf("replay to a deleted subscriber: %v", err)
		}

		// A confirmation once confirmed is not sent again.
		kept := activeSubscriber(t, s, "kept@example.com")
		logs, _, _ = s.SubscriberDeliveryLogs(ctx, kept, 10)
		if err := s.ReplaySubscriberDelivery(ctx, kept, logs[0].Delivery.ID); !errors.Is(err, models.ErrSubscriberConfirmed) {
			t.Errorf("replay of a confirmation once confirmed: %v", err)
		}

		// Another subscriber's delivery is not found; one in flight conflicts.
		_, err = s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Kept", Status: models.IncidentInvestigating, Message: "Looking."})
		modelstest.Fatal(t, err, "incident")
		fanOutAll(t, s)
		for _, d := range claimAll(t, s) {
			modelstest.Fatal(t, s.RecordSubscriberAttempt(ctx, &d, models.MailResult{State: models.DeliveryFailed, Code: 554}), "record")
		}
		logs, _, _ = s.SubscriberDeliveryLogs(ctx, kept, 10)
		if err := s.ReplaySubscriberDelivery(ctx, bouncing, logs[0].Delivery.ID); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("replay of another subscriber's e-mail: %v", err)
		}
		modelstest.Fatal(t, s.ReplaySubscriberDelivery(ctx, kept, logs[0].Delivery.ID), "replay")
		if ds := claimAll(t, s); len(ds) != 1 || ds[0].ID != logs[0].Delivery.ID || ds[0].Round() != 0 || ds[0].Attempts != 1 {
			t.Fatalf("after the replay, claimed %+v", ds)
		}
		if err := s.ReplaySubscriberDelivery(ctx, kept, logs[0].Delivery.ID); !errors.Is(err, models.ErrConflict) {
			t.Errorf("replay while an attempt is in flight: %v", err)
		}
	})
}
