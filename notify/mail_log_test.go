package notify_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/notify"
	"github.com/heraldstatus/herald/notify/smtptest"
)

// runMailEngineWith runs a notify engine sending over connections SMTP
// connections until the test ends.
func runMailEngineWith(t *testing.T, s *models.Store, srv *smtptest.Server, connections int) *safeBuffer {
	t.Helper()
	logs := &safeBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := notify.New(s, notify.Config{Policy: loopback, Poll: 50 * time.Millisecond, Timeout: 5 * time.Second,
		SMTP: &notify.SMTPConfig{URL: srv.URL(), From: "Example status <status@example.com>", TLS: srv.TLS(),
			Poll: 20 * time.Millisecond, Connections: connections}}, logger)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { e.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return logs
}

// subscribeConfirmed signs up addrs for every component and confirms
// them, without sending; it returns their subscriber ids by address.
func subscribeConfirmed(t *testing.T, s *models.Store, addrs []string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	for _, a := range addrs {
		modelstest.Fatal(t, s.Subscribe(ctx, models.DefaultPageID, models.SubscribeInput{Email: a, AllComponents: true}), "subscribe %s", a)
	}
	confirmAll(t, s)
	subs, err := s.Subscribers(ctx, models.SubscriberFilter{})
	modelstest.Fatal(t, err, "subscribers")
	ids := map[string]int64{}
	for _, sub := range subs {
		ids[sub.Email] = sub.ID
	}
	return ids
}

// eventLog is the log of the one event e-mail of subscriber id (zero
// before the fan-out wrote it).
func eventLog(t *testing.T, s *models.Store, id int64) models.SubscriberDeliveryLog {
	t.Helper()
	logs, _, err := s.SubscriberDeliveryLogs(context.Background(), id, 10)
	modelstest.Fatal(t, err, "delivery logs")
	for _, l := range logs {
		if l.Delivery.Kind == models.MailEvent {
			return l
		}
	}
	return models.SubscriberDeliveryLog{}
}

// TestSubscriberAttemptLogWithMixedRefusals: over several connections, a
// server accepts some recipients, refuses others for now (451, then
// accepts) and others for good (550). Each attempt is logged with its
// code and the server's words, never the address; each accepted
// recipient gets one message.
func TestSubscriberAttemptLogWithMixedRefusals(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			ctx := context.Background()
			clock := modelstest.NewClock(time.Now().UTC())
			s := modelstest.OpenWith(t, engine, models.Options{BaseURL: mailBase, Now: clock.Now})
			var ok, temp, perm, all []string
			for i := range 12 {
				ok = append(ok, fmt.Sprintf("ok%02d@example.com", i))
				temp = append(temp, fmt.Sprintf("later%02d@example.com", i))
				perm = append(perm, fmt.Sprintf("gone%02d@example.com", i))
			}
			all = append(append(append(all, ok...), temp...), perm...)
			ids := subscribeConfirmed(t, s, all)
			srv := smtptest.Start(t)
			srv.SetRcpt(func(to string, n int) *smtp.SMTPError {
				switch {
				case strings.HasPrefix(to, "later") && n == 1:
					return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Mailbox busy, try later: " + strings.ToUpper(to)}
				case strings.HasPrefix(to, "gone"):
					return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user <" + to + ">"}
				}
				return nil
			})
			logs := runMailEngineWith(t, s, srv, 4)
			_, err := s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Mixed", Status: models.IncidentInvestigating, Message: "Looking."})
			modelstest.Fatal(t, err, "incident")
			srv.WaitFor(len(ok), 20*time.Second)
			waitFor(t, 20*time.Second, func() bool {
				for _, a := range append(temp, perm...) {
					if l := eventLog(t, s, ids[a]); len(l.Log) != 1 || l.Delivery.LeaseToken != "" {
						return false
					}
				}
				return true
			}, func() string { return "the refusals are not all logged" })
			clock.Add(models.DefaultRetrySchedule[1])
			srv.WaitFor(len(ok)+len(temp), 20*time.Second)
			waitFor(t, 20*time.Second, func() bool {
				for _, a := range temp {
					if eventLog(t, s, ids[a]).Delivery.State != models.DeliveryDelivered {
						return false
					}
				}
				return true
			}, func() string { return "the temporary refusals were not delivered on the retry" })
			time.Sleep(200 * time.Millisecond) // a duplicate would arrive now

			msgs := srv.Messages()
			if len(msgs) != len(ok)+len(temp) {
				t.Errorf("%d messages, want %d", len(msgs), len(ok)+len(temp))
			}
			for _, a := range append(ok, temp...) {
				if n := len(mailsTo(msgs, a)); n != 1 {
					t.Errorf("%s got %d messages, want 1", a, n)
				}
			}
			for _, a := range ok {
				l := eventLog(t, s, ids[a])
				if l.Delivery.State != models.DeliveryDelivered || len(l.Log) != 1 {
					t.Fatalf("%s: %s with %d attempts logged", a, l.Delivery.State, len(l.Log))
				}
				at := l.Log[0]
				if at.Number != 1 || at.Outcome != string(models.DeliveryDelivered) || at.Code != 250 || at.Reply == "" || at.Error != "" || at.StartedAt.IsZero() {
					t.Errorf("%s: attempt %+v", a, at)
				}
			}
			for _, a := range temp {
				l := eventLog(t, s, ids[a])
				if len(l.Log) != 2 || l.Delivery.Attempts != 2 {
					t.Fatalf("%s: %d attempts logged, %d counted; want 2", a, len(l.Log), l.Delivery.Attempts)
				}
				first, second := l.Log[0], l.Log[1]
				if first.Number != 1 || first.Outcome != string(models.DeliveryRetrying) || first.Code != 451 || !strings.Contains(first.Error, "Mailbox busy") ||
					!strings.Contains(first.Error, "[subscriber]") {
					t.Errorf("%s: first attempt %+v", a, first)
				}
				if second.Number != 2 || second.Outcome != string(models.DeliveryDelivered) || second.Code != 250 {
					t.Errorf("%s: second attempt %+v", a, second)
				}
			}
			for _, a := range perm {
				l := eventLog(t, s, ids[a])
				if l.Delivery.State != models.DeliveryFailed || len(l.Log) != 1 {
					t.Fatalf("%s: %s with %d attempts logged", a, l.Delivery.State, len(l.Log))
				}
				if at := l.Log[0]; at.Outcome != string(models.DeliveryFailed) || at.Code != 550 || !strings.Contains(at.Error, "No such user <[subscriber]>") {
					t.Errorf("%s: attempt %+v", a, at)
				}
				sub, err := s.SubscriberByID(ctx, ids[a])
				modelstest.Fatal(t, err, "subscriber")
				if sub.PermanentFailures != 1 || sub.State != models.SubscriberActive {
					t.Errorf("%s after one 5xx: %d permanent failures, %s", a, sub.PermanentFailures, sub.State)
				}
			}
			for _, a := range all {
				for _, l := range mustLogs(t, s, ids[a]) {
					for _, at := range l.Log {
						if strings.Contains(strings.ToLower(at.Reply+at.Error), a) {
							t.Errorf("the attempt log of %s holds the address: %+v", a, at)
						}
					}
				}
			}
			if n := srv.Connections(); n < 2 || n > 4 {
				t.Errorf("%d SMTP connections, want 2 to 4", n)
			}
			checkPrivacy(t, msgs, all, logs.String())
		})
	}
}

