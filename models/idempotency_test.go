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

func TestIdempotencyKeys(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		got, err := s.BeginIdempotent(ctx, "tok-a", "key-1", "hash-1")
		if err != nil || got != nil {
			t.Fatalf("first use: %v, %v; want go ahead", got, err)
		}
		if _, err := s.BeginIdempotent(ctx, "tok-a", "key-1", "hash-1"); !errors.Is(err, models.ErrIdempotencyInFlight) {
			t.Errorf("while in flight: err = %v", err)
		}
		want := models.IdempotentResponse{Status: 201, ContentType: "application/json", Location: "/api/v1/channels/7", Body: `{"signing_secret":"whsec_SECRET"}`}
		modelstest.Fatal(t, s.FinishIdempotent(ctx, "tok-a", "key-1", want), "finish")
		db, err := s.SQLDB()
		modelstest.Fatal(t, err, "sql db")
		var stored string
		modelstest.Fatal(t, db.QueryRowContext(ctx, "SELECT body FROM idempotency_keys WHERE key = 'key-1'").Scan(&stored), "raw body")
		if strings.Contains(stored, "whsec_SECRET") {
			t.Errorf("the stored answer holds a secret in clear: %s", stored)
		}
		got, err = s.BeginIdempotent(ctx, "tok-a", "key-1", "hash-1")
		if err != nil || got == nil || *got != want {
			t.Errorf("replay: %+v, %v", got, err)
		}
		if _, err := s.BeginIdempotent(ctx, "tok-a", "key-1", "hash-2"); !errors.Is(err, models.ErrIdempotencyMismatch) {
			t.Errorf("another body: err = %v", err)
		}
		if got, err := s.BeginIdempotent(ctx, "tok-b", "key-1", "hash-2"); err != nil || got != nil {
			t.Errorf("another token, same key: %v, %v; want go ahead", got, err)
		}
		// Abandoned keys can be used again; expired ones are forgotten.
		modelstest.Fatal(t, s.AbandonIdempotent(ctx, "tok-b", "key-1"), "abandon")
		if got, err := s.BeginIdempotent(ctx, "tok-b", "key-1", "hash-3"); err != nil || got != nil {
			t.Errorf("after abandon: %v, %v", got, err)
		}
		clock.Add(models.IdempotencyWindow + time.Minute)
		if got, err := s.BeginIdempotent(ctx, "tok-a", "key-1", "hash-9"); err != nil || got != nil {
			t.Errorf("after 24 h: %v, %v; want go ahead", got, err)
		}
	})
}
