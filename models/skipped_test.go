package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

// TestSkippedDeliveries: events while a channel is disabled are recorded
// as skipped deliveries with their events, never claimed, not sent when
// the channel is enabled again, and queued oldest event first on request.
func TestSkippedDeliveries(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		on := newChannel(t, s, models.ChannelInput{Name: "On"})
		off := newChannel(t, s, models.ChannelInput{Name: "Off"})
		offIncidents := newChannel(t, s, models.ChannelInput{Name: "Off, incidents only",
			Events: []models.EventType{models.EventIncidentCreated}})
		modelstest.Fatal(t, s.SetChannelEnabled(ctx, off.ID, false), "disable")
		modelstest.Fatal(t, s.SetChannelEnabled(ctx, offIncidents.ID, false), "disable")

		var events []models.Event
		for _, name := range []string{"API", "Web", "Jobs"} {
			clock.Add(time.Second)
			_, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: name, Status: models.StatusOperational})
			modelstest.Fatal(t, err, "component")
			evs, err := s.Events(ctx, models.EventFilter{Type: models.EventComponentCreated})
			modelstest.Fatal(t, err, "events")
			events = append(events, evs[len(evs)-1])
		}

		skipped, err := s.Deliveries(ctx, models.DeliveryFilter{ChannelID: off.ID})
		modelstest.Fatal(t, err, "deliveries")
		if len(skipped) != 3 {
			t.Fatalf("%d deliveries to the disabled channel, want 3 skipped", len(skipped))
		}
		for i, d := range skipped { // newest first
			ev := events[len(events)-1-i]
			if d.State != models.DeliverySkipped || d.DueAt != nil || d.EventID == nil || *d.EventID != ev.ID ||
				d.EventType != ev.Type || d.CompletedAt == nil || d.LastError == "" || d.Attempts != 0 {
				t.Errorf("skipped delivery %d = %+v, want skipped, not due, with event %s", i, d, ev.ID)
			}
		}
		if n, _ := s.CountDeliveries(ctx, models.DeliveryFilter{ChannelID: offIncidents.ID}); n != 0 {
			t.Errorf("%d deliveries to a disabled channel that does not want the event", n)
		}
		counts, err := s.SkippedCounts(ctx, models.DefaultPageID)
		modelstest.Fatal(t, err, "skipped counts")
		if len(counts) != 1 || counts[off.ID] != 3 {
			t.Errorf("skipped counts = %v, want %d: 3", counts, off.ID)
		}

		if _, err := s.QueueSkippedDeliveries(ctx, off.ID); !errors.Is(err, models.ErrChannelDisabled) || !errors.Is(err, models.ErrConflict) {
			t.Errorf("sending the skipped deliveries of a disabled channel: err = %v, want ErrChannelDisabled", err)
		}
		if _, err := s.QueueSkippedDeliveries(ctx, 9999); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("unknown channel: err = %v, want ErrNotFound", err)
		}

		// Enabling sends nothing of what was skipped.
		modelstest.Fatal(t, s.SetChannelEnabled(ctx, off.ID, true), "enable")
		claimed, err := s.ClaimDeliveries(ctx, models.ClaimOptions{Limit: 100, Lease: time.Minute})
		modelstest.Fatal(t, err, "claim")
		for _, d := range claimed {
			if d.ChannelID != on.ID {
				t.Errorf("claimed %s of channel %d after enabling it: skipped deliveries must wait for the admin", d.ID, d.ChannelID)
			}
			modelstest.Fatal(t, s.RecordAttempt(ctx, &d, models.AttemptResult{State: models.DeliveryDelivered,
				Attempt: models.DeliveryAttempt{Number: 1, StartedAt: clock.Now()}}), "record")
		}
		if len(claimed) != 3 {
			t.Errorf("claimed %d, want the enabled channel's 3", len(claimed))
		}

		n, err := s.QueueSkippedDeliveries(ctx, off.ID)
		modelstest.Fatal(t, err, "send skipped")
		if n != 3 {
			t.Fatalf("queued %d, want 3", n)
		}
		if counts, _ := s.SkippedCounts(ctx, models.DefaultPageID); len(counts) != 0 {
			t.Errorf("skipped counts after sending = %v", counts)
		}
		// One at a time, the claims come oldest event first.
		for i, ev := range events {
			c, err := s.ClaimDeliveries(ctx, models.ClaimOptions{Limit: 1, Lease: time.Minute})
			modelstest.Fatal(t, err, "claim queued")
			if len(c) != 1 || c[0].ChannelID != off.ID || *c[0].EventID != ev.ID || c[0].State != models.DeliveryPending ||
				c[0].CompletedAt != nil || c[0].Round() != 0 {
				t.Fatalf("claim %d = %+v, want the delivery of event %s", i, c, ev.ID)
			}
		}
		if again, _ := s.QueueSkippedDeliveries(ctx, off.ID); again != 0 {
			t.Errorf("queued %d more, want 0", again)
		}
		entries, err := s.AuditEntries(ctx, models.AuditFilter{Action: "channel.send_skipped"})
		modelstest.Fatal(t, err, "audit")
		if len(entries) != 1 || entries[0].ObjectID != itoa(off.ID) || entries[0].Summary != "Sent the 3 skipped notifications of “Off”, oldest event first." {
			t.Errorf("audit = %+v, want one channel.send_skipped entry", entries)
		}
	})
}

// TestSkippedDeliveriesArePruned: retention treats skipped deliveries as
// final, from the time of their event.
func TestSkippedDeliveriesArePruned(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		off := newChannel(t, s, models.ChannelInput{Name: "Off"})
		modelstest.Fatal(t, s.SetChannelEnabled(ctx, off.ID, false), "disable")
		_, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "Old", Status: models.StatusOperational})
		modelstest.Fatal(t, err, "old event")
		clock.Add(31 * 24 * time.Hour)
		_, err = s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "New", Status: models.StatusOperational})
		modelstest.Fatal(t, err, "new event")
		n, err := s.PruneDeliveries(ctx, clock.Now().Add(-30*24*time.Hour))
		modelstest.Fatal(t, err, "prune")
		left, _ := s.Deliveries(ctx, models.DeliveryFilter{ChannelID: off.ID})
		if n != 1 || len(left) != 1 || left[0].State != models.DeliverySkipped || !left[0].CreatedAt.Equal(clock.Now()) {
			t.Errorf("pruned %d, left %+v: want the old skipped delivery gone, the new one kept", n, left)
		}
	})
}
