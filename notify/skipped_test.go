package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/notify"
)

// TestSkippedDeliveriesWaitForTheAdmin: events while a channel is
// disabled reach its receiver neither then nor when it is enabled again;
// once the admin sends them, all arrive, in event order.
func TestSkippedDeliveriesWaitForTheAdmin(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		// One attempt at a time per channel, so arrival order is send order.
		startEngine(t, s, notify.Config{PerChannel: 1, Poll: 100 * time.Millisecond})
		skipping := newReceiver(t, nil)
		witness := newReceiver(t, nil)
		off := addChannel(t, s, models.ChannelWebhook, skipping.URL, "0s")
		addChannel(t, s, models.ChannelWebhook, witness.URL, "0s")
		modelstest.Fatal(t, s.SetChannelEnabled(ctx, off.ID, false), "disable")

		const n = 6
		for i := range n {
			fire(t, s, fmt.Sprintf("component %d", i))
			witness.next(t, 5*time.Second)
		}
		events, err := s.Events(ctx, models.EventFilter{Type: models.EventComponentCreated})
		modelstest.Fatal(t, err, "events")
		skipped, err := s.CountDeliveries(ctx, models.DeliveryFilter{ChannelID: off.ID, State: models.DeliverySkipped})
		modelstest.Fatal(t, err, "count")
		if len(events) != n || skipped != n {
			t.Fatalf("%d events, %d skipped deliveries; want %d of each", len(events), skipped, n)
		}

		modelstest.Fatal(t, s.SetChannelEnabled(ctx, off.ID, true), "enable")
		// The worker has seen the enabled channel once the next event,
		// sent after the enabling, reaches both receivers.
		fire(t, s, "after enabling")
		witness.next(t, 5*time.Second)
		skipping.next(t, 5*time.Second)
		time.Sleep(300 * time.Millisecond) // three polls: room for anything wrongly due
		if got := skipping.requests(); len(got) != 1 {
			t.Fatalf("the enabled channel got %d requests, want only the new event's: skipped ones went out on their own", len(got))
		}

		queued, err := s.QueueSkippedDeliveries(ctx, off.ID)
		modelstest.Fatal(t, err, "send skipped")
		if queued != n {
			t.Fatalf("queued %d, want %d", queued, n)
		}
		for i := range n {
			got := skipping.next(t, 5*time.Second)
			var body struct{ ID string }
			if err := json.Unmarshal(got.Body, &body); err != nil {
				t.Fatal(err)
			}
			if body.ID != events[i].ID {
				t.Errorf("request %d carries %s, want %s: not in event order", i, body.ID, events[i].ID)
			}
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			left, err := s.CountDeliveries(ctx, models.DeliveryFilter{ChannelID: off.ID, State: models.DeliveryDelivered})
			modelstest.Fatal(t, err, "count")
			if left == n+1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d delivered, want %d", left, n+1)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
