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

func newChannel(t *testing.T, s *models.Store, in models.ChannelInput) *models.Channel {
	t.Helper()
	if in.Type == "" {
		in.Type = models.ChannelWebhook
	}
	if in.Name == "" {
		in.Name = "Receiver"
	}
	if in.URL == "" {
		in.URL = "https://hooks.example.com/herald?token=abc123"
	}
	in.Enabled = true
	c, err := s.CreateChannel(context.Background(), models.DefaultPageID, in)
	modelstest.Fatal(t, err, "create channel")
	return c
}

func TestChannelCredentialsAreSealed(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		slack := newChannel(t, s, models.ChannelInput{Type: models.ChannelSlack, Name: "Ops",
			URL: "https://hooks.slack.com/services/T0001/B0002/SECRETSECRET"})
		hook := newChannel(t, s, models.ChannelInput{HeadersText: "Authorization: Bearer tok-123\nX-Team: ops"})

		var raw []string
		db, err := s.SQLDB()
		modelstest.Fatal(t, err, "sql db")
		rows, err := db.QueryContext(ctx, "SELECT url_sealed, url_hint, headers_sealed, secret_sealed FROM channels")
		modelstest.Fatal(t, err, "read raw rows")
		for rows.Next() {
			var a, b, c, d string
			modelstest.Fatal(t, rows.Scan(&a, &b, &c, &d), "scan")
			raw = append(raw, a, b, c, d)
		}
		rows.Close()
		all := strings.Join(raw, " ")
		for _, secret := range []string{"SECRETSECRET", "tok-123", "abc123", hook.Secret} {
			if strings.Contains(all, secret) {
				t.Errorf("the channels table holds %q in clear: %s", secret, all)
			}
		}
		if slack.URLHint != "https://hooks.slack.com/services/••••" {
			t.Errorf("slack hint = %q", slack.URLHint)
		}
		if hook.URLHint != "https://hooks.example.com/herald?token=••••" {
			t.Errorf("webhook hint = %q", hook.URLHint)
		}

		got, err := s.Channel(ctx, hook.ID)
		modelstest.Fatal(t, err, "load")
		if got.URL != "https://hooks.example.com/herald?token=abc123" || got.Secret != hook.Secret ||
			len(got.Headers) != 2 || got.Headers[0].Value != "Bearer tok-123" {
			t.Errorf("loaded channel = %+v", got)
		}
		if !strings.HasPrefix(got.Secret, "whsec_") || len(got.Secret) != 6+44 {
			t.Errorf("secret %q is not whsec_ + base64 of 32 bytes", got.Secret)
		}

		// Masked values in an edit keep the stored ones.
		upd, err := s.UpdateChannel(ctx, hook.ID, models.ChannelInput{Name: "Renamed", Enabled: true,
			HeadersText: "Authorization: " + models.MaskedValue + "\nX-Team: sre"})
		modelstest.Fatal(t, err, "update")
		if upd.URL != got.URL || upd.Headers[0].Value != "Bearer tok-123" || upd.Headers[1].Value != "sre" {
			t.Errorf("update lost credentials: %+v", upd)
		}

		// Rotation: both secrets sign inside the window, only the new after.
		rot, err := s.RotateChannelSecret(ctx, hook.ID, time.Hour)
		modelstest.Fatal(t, err, "rotate")
		if rot.Secret == hook.Secret || rot.PreviousSecret != hook.Secret {
			t.Fatalf("rotate: secret %q previous %q", rot.Secret, rot.PreviousSecret)
		}
		if ss := rot.SigningSecrets(clock.Now()); len(ss) != 2 || ss[0] != rot.Secret {
			t.Errorf("signing secrets in the window = %v", ss)
		}
		if ss := rot.SigningSecrets(clock.Now().Add(2 * time.Hour)); len(ss) != 1 {
			t.Errorf("signing secrets after the window = %v", ss)
		}
		if _, err := s.RotateChannelSecret(ctx, slack.ID, time.Hour); !isValidation(err) {
			t.Errorf("rotating a Slack channel: err = %v, want a validation error", err)
		}
	})
}

