package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/notify"
)

// hookEnvelope is the body of a webhook request, as a receiver reads it.
type hookEnvelope struct {
	ID         string          `json:"id"`
	Event      string          `json:"event"`
	Timestamp  time.Time       `json:"timestamp"`
	Test       bool            `json:"test"`
	StatusPage json.RawMessage `json:"statusPage"`
	Data       json.RawMessage `json:"data"`
}

// checkSigned fails unless got carries event typ signed with secret by
// both schemes, and returns its envelope.
func checkSigned(t *testing.T, got received, secret string, typ models.EventType) hookEnvelope {
	t.Helper()
	h := got.Header
	if h.Get("X-Webhook-Event") != string(typ) {
		t.Fatalf("X-Webhook-Event %q, want %s; body %s", h.Get("X-Webhook-Event"), typ, got.Body)
	}
	if !verifyStandard(secret, h.Get("webhook-id"), h.Get("webhook-timestamp"), got.Body, h.Get("webhook-signature")) {
		t.Errorf("%s: webhook-signature %q does not verify with the secret shown", typ, h.Get("webhook-signature"))
	}
	if !verifyHex(secret, got.Body, h.Get("X-Webhook-Signature")) {
		t.Errorf("%s: X-Webhook-Signature does not verify with the secret shown", typ)
	}
	var env hookEnvelope
	if err := json.Unmarshal(got.Body, &env); err != nil {
		t.Fatalf("%s body: %v\n%s", typ, err, got.Body)
	}
	if env.Event != string(typ) || env.Test {
		t.Errorf("envelope event %q test %v, want %s, false", env.Event, env.Test, typ)
	}
	return env
}

