package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web"
)

// TestBinaryCrashLosesNoDelivery kills herald with SIGKILL while an
// attempt is in flight and restarts it: the delivery still arrives, with
// the same X-Request-ID (SPEC §5.4, at-least-once).
func TestBinaryCrashLosesNoDelivery(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			if engine == models.Postgres {
				modelstest.RequirePostgres(t)
			}
			dataDir := t.TempDir()
			secret := strings.Repeat("c", 40)
			env := append(databaseEnv(t, engine, dataDir),
				"HERALD_SECRET_KEY="+secret,
				"HERALD_WEBHOOK_ALLOW_CIDRS=127.0.0.0/8",
				"HERALD_WEBHOOK_TIMEOUT=2s",
				"HERALD_DELIVERY_POLL=200ms",
			)

			// The receiver holds the first request open (herald dies
			// during it) and accepts every later one.
			var mu sync.Mutex
			var ids []string
			first := make(chan struct{})
			rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				// Reading the body lets the server notice the client
				// going away, which cancels r.Context.
				io.Copy(io.Discard, r.Body)
				mu.Lock()
				ids = append(ids, r.Header.Get("X-Request-ID"))
				n := len(ids)
				mu.Unlock()
				if n == 1 {
					close(first)
					select {
					case <-r.Context().Done():
					case <-time.After(30 * time.Second):
					}
					return
				}
				w.WriteHeader(http.StatusOK)
			}))
			defer rc.Close()

			srv := startServer(t, env...)
			srv.waitReady(t)

			// Create the channel and the event through the same database
			// and key, as a second replica or an admin session would.
			dbURL := filepath.Join(dataDir, "herald.db")
			for _, kv := range env {
				if v, ok := strings.CutPrefix(kv, "HERALD_DATABASE_URL="); ok {
					dbURL = v
				}
			}
			v, err := web.NewVault(secret)
			modelstest.Fatal(t, err, "vault")
			ctx := context.Background()
			store, err := models.Open(ctx, dbURL, models.Options{Sealer: v})
			modelstest.Fatal(t, err, "open the database")
			defer store.Close()
			ch, err := store.CreateChannel(ctx, models.DefaultPageID, models.ChannelInput{Type: models.ChannelWebhook,
				Name: "Receiver", URL: rc.URL + "/hook", Enabled: true})
			modelstest.Fatal(t, err, "create channel")
			_, err = store.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Status: models.StatusOperational})
			modelstest.Fatal(t, err, "create event")

			select {
			case <-first:
			case <-time.After(10 * time.Second):
				t.Fatalf("no delivery attempt within 10 s; herald log:\n%s", srv.logs.String())
			}
			if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatalf("kill -9: %v", err)
			}
			<-srv.done

			ds, err := store.Deliveries(ctx, models.DeliveryFilter{ChannelID: ch.ID})
			modelstest.Fatal(t, err, "deliveries")
			if len(ds) != 1 || ds[0].State.Final() {
				t.Fatalf("after the crash: deliveries %+v, want one still pending", ds)
			}

			restarted := startServer(t, env...)
			restarted.waitReady(t)
			deadline := time.Now().Add(30 * time.Second) // the dead process's lease must run out first
			for {
				d, err := store.Delivery(ctx, ds[0].ID)
				modelstest.Fatal(t, err, "delivery")
				if d.State == models.DeliveryDelivered {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("delivery %s is %s 30 s after the restart; herald log:\n%s", d.ID, d.State, restarted.logs.String())
				}
				time.Sleep(100 * time.Millisecond)
			}
			restarted.stop(t)

			mu.Lock()
			defer mu.Unlock()
			if len(ids) < 2 {
				t.Fatalf("receiver saw %d requests", len(ids))
			}
			for _, id := range ids {
				if id != ds[0].ID {
					t.Errorf("request with X-Request-ID %q, want %q every time", id, ds[0].ID)
				}
			}
		})
	}
}