func mustLogs(t *testing.T, s *models.Store, id int64) []models.SubscriberDeliveryLog {
	t.Helper()
	logs, _, err := s.SubscriberDeliveryLogs(context.Background(), id, 100)
	modelstest.Fatal(t, err, "delivery logs")
	return logs
}

// TestReplayFailedSubscriberMail: an e-mail refused for good is replayed
// once the address works again: it is sent once more, and its attempts
// are numbered on.
func TestReplayFailedSubscriberMail(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			ctx := context.Background()
			s := modelstest.OpenWith(t, engine, models.Options{BaseURL: mailBase})
			addr := "fixed@example.com"
			ids := subscribeConfirmed(t, s, []string{addr})
			srv := smtptest.Start(t)
			var refuse sync.Map
			refuse.Store(addr, true)
			srv.SetRcpt(func(to string, n int) *smtp.SMTPError {
				if _, ok := refuse.Load(to); ok {
					return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 2, 2}, Message: "Mailbox full"}
				}
				return nil
			})
			runMailEngineWith(t, s, srv, 4)
			_, err := s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Replayed", Status: models.IncidentInvestigating, Message: "Looking."})
			modelstest.Fatal(t, err, "incident")
			waitFor(t, 10*time.Second, func() bool { return eventLog(t, s, ids[addr]).Delivery.State == models.DeliveryFailed },
				func() string { return "the e-mail did not fail" })
			refuse.Delete(addr)
			d := eventLog(t, s, ids[addr]).Delivery
			modelstest.Fatal(t, s.ReplaySubscriberDelivery(models.WithActor(ctx, models.Actor{Type: models.ActorUser, Name: "admin"}), ids[addr], d.ID), "replay")
			srv.WaitFor(1, 10*time.Second)
			waitFor(t, 10*time.Second, func() bool { return eventLog(t, s, ids[addr]).Delivery.State == models.DeliveryDelivered },
				func() string { return "the replay was not delivered" })
			time.Sleep(300 * time.Millisecond) // a second copy would arrive now
			if n := len(mailsTo(srv.Messages(), addr)); n != 1 {
				t.Errorf("%d messages after the replay, want 1", n)
			}
			l := eventLog(t, s, ids[addr])
			if len(l.Log) != 2 || l.Log[0].Number != 1 || l.Log[0].Code != 550 || l.Log[1].Number != 2 || l.Log[1].Outcome != string(models.DeliveryDelivered) {
				t.Errorf("attempts after the replay: %+v", l.Log)
			}
			if sub, _ := s.SubscriberByID(ctx, ids[addr]); sub.PermanentFailures != 0 {
				t.Errorf("%d permanent failures after a delivered replay, want 0", sub.PermanentFailures)
			}
		})
	}
}