// waitState waits until subscriber id is in state want.
func waitState(t *testing.T, s *models.Store, id int64, want models.SubscriberState, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		subs, err := s.Subscribers(context.Background(), models.SubscriberFilter{})
		modelstest.Fatal(t, err, "subscribers")
		for _, sub := range subs {
			if sub.ID == id && sub.State == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("subscriber %d not %s within %s: %+v", id, want, within, subs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitFannedOut waits until every event is expanded to the subscribers.
func waitFannedOut(t *testing.T, s *models.Store, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		n, err := s.PendingSubscriberFanouts(context.Background())
		modelstest.Fatal(t, err, "pending fan-outs")
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d fan-outs left after %s", n, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWebhookSubscriberEndToEnd: a visitor's webhook receiver gets the
// secret once, a signed verification event, and once it answers 2xx one
// delivery per incident, signed, in the same envelope as the admin's
// channel gets; a subscriber filtered to another component gets nothing;
// the subscription never counts as a channel of the admin's; its
// deliveries are logged and can be replayed; unsubscribing deletes it
// all. No SMTP is configured.
func TestWebhookSubscriberEndToEnd(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			ctx := context.Background()
			s := modelstest.OpenWith(t, engine, models.Options{BaseURL: mailBase})
			api, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Visible: true, Status: models.StatusOperational})
			modelstest.Fatal(t, err, "component")
			web, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "Web", Visible: true, Status: models.StatusOperational})
			modelstest.Fatal(t, err, "component")
			admin := newReceiver(t, nil)
			adminChan := addChannel(t, s, models.ChannelWebhook, admin.URL+"/admin", "")
			all, other := newTLSReceiver(t, nil), newTLSReceiver(t, nil)
			startEngine(t, s, notify.Config{TLS: testTLS().TLSClientConfig, Poll: 100 * time.Millisecond})

			sub, err := s.SubscribeWebhook(ctx, models.DefaultPageID, models.WebhookSubscribeInput{URL: all.URL + "/hook", AllComponents: true})
			modelstest.Fatal(t, err, "subscribe")
			if !strings.HasPrefix(sub.Secret, "whsec_") || sub.ManageToken == "" || sub.Subscriber.State != models.SubscriberPending {
				t.Fatalf("subscription %+v", sub)
			}
			subOther, err := s.SubscribeWebhook(ctx, models.DefaultPageID, models.WebhookSubscribeInput{URL: other.URL + "/hook", Components: []int64{web.ID}})
			modelstest.Fatal(t, err, "subscribe to Web only")

			v := checkSigned(t, all.next(t, 5*time.Second), sub.Secret, models.EventSubscriptionVerification)
			var vd models.VerificationData
			if err := json.Unmarshal(v.Data, &vd); err != nil || !strings.Contains(vd.Message, "2xx") || vd.StatusPageURL != mailBase+"/" {
				t.Errorf("verification data %s (%v)", v.Data, err)
			}
			checkSigned(t, other.next(t, 5*time.Second), subOther.Secret, models.EventSubscriptionVerification)
			waitState(t, s, sub.Subscriber.ID, models.SubscriberActive, 5*time.Second)
			waitState(t, s, subOther.Subscriber.ID, models.SubscriberActive, 5*time.Second)

			// Never one of the admin's channels, never in their count.
			chans, err := s.Channels(ctx, models.DefaultPageID)
			modelstest.Fatal(t, err, "channels")
			if len(chans) != 1 || chans[0].ID != adminChan.ID {
				t.Fatalf("admin channels %+v, want only %d", chans, adminChan.ID)
			}
			nctx, notified := models.CountNotified(ctx)
			inc, err := s.CreateIncident(nctx, models.DefaultPageID, models.IncidentInput{Title: "API down", Status: models.IncidentInvestigating,
				Message: "Looking.", Components: map[int64]models.ComponentStatus{api.ID: models.StatusMajorOutage}})
			modelstest.Fatal(t, err, "incident")
			if notified.Channels() != 1 {
				t.Errorf("%d channels notified, want 1 (the admin's)", notified.Channels())
			}

			got := all.next(t, 5*time.Second)
			env := checkSigned(t, got, sub.Secret, models.EventIncidentCreated)
			var adminBody []byte
			for adminBody == nil {
				r := admin.next(t, 5*time.Second)
				if r.Header.Get("X-Webhook-Event") == string(models.EventIncidentCreated) {
					adminBody = r.Body
				}
			}
			if string(adminBody) != string(got.Body) {
				t.Errorf("the subscriber's body differs from the admin channel's:\n%s\n%s", got.Body, adminBody)
			}
			var data models.IncidentData
			if err := json.Unmarshal(env.Data, &data); err != nil || data.ID != inc.ID {
				t.Errorf("data %s (%v)", env.Data, err)
			}
			waitFannedOut(t, s, 5*time.Second)
			time.Sleep(300 * time.Millisecond) // a second copy, or one to the other subscriber, would come now
			if n := len(all.requests()); n != 2 {
				t.Errorf("%d requests to the subscriber, want 2 (verification, incident)", n)
			}
			if n := len(other.requests()); n != 1 {
				t.Errorf("%d requests to the subscriber of Web only, want 1 (verification)", n)
			}

			// The delivery log has the attempt; replay sends it again.
			chID, ok, err := s.SubscriberChannelID(ctx, sub.Subscriber.ID)
			modelstest.Fatal(t, err, "subscriber channel")
			if !ok || chID != sub.ChannelID {
				t.Fatalf("SubscriberChannelID = %d, %v; want %d", chID, ok, sub.ChannelID)
			}
			ds, err := s.Deliveries(ctx, models.DeliveryFilter{ChannelID: chID, EventType: models.EventIncidentCreated})
			modelstest.Fatal(t, err, "deliveries")
			if len(ds) != 1 || ds[0].ID != got.Header.Get("webhook-id") {
				t.Fatalf("deliveries %+v, want one with id %s", ds, got.Header.Get("webhook-id"))
			}
			d := waitDeliveryFinal(t, s, ds[0].ID, 5*time.Second)
			as := attempts(t, s, d)
			if len(as) != 1 || as[0].ResponseStatus != http.StatusOK || as[0].Outcome != string(models.DeliveryDelivered) ||
				as[0].RequestURL != sub.URLHint {
				t.Errorf("attempts %+v, want one delivered, URL logged as %s", as, sub.URLHint)
			}
			modelstest.Fatal(t, s.ReplayDelivery(ctx, d.ID), "replay")
			again := all.next(t, 5*time.Second)
			checkSigned(t, again, sub.Secret, models.EventIncidentCreated)
			if again.Header.Get("webhook-id") != d.ID || string(again.Body) != string(got.Body) {
				t.Errorf("replay: webhook-id %s, want %s, same body", again.Header.Get("webhook-id"), d.ID)
			}

			// Unsubscribing deletes the subscriber, its channel and log.
			modelstest.Fatal(t, s.Unsubscribe(ctx, sub.ManageToken), "unsubscribe")
			if _, ok, _ := s.SubscriberChannelID(ctx, sub.Subscriber.ID); ok {
				t.Error("the channel outlived its subscriber")
			}
			if _, err := s.Delivery(ctx, d.ID); err == nil {
				t.Error("the delivery outlived its subscriber")
			}
		})
	}
}

