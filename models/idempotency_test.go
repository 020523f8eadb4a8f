package models_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

func TestIdempotencyKeys(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		lease := time.Minute
		got, err := s.ClaimIdempotent(ctx, "tok-a", "key-1", "hash-1", lease)
		if err != nil || got != nil {
			t.Fatalf("first use: %v, %v; want go ahead", got, err)
		}
		if _, err := s.ClaimIdempotent(ctx, "tok-a", "key-1", "hash-1", lease); !errors.Is(err, models.ErrIdempotencyInFlight) {
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
		got, err = s.ClaimIdempotent(ctx, "tok-a", "key-1", "hash-1", lease)
		if err != nil || got == nil || *got != want {
			t.Errorf("replay: %+v, %v", got, err)
		}
		if _, err := s.ClaimIdempotent(ctx, "tok-a", "key-1", "hash-2", lease); !errors.Is(err, models.ErrIdempotencyMismatch) {
			t.Errorf("another body: err = %v", err)
		}
		if got, err := s.ClaimIdempotent(ctx, "tok-b", "key-1", "hash-2", lease); err != nil || got != nil {
			t.Errorf("another token, same key: %v, %v; want go ahead", got, err)
		}
		// Abandoned keys can be used again; expired ones are forgotten.
		modelstest.Fatal(t, s.AbandonIdempotent(ctx, "tok-b", "key-1"), "abandon")
		if got, err := s.ClaimIdempotent(ctx, "tok-b", "key-1", "hash-3", lease); err != nil || got != nil {
			t.Errorf("after abandon: %v, %v", got, err)
		}
		clock.Add(models.IdempotencyWindow + time.Minute)
		if got, err := s.ClaimIdempotent(ctx, "tok-a", "key-1", "hash-9", lease); err != nil || got != nil {
			t.Errorf("after 24 h: %v, %v; want go ahead", got, err)
		}
	})
}

// A claim whose request died without releasing it (a crash, a lost
// database) is in flight only for its lease.
func TestIdempotencyLeaseExpires(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		if got, err := s.ClaimIdempotent(ctx, "tok", "k", "h", time.Minute); err != nil || got != nil {
			t.Fatalf("claim: %v, %v", got, err)
		}
		clock.Add(30 * time.Second)
		if _, err := s.ClaimIdempotent(ctx, "tok", "k", "h", time.Minute); !errors.Is(err, models.ErrIdempotencyInFlight) {
			t.Errorf("within the lease: err = %v, want in flight", err)
		}
		clock.Add(31 * time.Second)
		if got, err := s.ClaimIdempotent(ctx, "tok", "k", "h", time.Minute); err != nil || got != nil {
			t.Errorf("after the lease: %v, %v; want go ahead", got, err)
		}
		// Idempotently never leaves a claim behind, so any claim in flight
		// it meets was abandoned (by ClaimIdempotent's caller or an older
		// Herald) and is taken over at once.
		ran := false
		_, replayed, err := s.Idempotently(ctx, "tok", "k", "h", func(context.Context) (models.IdempotentResponse, error) {
			ran = true
			return models.IdempotentResponse{Status: 201, Body: "{}"}, nil
		})
		if err != nil || replayed || !ran {
			t.Errorf("unit over an abandoned claim: ran %v, replayed %v, %v", ran, replayed, err)
		}
	})
}

