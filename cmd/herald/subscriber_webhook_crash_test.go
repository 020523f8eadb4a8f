package main

import (
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
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

// hookRequest is one request the webhook subscribers' receiver saw.
type hookRequest struct {
	path, id string
	answered bool // 200 written (false: herald died while it was held)
}

// TestBinaryCrashMidFanOutWebhookSubscribers kills herald with SIGKILL
// while it is sending an incident to its webhook subscribers, then
// restarts it on the same database: every subscriber's receiver gets the
// incident (at least once: a request herald died waiting on is sent
// again, with the same webhook-id), and the event has exactly one
// delivery per subscriber, delivered.
func TestBinaryCrashMidFanOutWebhookSubscribers(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			if engine == models.Postgres {
				modelstest.RequirePostgres(t)
			}
			ctx := context.Background()
			dataDir := t.TempDir()
			secret := strings.Repeat("w", 40)
			dbEnv := databaseEnv(t, engine, dataDir)
			dbURL := filepath.Join(dataDir, "herald.db")
			for _, kv := range dbEnv {
				if v, ok := strings.CutPrefix(kv, "HERALD_DATABASE_URL="); ok {
					dbURL = v
				}
			}
			v, err := web.NewVault(secret)
			modelstest.Fatal(t, err, "vault")
			store, err := models.Open(ctx, dbURL, models.Options{Sealer: v})
			modelstest.Fatal(t, err, "open the database")
			defer store.Close()
			_, err = store.Migrate(ctx)
			modelstest.Fatal(t, err, "migrate")

			// The receiver (HTTPS, as visitors' webhook URLs must be)
			// answers every verification, and the first 10 incident
			// requests; it holds every later one until herald is dead
			// (then herald's connection closes) and accepts every one the
			// restarted herald sends.
			const subscribers, accepted = 40, 10
			var mu sync.Mutex
			var reqs []hookRequest
			var incidents int
			held, dead := make(chan struct{}), make(chan struct{})
			killed := func() bool {
				select {
				case <-dead:
					return true
				default:
					return false
				}
			}
			rc := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				// Reading the body lets the server notice the client
				// going away, which cancels r.Context.
				io.Copy(io.Discard, r.Body)
				if r.Header.Get("X-Webhook-Event") != string(models.EventIncidentCreated) {
					w.WriteHeader(http.StatusOK)
					return
				}
				rq := hookRequest{path: r.URL.Path, id: r.Header.Get("webhook-id")}
				mu.Lock()
				incidents++
				n := incidents
				mu.Unlock()
				if n > accepted && !killed() {
					if n == accepted+1 {
						close(held)
					}
					select {
					case <-r.Context().Done():
					case <-dead:
					case <-time.After(30 * time.Second):
					}
					mu.Lock()
					reqs = append(reqs, rq)
					mu.Unlock()
					return // never answered: herald is dead
				}
				rq.answered = true
				mu.Lock()
				reqs = append(reqs, rq)
				mu.Unlock()
				w.WriteHeader(http.StatusOK)
			}))
			defer rc.Close()
			defer func() {
				if !killed() {
					close(dead)
				}
			}()
			// herald trusts the receiver's certificate through the
			// system roots' file, and may reach 127.0.0.1 because
			// HERALD_WEBHOOK_ALLOW_CIDRS says so.
			certFile := filepath.Join(t.TempDir(), "receiver.pem")
			err = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rc.Certificate().Raw}), 0o600)
			modelstest.Fatal(t, err, "write the receiver's certificate")

			subs := make([]models.Subscriber, subscribers)
			for i := range subscribers {
				ws, err := store.SubscribeWebhook(ctx, models.DefaultPageID, models.WebhookSubscribeInput{
					URL: fmt.Sprintf("%s/s/%02d", rc.URL, i), AllComponents: true})
				modelstest.Fatal(t, err, "subscribe webhook")
				subs[i] = ws.Subscriber
			}

			env := append(dbEnv, "HERALD_SECRET_KEY="+secret, "HERALD_WEBHOOK_TIMEOUT=5s", "HERALD_DELIVERY_POLL=200ms",
				"HERALD_WEBHOOK_ALLOW_CIDRS=127.0.0.0/8", "SSL_CERT_FILE="+certFile)
			h := startServer(t, env...)
			h.waitReady(t)

			// herald verifies every receiver first.
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				active, err := store.Subscribers(ctx, models.SubscriberFilter{Kind: models.SubscriberWebhook, State: models.SubscriberActive})
				modelstest.Fatal(t, err, "subscribers")
				if len(active) == subscribers {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d of %d webhook subscribers verified within 30 s; log:\n%s", len(active), subscribers, h.logs.String())
				}
			}

			_, err = store.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Outage", Status: models.IncidentInvestigating, Message: "Looking."})
			modelstest.Fatal(t, err, "incident")
			select {
			case <-held:
			case <-time.After(15 * time.Second):
				t.Fatalf("herald sent no %dth incident request; log:\n%s", accepted+1, h.logs.String())
			}
			// Let more requests pile up on the receiver (well within
			// HERALD_WEBHOOK_TIMEOUT), then kill herald in the middle.
			time.Sleep(300 * time.Millisecond)
			if err := h.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatalf("kill -9: %v", err)
			}
			<-h.done
			close(dead)
			mu.Lock()
			before := incidents
			mu.Unlock()

			restarted := startServer(t, env...)
			restarted.waitReady(t)
			// The dead process's leases (timeout + 10 s) run out first.
			answered := func() map[string]int {
				mu.Lock()
				defer mu.Unlock()
				got := map[string]int{}
				for _, rq := range reqs {
					if rq.answered {
						got[rq.path]++
					}
				}
				return got
			}
			for deadline := time.Now().Add(60 * time.Second); len(answered()) < subscribers; time.Sleep(50 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("%d of %d receivers got the incident 60 s after the restart; log:\n%s",
						len(answered()), subscribers, restarted.logs.String())
				}
			}
			time.Sleep(500 * time.Millisecond) // a duplicate would arrive now
			restarted.stop(t)

			evs, err := store.Events(ctx, models.EventFilter{Type: models.EventIncidentCreated})
			modelstest.Fatal(t, err, "events")
			if len(evs) != 1 {
				t.Fatalf("%d incident.created events, want 1", len(evs))
			}
			got := answered()
			mu.Lock()
			defer mu.Unlock()
			ids := map[string]map[string]bool{} // path → webhook-ids seen
			var unanswered, repeats int
			for _, rq := range reqs {
				if ids[rq.path] == nil {
					ids[rq.path] = map[string]bool{}
				} else {
					repeats++
				}
				ids[rq.path][rq.id] = true
				if !rq.answered {
					unanswered++
				}
			}
			if unanswered == 0 {
				t.Fatalf("no request was in flight when herald was killed")
			}
			t.Logf("%d incident requests before the kill (%d held when it died), %d in all, %d repeats", before, unanswered, len(reqs), repeats)
			for i, sub := range subs {
				path := fmt.Sprintf("/s/%02d", i)
				if got[path] == 0 {
					t.Errorf("receiver %s never got the incident", path)
				}
				if len(ids[path]) != 1 {
					t.Errorf("receiver %s saw webhook-ids %v, want one (a repeat must carry the same id)", path, ids[path])
				}
				ch, ok, err := store.SubscriberChannelID(ctx, sub.ID)
				modelstest.Fatal(t, err, "subscriber's channel")
				if !ok {
					t.Fatalf("subscriber %d has no channel", sub.ID)
				}
				ds, err := store.Deliveries(ctx, models.DeliveryFilter{ChannelID: ch, EventType: models.EventIncidentCreated})
				modelstest.Fatal(t, err, "deliveries")
				if len(ds) != 1 {
					t.Errorf("subscriber %d: %d deliveries of the incident, want 1", sub.ID, len(ds))
					continue
				}
				if ds[0].State != models.DeliveryDelivered || ds[0].EventID == nil || *ds[0].EventID != evs[0].ID {
					t.Errorf("subscriber %d: delivery %s is %s for event %v, want delivered for %s", sub.ID, ds[0].ID, ds[0].State, ds[0].EventID, evs[0].ID)
				}
				if !ids[path][ds[0].ID] {
					t.Errorf("receiver %s saw webhook-ids %v, want the delivery's id %s", path, ids[path], ds[0].ID)
				}
			}
		})
	}
}
