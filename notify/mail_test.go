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

const mailBase = "https://status.example.com"

// runMailEngine runs a notify engine that sends to srv until the test
// ends, logging into the returned buffer.
func runMailEngine(t *testing.T, s *models.Store, srv *smtptest.Server, fanOut int) *safeBuffer {
	t.Helper()
	logs := &safeBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := notify.New(s, notify.Config{Policy: loopback, Poll: 50 * time.Millisecond, Timeout: 5 * time.Second,
		SMTP: &notify.SMTPConfig{URL: srv.URL(), From: "Example status <status@example.com>", TLS: srv.TLS(),
			Poll: 20 * time.Millisecond, FanOut: fanOut}}, logger)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { e.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return logs
}

// linkIn is the line of text that starts with prefix.
func linkIn(t *testing.T, text, prefix string) string {
	t.Helper()
	for line := range strings.Lines(text) {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, prefix) {
			return line
		}
	}
	t.Fatalf("no link %s… in:\n%s", prefix, text)
	return ""
}

// confirmFromMail follows the confirmation link of the message to addr.
func confirmFromMail(t *testing.T, s *models.Store, msgs []smtptest.Msg, addr string) {
	t.Helper()
	for _, m := range msgs {
		if len(m.Rcpts) == 1 && m.Rcpts[0] == addr {
			link := linkIn(t, m.Text, mailBase+"/subscriptions/confirm/")
			if !strings.Contains(m.HTML, `href="`+link+`"`) {
				t.Fatalf("the HTML part lacks the confirmation link %s", link)
			}
			_, err := s.ConfirmSubscription(context.Background(), link[strings.LastIndexByte(link, '/')+1:])
			modelstest.Fatal(t, err, "confirm %s", addr)
			return
		}
	}
	t.Fatalf("no confirmation e-mail to %s", addr)
}

// mailsTo are the messages whose one recipient is addr.
func mailsTo(msgs []smtptest.Msg, addr string) []smtptest.Msg {
	var out []smtptest.Msg
	for _, m := range msgs {
		if len(m.Rcpts) == 1 && m.Rcpts[0] == addr {
			out = append(out, m)
		}
	}
	return out
}

// checkPrivacy: every message has one recipient, addressed in To, and
// no other subscriber's address anywhere; the log names none.
func checkPrivacy(t *testing.T, msgs []smtptest.Msg, addrs []string, logs string) {
	t.Helper()
	for i, m := range msgs {
		if len(m.Rcpts) != 1 {
			t.Errorf("message %d has %d recipients", i, len(m.Rcpts))
			continue
		}
		if !m.TLS {
			t.Errorf("message %d was sent without STARTTLS, which the server offers", i)
		}
		if to := m.Header.Get("To"); !strings.Contains(to, m.Rcpts[0]) {
			t.Errorf("message %d: To %q, RCPT %s", i, to, m.Rcpts[0])
		}
		for _, a := range addrs {
			if a != m.Rcpts[0] && strings.Contains(strings.ToLower(string(m.Raw)), a) {
				t.Errorf("message %d to %s contains %s", i, m.Rcpts[0], a)
			}
		}
		unsub := m.Header.Get("List-Unsubscribe")
		if !strings.HasPrefix(unsub, "<"+mailBase+"/subscriptions/") || !strings.HasSuffix(unsub, "/unsubscribe>") ||
			m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Errorf("message %d: List-Unsubscribe %q, List-Unsubscribe-Post %q", i, unsub, m.Header.Get("List-Unsubscribe-Post"))
		}
		if !strings.Contains(m.Text, mailBase+"/subscriptions/") || !strings.Contains(m.HTML, mailBase+"/subscriptions/") {
			t.Errorf("message %d lacks the preferences link", i)
		}
	}
	for _, a := range addrs {
		if strings.Contains(strings.ToLower(logs), a) {
			t.Errorf("the log names subscriber %s", a)
		}
	}
}

