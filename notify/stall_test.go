package notify_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/notify"
)

// A database that stalls (accepts, never answers) delays deliveries but
// does not hang the engine: each call gives up at StoreTimeout, and once
// the database answers again the delivery goes out. On PostgreSQL the
// stall is a proxy that forwards nothing; on SQLite a transaction holds
// the single writer connection (the engine's reads run beside it).
func TestEngineBoundsEveryDatabaseCall(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			if engine == models.Postgres {
				modelstest.RequirePostgres(t)
			}
			db := modelstest.OpenStallable(t, engine, models.Options{})
			rc := newReceiver(t, nil)
			c := addChannel(t, db.Store, models.ChannelWebhook, rc.URL, "")
			fire(t, db.Store, "before the stall")

			db.Stall()
			var logs safeBuffer
			cfg := notify.Config{Policy: loopback, Timeout: 2 * time.Second, StoreTimeout: 300 * time.Millisecond, Poll: 100 * time.Millisecond}
			e := notify.New(db.Store, cfg, slog.New(slog.NewTextHandler(&logs, nil)))
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); e.Run(ctx) }()
			t.Cleanup(func() { cancel(); <-done })

			// Without a bound, the engine's first call waits for as long
			// as the stall lasts, and says nothing.
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(logs.String(), "deadline exceeded") {
				if time.Now().After(deadline) {
					t.Fatalf("no database call gave up within 5 s of a stall; log:\n%s", logs.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			select {
			case r := <-rc.arrived:
				t.Fatalf("a delivery went out while the database stalled: %s", r.Body)
			default:
			}

			db.Restore()
			got := rc.next(t, 10*time.Second)
			if !bytes.Contains(got.Body, []byte("before the stall")) {
				t.Errorf("delivered %s, want the event written before the stall", got.Body)
			}
			waitFinal(t, db.Store, c.ID, 10*time.Second)
		})
	}
}