// TestWebhookSubscriberUnverified: a receiver that answers its
// verification 500, or hangs, gets nothing else and stays pending; its
// verification is retried on the schedule.
func TestWebhookSubscriberUnverified(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			ctx := context.Background()
			s := modelstest.OpenWith(t, engine, models.Options{BaseURL: mailBase})
			failing := newTLSReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusInternalServerError) })
			release := make(chan struct{})
			var once sync.Once
			t.Cleanup(func() { once.Do(func() { close(release) }) })
			hanging := newTLSReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
				select {
				case <-release:
				case <-r.Context().Done():
				}
			})
			startEngine(t, s, notify.Config{TLS: testTLS().TLSClientConfig, Timeout: 500 * time.Millisecond, Poll: 100 * time.Millisecond})
			var subs []*models.WebhookSubscription
			for _, rc := range []*receiver{failing, hanging} {
				sub, err := s.SubscribeWebhook(ctx, models.DefaultPageID, models.WebhookSubscribeInput{URL: rc.URL + "/hook", AllComponents: true})
				modelstest.Fatal(t, err, "subscribe")
				subs = append(subs, sub)
				checkSigned(t, rc.next(t, 5*time.Second), sub.Secret, models.EventSubscriptionVerification)
			}
			for _, sub := range subs {
				waitVerification(t, s, sub.ChannelID, models.DeliveryRetrying, 5*time.Second)
			}
			_, err := s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Down", Status: models.IncidentInvestigating, Message: "Looking."})
			modelstest.Fatal(t, err, "incident")
			waitFannedOut(t, s, 5*time.Second)
			time.Sleep(500 * time.Millisecond)
			for i, rc := range []*receiver{failing, hanging} {
				if n := len(rc.requests()); n != 1 {
					t.Errorf("receiver %d got %d requests, want only the verification", i, n)
				}
				ds, err := s.Deliveries(ctx, models.DeliveryFilter{ChannelID: subs[i].ChannelID})
				modelstest.Fatal(t, err, "deliveries")
				if len(ds) != 1 || ds[0].EventType != models.EventSubscriptionVerification {
					t.Errorf("receiver %d has deliveries %+v, want only the verification", i, ds)
				}
				waitState(t, s, subs[i].Subscriber.ID, models.SubscriberPending, time.Second)
			}
		})
	}
}

// waitVerification waits until the verification delivery of channel id
// is in state want.
func waitVerification(t *testing.T, s *models.Store, id int64, want models.DeliveryState, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ds, err := s.Deliveries(context.Background(), models.DeliveryFilter{ChannelID: id, EventType: models.EventSubscriptionVerification})
		modelstest.Fatal(t, err, "deliveries")
		if len(ds) == 1 && ds[0].State == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("verification of channel %d not %s within %s: %+v", id, want, within, ds)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWebhookFanOutExactlyOnceWithTwoEngines: two engines without SMTP
// on one database race to expand the same events to webhook (and e-mail)
// subscribers in small batches; every webhook subscriber gets each event
// once.
func TestWebhookFanOutExactlyOnceWithTwoEngines(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			ctx := context.Background()
			dbURL := modelstest.NewDatabaseURL(t, engine)
			a := modelstest.OpenURL(t, dbURL, models.Options{BaseURL: mailBase})
			b := modelstest.OpenURL(t, dbURL, models.Options{BaseURL: mailBase})
			const hooks, mails, incidents = 40, 20, 3
			rc := newTLSReceiver(t, nil)
			var subs []*models.WebhookSubscription
			for i := range hooks + mails {
				if i%3 == 0 && i/3 < mails { // e-mail subscribers in between
					modelstest.Fatal(t, a.Subscribe(ctx, models.DefaultPageID, models.SubscribeInput{Email: fmt.Sprintf("r%d@example.com", i), AllComponents: true}), "subscribe")
					continue
				}
				sub, err := a.SubscribeWebhook(ctx, models.DefaultPageID, models.WebhookSubscribeInput{URL: fmt.Sprintf("%s/hook/%d", rc.URL, i), AllComponents: true})
				modelstest.Fatal(t, err, "subscribe")
				subs = append(subs, sub)
			}
			confirmAll(t, a) // the e-mail subscribers
			cfg := notify.Config{TLS: testTLS().TLSClientConfig, Poll: 100 * time.Millisecond, FanOut: 7}
			startEngine(t, a, cfg)
			startEngine(t, b, cfg)
			for _, sub := range subs {
				waitState(t, a, sub.Subscriber.ID, models.SubscriberActive, 10*time.Second)
			}
			for i := range incidents {
				_, err := a.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: fmt.Sprintf("Incident %d", i), Status: models.IncidentInvestigating, Message: "Looking."})
				modelstest.Fatal(t, err, "incident")
			}
			want := len(subs) * (1 + incidents)
			deadline := time.Now().Add(30 * time.Second)
			for len(rc.requests()) < want && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			waitFannedOut(t, a, 5*time.Second)
			time.Sleep(300 * time.Millisecond) // a duplicate would arrive now
			seen := map[string]int{}
			ids := map[string]bool{}
			for _, r := range rc.requests() {
				var env hookEnvelope
				if err := json.Unmarshal(r.Body, &env); err != nil {
					t.Fatalf("body: %v", err)
				}
				if env.Event == string(models.EventSubscriptionVerification) {
					continue
				}
				ids[r.Header.Get("webhook-id")] = true
				seen[env.ID+" "+r.Header.Get("webhook-id")]++
			}
			if len(ids) != len(subs)*incidents {
				t.Errorf("%d distinct event deliveries arrived, want %d", len(ids), len(subs)*incidents)
			}
			if got := len(rc.requests()); got != want {
				t.Errorf("%d requests, want %d", got, want)
			}
			evs, _ := a.Events(ctx, models.EventFilter{Type: models.EventIncidentCreated})
			for _, ev := range evs {
				n, err := a.CountDeliveries(ctx, models.DeliveryFilter{EventType: models.EventIncidentCreated})
				modelstest.Fatal(t, err, "count")
				if n != int64(len(subs)*incidents) {
					t.Errorf("%d incident deliveries, want %d", n, len(subs)*incidents)
				}
				if m, _ := a.CountSubscriberDeliveries(ctx, ev.ID, ""); m != mails {
					t.Errorf("event %s has %d e-mail deliveries, want %d", ev.ID, m, mails)
				}
			}
		})
	}
}