func TestSubscriberMailsEndToEnd(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			ctx := context.Background()
			s := modelstest.OpenWith(t, engine, models.Options{BaseURL: mailBase})
			srv := smtptest.Start(t)
			logs := runMailEngine(t, s, srv, 0)
			api, _ := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Visible: true, Status: models.StatusOperational})
			db, _ := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "Database", Visible: true, Status: models.StatusOperational})
			ann, bob, carol := "ann@example.com", "bob@example.net", "carol@example.org"
			for _, in := range []models.SubscribeInput{
				{Email: ann, Components: []int64{api.ID}}, {Email: bob, AllComponents: true}, {Email: carol, Components: []int64{db.ID}},
			} {
				modelstest.Fatal(t, s.Subscribe(ctx, models.DefaultPageID, in), "subscribe")
			}
			msgs := srv.WaitFor(3, 10*time.Second)
			for _, m := range msgs {
				if !strings.Contains(m.Header.Get("Subject"), "confirm your subscription") {
					t.Fatalf("before confirming, a message with subject %q", m.Header.Get("Subject"))
				}
			}
			// Nothing but the confirmation before the link is followed.
			if _, err := s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Early", Status: models.IncidentInvestigating,
				Message: "Before anyone confirmed.", Components: map[int64]models.ComponentStatus{api.ID: models.StatusPartialOutage}}); err != nil {
				t.Fatal(err)
			}
			for _, a := range []string{ann, bob, carol} {
				confirmFromMail(t, s, msgs, a)
			}
			inc, err := s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Elevated API errors", Status: models.IncidentInvestigating,
				Message: "We are **looking** into it. <script>alert(1)</script>", Components: map[int64]models.ComponentStatus{api.ID: models.StatusPartialOutage}})
			modelstest.Fatal(t, err, "incident")
			msgs = srv.WaitFor(5, 10*time.Second)
			if _, err := s.ResolveIncident(ctx, inc.ID, "Fixed."); err != nil {
				t.Fatal(err)
			}
			msgs = srv.WaitFor(7, 10*time.Second)
			time.Sleep(200 * time.Millisecond) // nothing more may come
			msgs = srv.Messages()
			if len(msgs) != 7 {
				t.Fatalf("%d messages, want 3 confirmations + 2 × (ann, bob)", len(msgs))
			}
			if got := mailsTo(msgs, carol); len(got) != 1 {
				t.Errorf("carol (Database only) got %d messages, want her confirmation only", len(got))
			}
			for _, a := range []string{ann, bob} {
				got := mailsTo(msgs, a)
				if len(got) != 3 {
					t.Fatalf("%s got %d messages, want 3", a, len(got))
				}
				created := got[1]
				if subj := created.Header.Get("Subject"); subj != "Herald: New incident: Elevated API errors" && !strings.HasSuffix(subj, ": New incident: Elevated API errors") {
					t.Errorf("subject %q", subj)
				}
				if !strings.Contains(created.Text, "We are **looking** into it.") || !strings.Contains(created.Text, mailBase+"/incidents/") ||
					!strings.Contains(created.HTML, "<strong>looking</strong>") || strings.Contains(created.HTML, "<script>") {
					t.Errorf("incident message:\ntext %s\nhtml %s", created.Text, created.HTML)
				}
				if !strings.Contains(got[2].Header.Get("Subject"), "Resolved: Elevated API errors") {
					t.Errorf("resolution subject %q", got[2].Header.Get("Subject"))
				}
			}
			ids := map[string]bool{}
			for _, m := range msgs {
				ids[m.Header.Get("Message-Id")] = true
			}
			if len(ids) != len(msgs) {
				t.Errorf("%d distinct Message-IDs for %d messages", len(ids), len(msgs))
			}
			if n := srv.Connections(); n != 1 {
				t.Errorf("%d SMTP connections, want one reused for every message; log:\n%s", n, logs.String())
			}
			checkPrivacy(t, msgs, []string{ann, bob, carol}, logs.String())
		})
	}
}