func TestChannelValidation(t *testing.T) {
	s := modelstest.Open(t, models.SQLite)
	ctx := context.Background()
	cases := []struct {
		name  string
		in    models.ChannelInput
		field string
	}{
		{"no name", models.ChannelInput{Type: models.ChannelWebhook, URL: "https://x.example"}, "name"},
		{"bad type", models.ChannelInput{Type: "email", Name: "x", URL: "https://x.example"}, "type"},
		{"no url", models.ChannelInput{Type: models.ChannelWebhook, Name: "x"}, "url"},
		{"ftp url", models.ChannelInput{Type: models.ChannelWebhook, Name: "x", URL: "ftp://x.example"}, "url"},
		{"relative url", models.ChannelInput{Type: models.ChannelWebhook, Name: "x", URL: "/hook"}, "url"},
		{"javascript url", models.ChannelInput{Type: models.ChannelWebhook, Name: "x", URL: "javascript:alert(1)"}, "url"},
		{"slack over http", models.ChannelInput{Type: models.ChannelSlack, Name: "x", URL: "http://hooks.slack.com/services/a"}, "url"},
		{"unknown event", models.ChannelInput{Type: models.ChannelWebhook, Name: "x", URL: "https://x.example", Events: []models.EventType{"incident.exploded"}}, "events"},
		{"header without colon", models.ChannelInput{Type: models.ChannelWebhook, Name: "x", URL: "https://x.example", HeadersText: "Authorization"}, "headers"},
		{"reserved header", models.ChannelInput{Type: models.ChannelWebhook, Name: "x", URL: "https://x.example", HeadersText: "X-Request-ID: 1"}, "headers"},
		{"webhook- header", models.ChannelInput{Type: models.ChannelWebhook, Name: "x", URL: "https://x.example", HeadersText: "webhook-id: 1"}, "headers"},
		{"headers on slack", models.ChannelInput{Type: models.ChannelSlack, Name: "x", URL: "https://hooks.slack.com/services/a", HeadersText: "A: b"}, "headers"},
		{"bad schedule", models.ChannelInput{Type: models.ChannelWebhook, Name: "x", URL: "https://x.example", RetrySchedule: "0s, soon"}, "retry_schedule"},
		{"negative schedule", models.ChannelInput{Type: models.ChannelWebhook, Name: "x", URL: "https://x.example", RetrySchedule: "-1m"}, "retry_schedule"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateChannel(ctx, models.DefaultPageID, tc.in)
			var ve *models.ValidationError
			if !errors.As(err, &ve) || ve.Fields[tc.field] == "" {
				t.Fatalf("err = %v, want a validation error on %s", err, tc.field)
			}
		})
	}
	cs, err := s.Channels(ctx, models.DefaultPageID)
	modelstest.Fatal(t, err, "list")
	if len(cs) != 0 {
		t.Errorf("invalid input wrote %d channels", len(cs))
	}
}

