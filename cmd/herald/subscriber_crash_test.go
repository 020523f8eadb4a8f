package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/notify/smtptest"
	"github.com/heraldstatus/herald/web"
)

// TestBinaryCrashMidFanOutSendsEachSubscriberOnce kills herald with
// SIGKILL while it is sending an incident to its subscribers, then
// restarts it: every subscriber gets the incident, once, and the event
// has exactly one delivery per subscriber.
func TestBinaryCrashMidFanOutSendsEachSubscriberOnce(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			if engine == models.Postgres {
				modelstest.RequirePostgres(t)
			}
			ctx := context.Background()
			dataDir := t.TempDir()
			secret := strings.Repeat("s", 40)
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

			// Subscribers confirmed before herald starts, through the store.
			const subscribers = 60
			for i := range subscribers {
				err := store.Subscribe(ctx, models.DefaultPageID, models.SubscribeInput{Email: fmt.Sprintf("r%02d@example.com", i), AllComponents: true})
				modelstest.Fatal(t, err, "subscribe")
			}
			ds, err := store.ClaimSubscriberDeliveries(ctx, subscribers, time.Minute)
			modelstest.Fatal(t, err, "claim confirmations")
			mails, err := store.SubscriberMails(ctx, ds)
			modelstest.Fatal(t, err, "confirmations")
			for i, m := range mails {
				_, err := store.ConfirmSubscription(ctx, m.ConfirmURL[strings.LastIndexByte(m.ConfirmURL, '/')+1:])
				modelstest.Fatal(t, err, "confirm")
				modelstest.Fatal(t, store.RecordSubscriberAttempt(ctx, &ds[i], models.MailResult{State: models.DeliveryDelivered}), "record")
			}

			// The server holds the 20th recipient, and every one after it
			// (herald sends over several connections), until herald is
			// dead, then refuses them: those messages were never accepted.
			// herald is killed once every connection waits so: a
			// connection goes on to its next message only once its last
			// one is recorded, so none accepted before may come again.
			srv := smtptest.StartPlain(t)
			var rcpts, holding int
			var mu sync.Mutex
			held, dead := make(chan struct{}), make(chan struct{})
			defer func() {
				select {
				case <-dead:
				default:
					close(dead)
				}
			}()
			srv.SetRcpt(func(string, int) *smtp.SMTPError {
				mu.Lock()
				rcpts++
				n := rcpts
				mu.Unlock()
				if n >= 20 {
					select {
					case <-dead:
						return nil // the restarted herald
					default:
					}
					if n == 20 {
						close(held)
					}
					mu.Lock()
					holding++
					mu.Unlock()
					<-dead
					return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "Gone"}
				}
				return nil
			})
			env := append(dbEnv, "HERALD_SECRET_KEY="+secret, "HERALD_WEBHOOK_TIMEOUT=2s", "HERALD_DELIVERY_POLL=200ms",
				"HERALD_SMTP_URL="+srv.URL(), "HERALD_SMTP_FROM=Status <status@example.com>")
			h := startServer(t, env...)
			h.waitReady(t)

			_, err = store.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Outage", Status: models.IncidentInvestigating, Message: "Looking."})
			modelstest.Fatal(t, err, "incident")
			select {
			case <-held:
			case <-time.After(15 * time.Second):
				t.Fatalf("herald sent no 20th message; log:\n%s", h.logs.String())
			}
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
				mu.Lock()
				n := holding
				mu.Unlock()
				if n == srv.Connections() {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d of %d connections wait on the server", n, srv.Connections())
				}
			}
			if err := h.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatalf("kill -9: %v", err)
			}
			<-h.done
			close(dead)
			before := len(srv.Messages())

			restarted := startServer(t, env...)
			restarted.waitReady(t)
			// The dead process's lease (two attempts and 10 s) runs out first.
			msgs := srv.WaitFor(subscribers, 45*time.Second)
			time.Sleep(500 * time.Millisecond) // a duplicate would arrive now
			msgs = srv.Messages()
			restarted.stop(t)

			if before >= subscribers {
				t.Fatalf("all %d messages were sent before the crash", before)
			}
			got := map[string]int{}
			for _, m := range msgs {
				got[m.Rcpts[0]]++
			}
			if len(msgs) != subscribers || len(got) != subscribers {
				t.Fatalf("%d messages to %d addresses, want one to each of %d", len(msgs), len(got), subscribers)
			}
			evs, err := store.Events(ctx, models.EventFilter{Type: models.EventIncidentCreated})
			modelstest.Fatal(t, err, "events")
			if n, _ := store.CountSubscriberDeliveries(ctx, evs[0].ID, models.DeliveryDelivered); n != subscribers {
				t.Errorf("%d deliveries delivered for the event, want %d", n, subscribers)
			}
			if n, _ := store.CountSubscriberDeliveries(ctx, evs[0].ID, ""); n != subscribers {
				t.Errorf("%d deliveries for the event, want %d", n, subscribers)
			}
		})
	}
}