func TestSubscriberMailRetriesTemporaryRefusals(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			ctx := context.Background()
			clock := modelstest.NewClock(time.Now().UTC())
			s := modelstest.OpenWith(t, engine, models.Options{BaseURL: mailBase, Now: clock.Now})
			srv := smtptest.Start(t)
			srv.SetRcpt(func(to string, n int) *smtp.SMTPError {
				if n == 1 {
					return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later, " + to}
				}
				return nil
			})
			logs := runMailEngine(t, s, srv, 0)
			modelstest.Fatal(t, s.Subscribe(ctx, models.DefaultPageID, models.SubscribeInput{Email: "dan@example.com", AllComponents: true}), "subscribe")
			waitFor(t, 10*time.Second, func() bool { return srv.RcptCount("dan@example.com") == 1 }, func() string { return "no first attempt" })
			subs, _ := s.Subscribers(ctx, models.SubscriberFilter{})
			waitFor(t, 10*time.Second, func() bool {
				ds, _ := s.SubscriberDeliveries(ctx, subs[0].ID)
				return len(ds) == 1 && ds[0].State == models.DeliveryRetrying
			}, func() string { return "the delivery is not retrying" })
			ds, _ := s.SubscriberDeliveries(ctx, subs[0].ID)
			if ds[0].LastCode != 451 || strings.Contains(ds[0].LastError, "dan@example.com") {
				t.Errorf("recorded code %d, error %q (the address must not be kept)", ds[0].LastCode, ds[0].LastError)
			}
			if len(srv.Messages()) != 0 {
				t.Fatal("a message arrived before the retry")
			}
			clock.Add(models.DefaultRetrySchedule[1]) // the usual schedule: one minute later
			srv.WaitFor(1, 10*time.Second)
			waitFor(t, 10*time.Second, func() bool {
				ds, _ := s.SubscriberDeliveries(ctx, subs[0].ID)
				return ds[0].State == models.DeliveryDelivered && ds[0].Attempts == 2
			}, func() string { return "not delivered on the second attempt" })
			sub, _ := s.Subscribers(ctx, models.SubscriberFilter{})
			if sub[0].PermanentFailures != 0 || sub[0].State != models.SubscriberPending {
				t.Errorf("after a temporary refusal: %+v", sub[0])
			}
			checkPrivacy(t, srv.Messages(), []string{"dan@example.com"}, logs.String())
		})
	}
}

func TestSubscriberBouncesAfterThreePermanentRefusals(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			ctx := context.Background()
			s := modelstest.OpenWith(t, engine, models.Options{BaseURL: mailBase})
			srv := smtptest.Start(t)
			gone, kept := "gone@example.com", "kept@example.com"
			var refuse sync.Map
			srv.SetRcpt(func(to string, n int) *smtp.SMTPError {
				if _, ok := refuse.Load(to); ok {
					return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user " + to}
				}
				return nil
			})
			logs := runMailEngine(t, s, srv, 0)
			for _, a := range []string{gone, kept} {
				modelstest.Fatal(t, s.Subscribe(ctx, models.DefaultPageID, models.SubscribeInput{Email: a, AllComponents: true}), "subscribe")
			}
			msgs := srv.WaitFor(2, 10*time.Second)
			confirmFromMail(t, s, msgs, gone)
			confirmFromMail(t, s, msgs, kept)
			refuse.Store(gone, true)
			for i := range 4 {
				_, err := s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: fmt.Sprintf("Outage %d", i), Status: models.IncidentInvestigating, Message: "Looking."})
				modelstest.Fatal(t, err, "incident")
				srv.WaitFor(3+i, 10*time.Second) // kept's copy, sent after or before gone's
				if i == 2 {
					waitFor(t, 10*time.Second, func() bool {
						subs, _ := s.Subscribers(ctx, models.SubscriberFilter{State: models.SubscriberBouncing})
						return len(subs) == 1 && subs[0].Email == gone
					}, func() string { return "not bouncing after three 5xx" })
				}
			}
			time.Sleep(200 * time.Millisecond)
			if n := srv.RcptCount(gone); n != 1+3 {
				t.Errorf("RCPT TO the bouncing address %d times, want the confirmation and 3 refused", n)
			}
			if got := mailsTo(srv.Messages(), kept); len(got) != 5 {
				t.Errorf("the other subscriber got %d messages, want 5", len(got))
			}
			n, _ := s.CountSubscribers(ctx, models.SubscriberFilter{State: models.SubscriberBouncing})
			if n != 1 {
				t.Errorf("bouncing subscribers = %d", n)
			}
			checkPrivacy(t, srv.Messages(), []string{gone, kept}, logs.String())
		})
	}
}

