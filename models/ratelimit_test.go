package models_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

// TestChannelPauseAndSerialHold: a serial channel (Slack) is held while
// one attempt is in flight and paced after it, a rate-limit pause holds
// every delivery of the channel, and a second store on the same database
// (another replica) honours both. A rate-limited try keeps the
// delivery's place in its retry schedule, and the backlog resumes oldest
// event first.
func TestChannelPauseAndSerialHold(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		other, err := models.Open(ctx, s.DSN(), models.Options{Now: clock.Now, Sealer: modelstest.TestVault(t)})
		modelstest.Fatal(t, err, "open a second store")
		t.Cleanup(func() { other.Close() })
		slack := newChannel(t, s, models.ChannelInput{Type: models.ChannelSlack, Name: "Slack", URL: "https://hooks.slack.com/services/T0/B0/x"})
		hook := newChannel(t, s, models.ChannelInput{Name: "Hook"})
		for i := range 3 {
			_, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: fmt.Sprintf("C%d", i), Status: models.StatusOperational})
			modelstest.Fatal(t, err, "component")
		}
		lease := time.Minute
		record := func(d *models.Delivery, r models.AttemptResult) {
			t.Helper()
			r.Attempt = models.DeliveryAttempt{Number: d.Attempts + 1, StartedAt: clock.Now(), RequestURL: "https://x", RequestHeaders: "{}", RequestBody: "{}"}
			modelstest.Fatal(t, s.RecordAttempt(ctx, d, r), "record")
		}
		claim := func(st *models.Store) (plain, serial []models.Delivery) {
			t.Helper()
			ds, err := st.ClaimDeliveries(ctx, models.ClaimOptions{Limit: 10, Lease: lease})
			modelstest.Fatal(t, err, "claim")
			for _, d := range ds {
				if d.Serial {
					serial = append(serial, d)
				} else {
					plain = append(plain, d)
				}
			}
			return plain, serial
		}
		all, _ := s.Deliveries(ctx, models.DeliveryFilter{ChannelID: slack.ID})
		if len(all) != 3 {
			t.Fatalf("%d Slack deliveries, want 3", len(all))
		}
		oldest, second := all[2], all[1] // Deliveries lists newest first

		plain, serial := claim(s)
		if len(plain) != 3 || len(serial) != 1 || serial[0].ID != oldest.ID || plain[0].ChannelID != hook.ID {
			t.Fatalf("first claim: plain %d, serial %+v; want the webhook's 3 and Slack's oldest only", len(plain), serial)
		}
		for i := range plain {
			record(&plain[i], models.AttemptResult{State: models.DeliveryDelivered})
		}
		if p, sr := claim(other); len(p)+len(sr) != 0 {
			t.Fatalf("another replica claimed %d while Slack is held", len(p)+len(sr))
		}

		// Delivered; the next request may go a second later, on any replica.
		record(&serial[0], models.AttemptResult{State: models.DeliveryDelivered, NextSendAt: clock.Now().Add(time.Second)})
		if _, sr := claim(other); len(sr) != 0 {
			t.Fatalf("claimed within the pace: %+v", sr)
		}
		if due, ok, _ := other.NextDue(ctx); !ok || !due.Equal(clock.Now().Add(time.Second)) {
			t.Errorf("NextDue = %v %v, want the pace's end", due, ok)
		}
		clock.Add(time.Second)
		_, sr := claim(other)
		if len(sr) != 1 || sr[0].ID != second.ID {
			t.Fatalf("after the pace, claimed %+v; want the second oldest", sr)
		}

		// Rate limited: the channel pauses, the schedule does not advance.
		pause := clock.Now().Add(5 * time.Second)
		d := sr[0]
		modelstest.Fatal(t, other.RecordAttempt(ctx, &d, models.AttemptResult{State: models.DeliveryRetrying, RateLimited: true,
			NextAt: pause, PauseUntil: pause, Attempt: models.DeliveryAttempt{Number: 1, StartedAt: clock.Now(), ResponseStatus: 429,
				RequestURL: "https://x", RequestHeaders: "{}", RequestBody: "{}"}}), "record the 429")
		got, _ := s.Delivery(ctx, d.ID)
		if got.State != models.DeliveryRetrying || got.Attempts != 1 || got.Round() != 0 {
			t.Errorf("rate-limited delivery: state %s, attempts %d, round %d; want retrying, 1, round 0", got.State, got.Attempts, got.Round())
		}
		as, _ := s.DeliveryAttempts(ctx, d.ID)
		if len(as) != 1 || as[0].Outcome != models.OutcomeRateLimited {
			t.Errorf("attempts = %+v, want one rate_limited", as)
		}
		if since, ok, _ := s.RateLimitedSince(ctx, d.ID); !ok || !since.Equal(clock.Now()) {
			t.Errorf("RateLimitedSince = %v %v", since, ok)
		}
		ch, _ := s.Channel(ctx, slack.ID)
		if ch.PausedUntil != pause.UnixMilli() {
			t.Errorf("paused_until = %d, want %d", ch.PausedUntil, pause.UnixMilli())
		}
		clock.Add(2 * time.Second)
		if _, sr := claim(s); len(sr) != 0 {
			t.Fatalf("claimed during the pause: %+v", sr)
		}
		if due, ok, _ := s.NextDue(ctx); !ok || !due.Equal(pause) {
			t.Errorf("NextDue = %v %v, want the pause's end %v", due, ok, pause)
		}
		// Saving the channel keeps the pause (only the engine writes it).
		_, err = s.UpdateChannel(ctx, slack.ID, models.ChannelInput{Name: "Slack renamed", Enabled: true})
		modelstest.Fatal(t, err, "update channel")
		if ch, _ := s.Channel(ctx, slack.ID); ch.PausedUntil != pause.UnixMilli() {
			t.Errorf("saving the channel changed paused_until to %d", ch.PausedUntil)
		}
		clock.Add(3 * time.Second)
		_, sr = claim(s)
		if len(sr) != 1 || sr[0].ID != second.ID {
			t.Fatalf("after the pause, claimed %+v; want the rate-limited delivery (the oldest left) first", sr)
		}
		modelstest.Fatal(t, s.ReleaseDelivery(ctx, &sr[0]), "release")
		if _, sr := claim(other); len(sr) != 1 {
			t.Errorf("releasing a serial delivery did not release its channel: %+v", sr)
		}
	})
}