func countComponents(t *testing.T, s *models.Store) int {
	t.Helper()
	db, err := s.SQLDB()
	modelstest.Fatal(t, err, "sql db")
	var n int
	modelstest.Fatal(t, db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM components").Scan(&n), "count components")
	return n
}

// The claim, the change and the answer are one unit: committed together
// or not at all.
func TestIdempotentlyIsOneUnitOfWork(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		create := func(name string) func(ctx context.Context) (models.IdempotentResponse, error) {
			return func(ctx context.Context) (models.IdempotentResponse, error) {
				c, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: name, Visible: true, Status: models.StatusOperational})
				if err != nil {
					return models.IdempotentResponse{}, err
				}
				return models.IdempotentResponse{Status: 201, ContentType: "application/json", Location: fmt.Sprintf("/c/%d", c.ID), Body: name}, nil
			}
		}
		first, replayed, err := s.Idempotently(ctx, "tok", "k1", "h1", create("API"))
		if err != nil || replayed || first.Status != 201 {
			t.Fatalf("first: %+v %v %v", first, replayed, err)
		}
		again, replayed, err := s.Idempotently(ctx, "tok", "k1", "h1", func(context.Context) (models.IdempotentResponse, error) {
			t.Error("a stored answer ran the request again")
			return models.IdempotentResponse{}, nil
		})
		if err != nil || !replayed || again != first {
			t.Errorf("replay: %+v %v %v, want %+v", again, replayed, err, first)
		}
		if _, _, err := s.Idempotently(ctx, "tok", "k1", "h2", create("Other")); !errors.Is(err, models.ErrIdempotencyMismatch) {
			t.Errorf("another request with the key: %v", err)
		}
		if n := countComponents(t, s); n != 1 {
			t.Fatalf("%d components, want 1", n)
		}

		// A failure after the write undoes the write and frees the key.
		boom := errors.New("boom")
		_, _, err = s.Idempotently(ctx, "tok", "k2", "h", func(ctx context.Context) (models.IdempotentResponse, error) {
			if _, err := create("Lost")(ctx); err != nil {
				return models.IdempotentResponse{}, err
			}
			return models.IdempotentResponse{}, boom
		})
		if !errors.Is(err, boom) {
			t.Errorf("failing request: %v", err)
		}
		// So does a 5xx answer, which is returned but not kept.
		ans, _, err := s.Idempotently(ctx, "tok", "k2", "h", func(ctx context.Context) (models.IdempotentResponse, error) {
			if _, err := create("Lost")(ctx); err != nil {
				return models.IdempotentResponse{}, err
			}
			return models.IdempotentResponse{Status: 500, Body: "oops"}, nil
		})
		if err != nil || ans.Status != 500 {
			t.Errorf("5xx: %+v %v", ans, err)
		}
		// And a request cancelled half-way, as when its client gives up.
		cctx, cancel := context.WithCancel(ctx)
		_, _, err = s.Idempotently(cctx, "tok", "k2", "h", func(ctx context.Context) (models.IdempotentResponse, error) {
			if _, err := create("Lost")(ctx); err != nil {
				return models.IdempotentResponse{}, err
			}
			cancel()
			return create("Lost too")(ctx)
		})
		if err == nil {
			t.Error("cancelled request: no error")
		}
		if n := countComponents(t, s); n != 1 {
			t.Errorf("%d components after three failed attempts, want 1", n)
		}
		// The key is still free: a retry runs and commits.
		if ans, replayed, err := s.Idempotently(ctx, "tok", "k2", "h", create("Kept")); err != nil || replayed || ans.Body != "Kept" {
			t.Errorf("retry after failures: %+v %v %v", ans, replayed, err)
		}
		if n := countComponents(t, s); n != 2 {
			t.Errorf("%d components, want 2", n)
		}
	})
}

// Concurrent requests with one key: one runs, the others wait for its
// commit and get its answer; none is refused.
func TestIdempotentlyConcurrentDuplicates(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		var runs atomic.Int32
		var wg sync.WaitGroup
		answers := make([]models.IdempotentResponse, 8)
		errs := make([]error, 8)
		for i := range answers {
			wg.Go(func() {
				answers[i], _, errs[i] = s.Idempotently(context.Background(), "tok", "same", "h", func(ctx context.Context) (models.IdempotentResponse, error) {
					runs.Add(1)
					c, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Visible: true, Status: models.StatusOperational})
					if err != nil {
						return models.IdempotentResponse{}, err
					}
					time.Sleep(50 * time.Millisecond) // let the others arrive meanwhile
					return models.IdempotentResponse{Status: 201, Body: fmt.Sprint(c.ID)}, nil
				})
			})
		}
		wg.Wait()
		for i := range answers {
			if errs[i] != nil || answers[i] != answers[0] || answers[i].Status != 201 {
				t.Errorf("request %d: %+v %v, want %+v", i, answers[i], errs[i], answers[0])
			}
		}
		if n := runs.Load(); n != 1 {
			t.Errorf("the request ran %d times, want 1", n)
		}
		if n := countComponents(t, s); n != 1 {
			t.Errorf("%d components, want 1", n)
		}
	})
}