func TestDeliveryLifecycle(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		all := newChannel(t, s, models.ChannelInput{Name: "All"})
		onlyIncidents := newChannel(t, s, models.ChannelInput{Name: "Incidents",
			Events: []models.EventType{models.EventIncidentCreated}})
		off := newChannel(t, s, models.ChannelInput{Name: "Off"})
		modelstest.Fatal(t, s.SetChannelEnabled(ctx, off.ID, false), "disable")

		_, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Visible: true, Status: models.StatusOperational})
		modelstest.Fatal(t, err, "component")
		select {
		case <-s.DeliveriesDue():
		default:
			t.Error("a committed event did not wake the delivery worker")
		}

		ds, err := s.Deliveries(ctx, models.DeliveryFilter{State: models.DeliveryPending})
		modelstest.Fatal(t, err, "deliveries")
		if len(ds) != 1 || ds[0].ChannelID != all.ID || ds[0].EventType != models.EventComponentCreated ||
			ds[0].State != models.DeliveryPending || !strings.HasPrefix(ds[0].ID, "dlv_") {
			t.Fatalf("deliveries = %+v, want one pending to %q only", ds, all.Name)
		}
		if n, _ := s.CountDeliveries(ctx, models.DeliveryFilter{ChannelID: onlyIncidents.ID}); n != 0 {
			t.Errorf("%d deliveries to a channel that does not want the event", n)
		}
		// The disabled channel's is recorded as skipped (see skipped_test.go).
		if n, _ := s.CountDeliveries(ctx, models.DeliveryFilter{ChannelID: off.ID, State: models.DeliverySkipped}); n != 1 {
			t.Errorf("%d skipped deliveries to the disabled channel, want 1", n)
		}

		lease := time.Minute
		claimed, err := s.ClaimDeliveries(ctx, models.ClaimOptions{Limit: 10, Lease: lease})
		modelstest.Fatal(t, err, "claim")
		if len(claimed) != 1 || claimed[0].LeaseToken == "" {
			t.Fatalf("claimed = %+v", claimed)
		}
		again, err := s.ClaimDeliveries(ctx, models.ClaimOptions{Limit: 10, Lease: lease})
		modelstest.Fatal(t, err, "claim again")
		if len(again) != 0 {
			t.Fatalf("a leased delivery was claimed twice: %+v", again)
		}

		d := claimed[0]
		next := clock.Now().Add(time.Minute)
		err = s.RecordAttempt(ctx, &d, models.AttemptResult{State: models.DeliveryRetrying, NextAt: next,
			Attempt: models.DeliveryAttempt{Number: 1, StartedAt: clock.Now(), DurationMS: 12,
				RequestURL: "https://x", RequestHeaders: "{}", RequestBody: "{}", ResponseStatus: 500, Error: "HTTP 500"}})
		modelstest.Fatal(t, err, "record")
		if due, ok, _ := s.NextDue(ctx); !ok || !due.Equal(next.Truncate(time.Millisecond)) {
			t.Errorf("NextDue = %v %v, want %v", due, ok, next)
		}
		if c, _ := s.ClaimDeliveries(ctx, models.ClaimOptions{Limit: 10, Lease: lease}); len(c) != 0 {
			t.Fatalf("claimed before due: %+v", c)
		}
		clock.Add(time.Minute)
		claimed, err = s.ClaimDeliveries(ctx, models.ClaimOptions{Limit: 10, Lease: lease})
		modelstest.Fatal(t, err, "claim due")
		if len(claimed) != 1 || claimed[0].Attempts != 1 {
			t.Fatalf("claimed = %+v", claimed)
		}
		d = claimed[0]
		err = s.RecordAttempt(ctx, &d, models.AttemptResult{State: models.DeliveryDelivered,
			Attempt: models.DeliveryAttempt{Number: 2, StartedAt: clock.Now(), DurationMS: 5, RequestURL: "https://x",
				RequestHeaders: "{}", RequestBody: "{}", ResponseStatus: 200}})
		modelstest.Fatal(t, err, "record delivered")
		// A stale lease holder cannot record over it.
		stale := claimed[0]
		stale.LeaseToken = "stale"
		err = s.RecordAttempt(ctx, &stale, models.AttemptResult{State: models.DeliveryFailed,
			Attempt: models.DeliveryAttempt{Number: 3, StartedAt: clock.Now()}})
		if !errors.Is(err, models.ErrLeaseLost) {
			t.Errorf("recording with a lost lease: err = %v, want ErrLeaseLost", err)
		}
		got, err := s.Delivery(ctx, d.ID)
		modelstest.Fatal(t, err, "load")
		if got.State != models.DeliveryDelivered || got.Attempts != 2 || got.DueAt != nil || got.LastStatus != 200 {
			t.Errorf("delivery = %+v", got)
		}
		atts, err := s.DeliveryAttempts(ctx, d.ID)
		modelstest.Fatal(t, err, "attempts")
		if len(atts) != 2 || atts[0].Number != 1 || atts[0].Outcome != "retrying" || atts[1].Outcome != "delivered" || atts[0].DurationMS != 12 {
			t.Errorf("attempts = %+v", atts)
		}

		// Replay: one more attempt, a fresh schedule, the same id.
		modelstest.Fatal(t, s.ReplayDelivery(ctx, d.ID), "replay")
		claimed, err = s.ClaimDeliveries(ctx, models.ClaimOptions{Limit: 10, Lease: lease})
		modelstest.Fatal(t, err, "claim replay")
		if len(claimed) != 1 || claimed[0].ID != d.ID || claimed[0].Round() != 0 {
			t.Fatalf("replay claimed = %+v", claimed)
		}
		if err := s.ReplayDelivery(ctx, d.ID); !errors.Is(err, models.ErrConflict) {
			t.Errorf("replay while in flight: err = %v, want ErrConflict", err)
		}
		if err := s.ReplayDelivery(ctx, "dlv_missing"); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("replay of a missing delivery: err = %v, want ErrNotFound", err)
		}
		modelstest.Fatal(t, s.ReleaseDelivery(ctx, &claimed[0]), "release")
		if c, _ := s.ClaimDeliveries(ctx, models.ClaimOptions{Limit: 10, Lease: lease}); len(c) != 1 {
			t.Errorf("a released delivery was not claimable at once: %+v", c)
		}

		// Pruning removes final deliveries past retention only.
		n, err := s.PruneDeliveries(ctx, clock.Now().Add(-time.Hour))
		modelstest.Fatal(t, err, "prune")
		if n != 0 {
			t.Errorf("pruned %d fresh deliveries", n)
		}
		clock.Add(2 * lease) // the claim above lapses
		again, err = s.ClaimDeliveries(ctx, models.ClaimOptions{Limit: 10, Lease: lease})
		modelstest.Fatal(t, err, "claim to finish")
		if len(again) != 1 {
			t.Fatalf("a lapsed lease was not claimable: %+v", again)
		}
		for i := range again {
			modelstest.Fatal(t, s.RecordAttempt(ctx, &again[i], models.AttemptResult{State: models.DeliveryDelivered,
				Attempt: models.DeliveryAttempt{Number: again[i].Attempts + 1, StartedAt: clock.Now()}}), "finish")
		}
		clock.Add(31 * 24 * time.Hour)
		_, err = s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "Fresh", Status: models.StatusOperational})
		modelstest.Fatal(t, err, "fresh event")
		n, err = s.PruneDeliveries(ctx, clock.Now().Add(-30*24*time.Hour))
		modelstest.Fatal(t, err, "prune old")
		left, _ := s.Deliveries(ctx, models.DeliveryFilter{})
		// Pruned: the old delivered one and the old skipped one; left: the
		// fresh event's pending and skipped deliveries.
		if n != 2 || len(left) != 2 || left[0].EventType != models.EventComponentCreated || left[1].EventType != models.EventComponentCreated {
			t.Errorf("pruned %d; left %+v, want only the fresh event's deliveries", n, left)
		}
		if atts, _ := s.DeliveryAttempts(ctx, d.ID); len(atts) != 0 {
			t.Errorf("attempts of a pruned delivery remain: %d", len(atts))
		}
	})
}