// confirmAll confirms every pending subscriber through the store, as the
// links in their confirmation e-mails would.
func confirmAll(t *testing.T, s *models.Store) {
	t.Helper()
	ctx := context.Background()
	for {
		ds, err := s.ClaimSubscriberDeliveries(ctx, 500, time.Minute)
		modelstest.Fatal(t, err, "claim")
		if len(ds) == 0 {
			return
		}
		mails, err := s.SubscriberMails(ctx, ds)
		modelstest.Fatal(t, err, "mails")
		for i, m := range mails {
			_, err := s.ConfirmSubscription(ctx, m.ConfirmURL[strings.LastIndexByte(m.ConfirmURL, '/')+1:])
			modelstest.Fatal(t, err, "confirm")
			modelstest.Fatal(t, s.RecordSubscriberAttempt(ctx, &ds[i], models.MailResult{State: models.DeliveryDelivered}), "record")
		}
	}
}

// TestFanOutExactlyOnceWithTwoEngines: two engines on one database race
// to expand the same events in small batches; every subscriber gets each
// event once.
func TestFanOutExactlyOnceWithTwoEngines(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			ctx := context.Background()
			dbURL := modelstest.NewDatabaseURL(t, engine)
			a := modelstest.OpenURL(t, dbURL, models.Options{BaseURL: mailBase})
			b := modelstest.OpenURL(t, dbURL, models.Options{BaseURL: mailBase})
			const subscribers, incidents = 120, 3
			var addrs []string
			for i := range subscribers {
				addr := fmt.Sprintf("reader%03d@example.com", i)
				addrs = append(addrs, addr)
				modelstest.Fatal(t, a.Subscribe(ctx, models.DefaultPageID, models.SubscribeInput{Email: addr, AllComponents: true}), "subscribe")
			}
			confirmAll(t, a)
			srv := smtptest.Start(t)
			logsA := runMailEngine(t, a, srv, 7)
			logsB := runMailEngine(t, b, srv, 7)
			var events []string
			for i := range incidents {
				_, err := a.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: fmt.Sprintf("Incident %d", i), Status: models.IncidentInvestigating, Message: "Looking."})
				modelstest.Fatal(t, err, "incident")
			}
			evs, _ := a.Events(ctx, models.EventFilter{Type: models.EventIncidentCreated})
			for _, ev := range evs {
				events = append(events, ev.ID)
			}
			msgs := srv.WaitFor(subscribers*incidents, 60*time.Second)
			time.Sleep(300 * time.Millisecond) // a duplicate would arrive now
			msgs = srv.Messages()
			if len(msgs) != subscribers*incidents {
				t.Fatalf("%d messages, want %d", len(msgs), subscribers*incidents)
			}
			for _, addr := range addrs {
				subjects := map[string]int{}
				for _, m := range mailsTo(msgs, addr) {
					subjects[m.Header.Get("Subject")]++
				}
				if len(subjects) != incidents {
					t.Fatalf("%s received %v", addr, subjects)
				}
				for subj, n := range subjects {
					if n != 1 {
						t.Errorf("%s received %q %d times", addr, subj, n)
					}
				}
			}
			for _, id := range events {
				if n, _ := a.CountSubscriberDeliveries(ctx, id, ""); n != subscribers {
					t.Errorf("event %s has %d subscriber deliveries, want %d", id, n, subscribers)
				}
			}
			if n, _ := a.PendingSubscriberFanouts(ctx); n != 0 {
				t.Errorf("%d fan-outs left", n)
			}
			if strings.Count(logsA.String()+logsB.String(), "level=ERROR") > 0 {
				t.Errorf("errors logged:\n%s\n%s", logsA.String(), logsB.String())
			}
		})
	}
}