// waitDeliveryFinal waits until delivery id is final.
func waitDeliveryFinal(t *testing.T, s *models.Store, id string, within time.Duration) models.Delivery {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		d, err := s.Delivery(context.Background(), id)
		modelstest.Fatal(t, err, "delivery")
		if d.State.Final() {
			return *d
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %s not final within %s: %+v", id, within, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestVisitorEgressPolicy: a visitor's receiver may not be on a private
// address unless allowed, checked again when connecting (a host that
// resolved to a public address at sign-up may not later), while the
// admin's channels may reach the intranet.
func TestVisitorEgressPolicy(t *testing.T) {
	v := loopback.Visitor()
	for addr, refused := range map[string]bool{
		"10.1.2.3": true, "172.16.0.1": true, "192.168.1.1": true, "100.64.0.1": true, "fd00::1": true,
		"169.254.169.254": true, "203.0.113.9": false, "127.0.0.1": false, // allowed by the admin
	} {
		if got := v.Check(netip.MustParseAddr(addr)) != nil; got != refused {
			t.Errorf("visitor policy on %s: refused %v, want %v", addr, got, refused)
		}
	}
	if loopback.Check(netip.MustParseAddr("10.1.2.3")) != nil {
		t.Error("the admin's policy refuses a private address")
	}
	allowed := notify.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}.Visitor()
	if allowed.Check(netip.MustParseAddr("10.1.2.3")) != nil {
		t.Error("HERALD_WEBHOOK_ALLOW_CIDRS does not let a visitor's private address through")
	}
	if msg := v.Refusal(context.Background(), "https://10.1.2.3/x"); !strings.Contains(msg, "10.1.2.3, a private address") {
		t.Errorf("refusal %q", msg)
	}

	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		startEngine(t, s, notify.Config{Timeout: 2 * time.Second, Poll: 100 * time.Millisecond})
		// The store takes the URL (the form checks it first); the
		// engine refuses to connect.
		sub, err := s.SubscribeWebhook(ctx, models.DefaultPageID, models.WebhookSubscribeInput{URL: "https://10.255.255.1/hook", AllComponents: true})
		modelstest.Fatal(t, err, "subscribe")
		waitVerification(t, s, sub.ChannelID, models.DeliveryRetrying, 5*time.Second)
		ds, err := s.Deliveries(ctx, models.DeliveryFilter{ChannelID: sub.ChannelID})
		modelstest.Fatal(t, err, "deliveries")
		as := attempts(t, s, ds[0])
		if len(as) != 1 || as[0].ErrorClass != notify.ErrClassEgress || !strings.Contains(as[0].Error, "private address") {
			t.Errorf("attempts %+v, want one refused by the egress policy", as)
		}
	})
}
