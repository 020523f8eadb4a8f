package notify_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/notify"
)

var loopback = notify.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}

// received is one request as a receiver saw it.
type received struct {
	At     time.Time
	Header http.Header
	Body   []byte
}

// receiver is a real HTTP server that records requests and answers with
// respond (200 when nil).
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []received
	arrived chan received
}

func newReceiver(t *testing.T, respond func(w http.ResponseWriter, r *http.Request, n int)) *receiver {
	t.Helper()
	return startReceiver(t, false, respond)
}

// newTLSReceiver is newReceiver over HTTPS, as Slack and Discord are.
func newTLSReceiver(t *testing.T, respond func(w http.ResponseWriter, r *http.Request, n int)) *receiver {
	t.Helper()
	return startReceiver(t, true, respond)
}

func startReceiver(t *testing.T, tls bool, respond func(w http.ResponseWriter, r *http.Request, n int)) *receiver {
	t.Helper()
	rc := &receiver{arrived: make(chan received, 1000)}
	rc.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got := received{At: time.Now(), Header: r.Header.Clone(), Body: body}
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, got)
		n := len(rc.reqs)
		rc.mu.Unlock()
		rc.arrived <- got
		if respond != nil {
			respond(w, r, n)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	if tls {
		rc.StartTLS()
	} else {
		rc.Start()
	}
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

// next waits for the next request.
func (rc *receiver) next(t *testing.T, within time.Duration) received {
	t.Helper()
	select {
	case r := <-rc.arrived:
		return r
	case <-time.After(within):
		t.Fatalf("no request within %s", within)
		return received{}
	}
}

// startEngine runs an engine on s until the test ends.
func startEngine(t *testing.T, s *models.Store, cfg notify.Config) *notify.Engine {
	t.Helper()
	if cfg.Policy.Allow == nil && cfg.Policy.Deny == nil {
		cfg.Policy = loopback
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	e := notify.New(s, cfg, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return e
}

func addChannel(t *testing.T, s *models.Store, typ models.ChannelType, url, schedule string) *models.Channel {
	t.Helper()
	c, err := s.CreateChannel(context.Background(), models.DefaultPageID, models.ChannelInput{
		Type: typ, Name: string(typ) + " receiver", URL: url, Enabled: true, RetrySchedule: schedule})
	modelstest.Fatal(t, err, "create channel")
	return c
}

// fire commits one event (a component created) and returns the time.
func fire(t *testing.T, s *models.Store, name string) time.Time {
	t.Helper()
	_, err := s.CreateComponent(context.Background(), models.DefaultPageID, models.ComponentInput{Name: name, Visible: true, Status: models.StatusOperational})
	modelstest.Fatal(t, err, "create component")
	return time.Now()
}

// waitDelivery waits until the channel's only delivery reaches a final
// state, or fails the test.
func waitFinal(t *testing.T, s *models.Store, channelID int64, within time.Duration) models.Delivery {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ds, err := s.Deliveries(context.Background(), models.DeliveryFilter{ChannelID: channelID})
		modelstest.Fatal(t, err, "deliveries")
		if len(ds) == 1 && ds[0].State.Final() {
			return ds[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery not final within %s: %+v", within, ds)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func attempts(t *testing.T, s *models.Store, d models.Delivery) []models.DeliveryAttempt {
	t.Helper()
	as, err := s.DeliveryAttempts(context.Background(), d.ID)
	modelstest.Fatal(t, err, "attempts")
	return as
}

// verifyStandard checks a webhook-signature header the way a Standard
// Webhooks library does, written here independently of notify.Sign.
func verifyStandard(secret, id, ts string, body []byte, header string) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	for _, sig := range strings.Fields(header) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

// verifyHex checks X-Webhook-Signature.
func verifyHex(secret string, body []byte, header string) bool {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	want := hex.EncodeToString(m.Sum(nil))
	for _, sig := range strings.Split(header, ",") {
		if hmac.Equal([]byte(strings.TrimSpace(sig)), []byte(want)) {
			return true
		}
	}
	return false
}

func TestWebhookRequestAndSignatures(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		rc := newReceiver(t, nil)
		c := addChannel(t, s, models.ChannelWebhook, rc.URL+"/hook", "")
		startEngine(t, s, notify.Config{})

		committed := fire(t, s, "API")
		got := rc.next(t, 5*time.Second)
		if lat := got.At.Sub(committed); lat > time.Second {
			t.Errorf("first attempt %s after commit, want within 1 s", lat)
		}
		h := got.Header
		id := h.Get("X-Request-ID")
		for name, want := range map[string]string{
			"Content-Type": "application/json", "X-Webhook-Event": "component.created", "webhook-id": id,
		} {
			if h.Get(name) != want {
				t.Errorf("%s = %q, want %q", name, h.Get(name), want)
			}
		}
		if !strings.HasPrefix(id, "dlv_") || !strings.HasPrefix(h.Get("User-Agent"), "Herald-Webhook/") {
			t.Errorf("X-Request-ID %q, User-Agent %q", id, h.Get("User-Agent"))
		}
		ts := h.Get("webhook-timestamp")
		if !verifyHex(c.Secret, got.Body, h.Get("X-Webhook-Signature")) {
			t.Errorf("X-Webhook-Signature %q does not verify", h.Get("X-Webhook-Signature"))
		}
		if !verifyStandard(c.Secret, id, ts, got.Body, h.Get("webhook-signature")) {
			t.Errorf("webhook-signature %q does not verify", h.Get("webhook-signature"))
		}
		tampered := bytes.Replace(got.Body, []byte("API"), []byte("APX"), 1)
		if verifyHex(c.Secret, tampered, h.Get("X-Webhook-Signature")) || verifyStandard(c.Secret, id, ts, tampered, h.Get("webhook-signature")) {
			t.Error("a tampered body verifies")
		}

		var env struct {
			ID         string          `json:"id"`
			Event      string          `json:"event"`
			Timestamp  time.Time       `json:"timestamp"`
			Test       bool            `json:"test"`
			StatusPage map[string]any  `json:"statusPage"`
			Data       json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(got.Body, &env); err != nil {
			t.Fatalf("body is not JSON: %v\n%s", err, got.Body)
		}
		evs, _ := s.Events(ctx, models.EventFilter{Type: models.EventComponentCreated})
		if env.ID != evs[0].ID || env.Event != "component.created" || env.Test || string(env.Data) != evs[0].Data ||
			env.StatusPage["slug"] == nil || env.StatusPage["name"] == nil || env.Timestamp.IsZero() {
			t.Errorf("envelope = %+v, event = %+v", env, evs[0])
		}

		// Rotation: both secrets sign during the window.
		rot, err := s.RotateChannelSecret(ctx, c.ID, time.Hour)
		modelstest.Fatal(t, err, "rotate")
		fire(t, s, "Web")
		got = rc.next(t, 5*time.Second)
		h = got.Header
		if n := len(strings.Fields(h.Get("webhook-signature"))); n != 2 {
			t.Errorf("webhook-signature during rotation has %d entries: %q", n, h.Get("webhook-signature"))
		}
		for _, secret := range []string{rot.Secret, c.Secret} {
			if !verifyStandard(secret, h.Get("webhook-id"), h.Get("webhook-timestamp"), got.Body, h.Get("webhook-signature")) ||
				!verifyHex(secret, got.Body, h.Get("X-Webhook-Signature")) {
				t.Errorf("secret %s… does not verify during rotation", secret[:10])
			}
		}
		if verifyStandard(notifyOtherSecret, h.Get("webhook-id"), h.Get("webhook-timestamp"), got.Body, h.Get("webhook-signature")) {
			t.Error("an unrelated secret verifies")
		}
	})
}

const notifyOtherSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw/Tc8TnF1h3Y="
