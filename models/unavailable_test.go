package models_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

// readWithin reads the page with a deadline of limit and returns the
// error and how long it took.
func readWithin(s *models.Store, limit time.Duration) (error, time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	start := time.Now()
	_, err := s.Components(ctx, models.DefaultPageID)
	return err, time.Since(start)
}

// A database that stops answering makes calls fail at their deadline
// with an error IsUnavailable recognises, and the stalled connection is
// abandoned: once the database answers again, so does the store.
func TestStalledDatabaseIsUnavailableAtTheDeadline(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			db := modelstest.OpenStallable(t, engine, models.Options{})
			if err, _ := readWithin(db.Store, 5*time.Second); err != nil {
				t.Fatalf("before the stall: %v", err)
			}
			db.Stall()
			const limit = 300 * time.Millisecond
			err, took := readWithin(db.Store, limit)
			if err == nil || !models.IsUnavailable(err) {
				t.Errorf("during the stall: err = %v, want one IsUnavailable recognises", err)
			}
			if took > limit+time.Second {
				t.Errorf("the call took %s with a deadline of %s", took, limit)
			}
			db.Restore()
			if err, _ := readWithin(db.Store, 5*time.Second); err != nil {
				t.Errorf("after the stall: %v", err)
			}
		})
	}
}

// A connection refused or lost is an outage too, and a cut heals.
func TestCutDatabaseIsUnavailable(t *testing.T) {
	db := modelstest.OpenStallable(t, models.Postgres, models.Options{})
	db.Proxy.Cut()
	err, took := readWithin(db.Store, 5*time.Second)
	if err == nil || !models.IsUnavailable(err) {
		t.Errorf("after a cut: err = %v, want one IsUnavailable recognises", err)
	}
	if took > 2*time.Second {
		t.Errorf("a refused connection took %s to fail", took)
	}
	// Pooled connections idle for over a second are checked before use
	// (pgx pings them), so after an outage longer than a blip the dead
	// ones are replaced, not handed to requests.
	time.Sleep(1100 * time.Millisecond)
	db.Proxy.Restore()
	for i := range 5 {
		if err, _ := readWithin(db.Store, 5*time.Second); err != nil {
			t.Errorf("after restore, read %d: %v", i, err)
		}
	}
}

// Opening a connection to a server that accepts and never answers gives
// up after the connect timeout, not when TCP does.
func TestConnectTimeout(t *testing.T) {
	modelstest.RequirePostgres(t)
	proxy, dsn := modelstest.ProxyPostgres(t, modelstest.NewDatabaseURL(t, models.Postgres))
	proxy.Stall()
	start := time.Now()
	s, err := models.Open(context.Background(), dsn, models.Options{ConnectTimeout: time.Second})
	if err == nil {
		s.Close()
		t.Fatal("opened a store through a stalled proxy")
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("gave up after %s with a connect timeout of 1 s", took)
	}
	if !models.IsUnavailable(err) {
		t.Errorf("connect timeout: %v is not recognised as unavailable", err)
	}
}

// PostgreSQL sessions carry statement_timeout: the server itself stops a
// statement that runs too long, and that is an outage, not a bug.
func TestStatementTimeout(t *testing.T) {
	s := modelstest.OpenWith(t, models.Postgres, models.Options{StatementTimeout: 200 * time.Millisecond})
	db, err := s.SQLDB()
	modelstest.Fatal(t, err, "sql db")
	var setting string
	modelstest.Fatal(t, db.QueryRowContext(t.Context(), "SHOW statement_timeout").Scan(&setting), "show statement_timeout")
	if setting != "200ms" {
		t.Errorf("statement_timeout = %q, want 200ms", setting)
	}
	start := time.Now()
	_, err = db.ExecContext(t.Context(), "SELECT pg_sleep(3)")
	if err == nil || !models.IsUnavailable(err) {
		t.Errorf("a statement over the timeout: err = %v, want one IsUnavailable recognises", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the statement ran %s with statement_timeout 200ms", took)
	}
	// Migrations are exempt: they may rewrite large tables.
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Errorf("migrate under statement_timeout: %v", err)
	}
}

func TestIsUnavailableLeavesOtherErrorsAlone(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		_, err := s.Page(t.Context(), 9999)
		if !errors.Is(err, models.ErrNotFound) || models.IsUnavailable(err) {
			t.Errorf("missing row: %v, unavailable = %v", err, models.IsUnavailable(err))
		}
		_, err = s.CreateComponent(t.Context(), models.DefaultPageID, models.ComponentInput{Name: "", Status: models.StatusOperational})
		if err == nil || models.IsUnavailable(err) {
			t.Errorf("invalid input: %v, unavailable = %v", err, models.IsUnavailable(err))
		}
		if models.IsUnavailable(context.Canceled) || models.IsUnavailable(errors.New("boom")) || models.IsUnavailable(nil) {
			t.Error("IsUnavailable claims a cancelled request, a plain error or nil")
		}
		if !models.IsUnavailable(fmt.Errorf("load: %w", context.DeadlineExceeded)) || !models.IsUnavailable(fmt.Errorf("x: %w", models.ErrUnavailable)) {
			t.Error("IsUnavailable misses a wrapped deadline or ErrUnavailable")
		}
	})
}
