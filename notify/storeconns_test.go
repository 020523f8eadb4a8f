package notify_test

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/notify"
)

// TestEngineKeepsToItsStoreConns: 30 channels whose receivers answer at
// once, 10 events (300 deliveries), drained by 32 workers with
// StoreConns 3. The database pool never has more than 3 connections in
// use, so the admin's requests keep the rest; before, a burst of
// attempts being recorded took the whole pool.
func TestEngineKeepsToItsStoreConns(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		var got atomic.Int64
		rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
			got.Add(1)
			w.WriteHeader(http.StatusOK)
		})
		const channels, events = 30, 10
		for i := range channels {
			addChannel(t, s, models.ChannelWebhook, fmt.Sprintf("%s/hook/%d", rc.URL, i), "")
		}
		for i := range events {
			fire(t, s, fmt.Sprintf("Component %d", i))
		}
		db, err := s.SQLDB()
		modelstest.Fatal(t, err, "sql db")
		// Only the engine uses the pool from here on.
		for db.Stats().InUse > 0 {
			time.Sleep(time.Millisecond)
		}
		const limit = 3
		startEngine(t, s, notify.Config{Workers: 32, StoreConns: limit})
		most := 0
		deadline := time.Now().Add(60 * time.Second)
		for got.Load() < channels*events {
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d deliveries arrived", got.Load(), channels*events)
			}
			most = max(most, db.Stats().InUse)
			time.Sleep(100 * time.Microsecond)
		}
		if most > limit {
			t.Errorf("the engine had %d database connections in use at once, want at most %d", most, limit)
		}
		t.Logf("at most %d connections in use", most)
	})
}