// TestParallelSendingExactlyOnce: 500 subscribers, four connections:
// every subscriber gets the incident once, and every delivery and attempt
// is recorded.
func TestParallelSendingExactlyOnce(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			ctx := context.Background()
			s := modelstest.OpenWith(t, engine, models.Options{BaseURL: mailBase})
			const subscribers = 500
			var addrs []string
			for i := range subscribers {
				addrs = append(addrs, fmt.Sprintf("parallel%03d@example.com", i))
			}
			ids := subscribeConfirmed(t, s, addrs)
			srv := smtptest.StartPlain(t)
			logs := runMailEngineWith(t, s, srv, 4)
			inc, err := s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Everyone", Status: models.IncidentInvestigating, Message: "Looking."})
			modelstest.Fatal(t, err, "incident")
			srv.WaitFor(subscribers, 60*time.Second)
			time.Sleep(300 * time.Millisecond) // a duplicate would arrive now
			msgs := srv.Messages()
			if len(msgs) != subscribers {
				t.Errorf("%d messages, want %d", len(msgs), subscribers)
			}
			per := map[string]int{}
			for _, m := range msgs {
				for _, r := range m.Rcpts {
					per[r]++
				}
			}
			for _, a := range addrs {
				if per[a] != 1 {
					t.Errorf("%s got %d messages", a, per[a])
				}
			}
			if n := srv.Connections(); n != 4 {
				t.Errorf("%d SMTP connections, want 4", n)
			}
			evs, _ := s.Events(ctx, models.EventFilter{Type: models.EventIncidentCreated})
			if len(evs) != 1 {
				t.Fatalf("%d incident events for %d", len(evs), inc.ID)
			}
			waitFor(t, 10*time.Second, func() bool {
				n, _ := s.CountSubscriberDeliveries(ctx, evs[0].ID, models.DeliveryDelivered)
				return n == subscribers
			}, func() string { return "not every delivery is recorded delivered" })
			for _, a := range addrs[:20] {
				if l := eventLog(t, s, ids[a]); len(l.Log) != 1 || l.Log[0].Number != 1 {
					t.Errorf("%s: attempts %+v", a, l.Log)
				}
			}
			if strings.Contains(logs.String(), "level=ERROR") || strings.Contains(logs.String(), "level=WARN") {
				t.Errorf("the engine complained:\n%s", logs.String())
			}
		})
	}
}