func TestChannelAutoDisable(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		c := newChannel(t, s, models.ChannelInput{})
		fail := func() {
			t.Helper()
			_, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "C" + itoa(clock.Now().Unix()), Status: models.StatusOperational})
			modelstest.Fatal(t, err, "component")
			ds, err := s.ClaimDeliveries(ctx, models.ClaimOptions{Limit: 10, Lease: time.Minute})
			modelstest.Fatal(t, err, "claim")
			for i := range ds {
				err := s.RecordAttempt(ctx, &ds[i], models.AttemptResult{State: models.DeliveryFailed,
					DisableAfter: 3, DisableWindow: 24 * time.Hour,
					Attempt: models.DeliveryAttempt{Number: 1, StartedAt: clock.Now(), ResponseStatus: 500}})
				modelstest.Fatal(t, err, "record")
			}
		}
		for range 5 {
			fail()
			clock.Add(time.Hour)
		}
		got, _ := s.Channel(ctx, c.ID)
		if !got.Enabled || got.FailedEvents != 5 {
			t.Fatalf("after 5 failures in 5 h: enabled=%v failed=%d; want still enabled (under 24 h)", got.Enabled, got.FailedEvents)
		}
		clock.Add(20 * time.Hour)
		fail()
		got, _ = s.Channel(ctx, c.ID)
		if got.Enabled || !strings.Contains(got.DisabledReason, "automatically") {
			t.Fatalf("after 24 h of failures: enabled=%v reason=%q", got.Enabled, got.DisabledReason)
		}
		modelstest.Fatal(t, s.SetChannelEnabled(ctx, c.ID, true), "re-enable")
		got, _ = s.Channel(ctx, c.ID)
		if !got.Enabled || got.FailedEvents != 0 || got.FailingSince != nil || got.DisabledReason != "" {
			t.Errorf("re-enabled channel = %+v", got)
		}
	})
}

func isValidation(err error) bool {
	var ve *models.ValidationError
	return errors.As(err, &ve)
}
