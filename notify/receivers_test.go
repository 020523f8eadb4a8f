package notify_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/notify"
)

// fast retries keep the receiver tests short.
const fast = "0s, 200ms, 200ms"

func TestReceiverBehaviours(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		// Every httptest TLS server uses the same certificate, so one
		// server's client configuration trusts them all.
		tlsProbe := httptest.NewTLSServer(http.NotFoundHandler())
		tlsConfig := tlsProbe.Client().Transport.(*http.Transport).TLSClientConfig
		tlsProbe.Close()
		startEngine(t, s, notify.Config{Timeout: time.Second, TLS: tlsConfig})

		t.Run("200", func(t *testing.T) {
			rc := newReceiver(t, nil)
			c := addChannel(t, s, models.ChannelWebhook, rc.URL, fast)
			fire(t, s, "ok-200")
			d := waitFinal(t, s, c.ID, 5*time.Second)
			as := attempts(t, s, d)
			if d.State != models.DeliveryDelivered || len(as) != 1 || as[0].ResponseStatus != 200 || d.LastStatus != 200 {
				t.Errorf("delivery %+v attempts %+v", d, as)
			}
		})

		t.Run("500 twice then 200", func(t *testing.T) {
			rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, n int) {
				if n <= 2 {
					http.Error(w, "database is down", http.StatusInternalServerError)
					return
				}
				w.Write([]byte(`{"ok":true}`))
			})
			c := addChannel(t, s, models.ChannelWebhook, rc.URL, fast)
			fire(t, s, "flaky-500")
			d := waitFinal(t, s, c.ID, 10*time.Second)
			reqs := rc.requests()
			if d.State != models.DeliveryDelivered || len(reqs) != 3 {
				t.Fatalf("state %s after %d requests, want delivered after 3", d.State, len(reqs))
			}
			for _, r := range reqs {
				if r.Header.Get("X-Request-ID") != d.ID || string(r.Body) != string(reqs[0].Body) {
					t.Errorf("retry changed X-Request-ID or body: %q vs %q", r.Header.Get("X-Request-ID"), d.ID)
				}
			}
			as := attempts(t, s, d)
			if len(as) != 3 || as[0].ResponseStatus != 500 || !strings.Contains(as[0].ResponseBody, "database is down") ||
				as[0].Outcome != "retrying" || as[2].Outcome != "delivered" || as[2].ResponseBody != `{"ok":true}` {
				t.Errorf("attempts = %+v", as)
			}
		})

		t.Run("hangs past the timeout", func(t *testing.T) {
			release := make(chan struct{})
			defer close(release)
			rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
				select {
				case <-release:
				case <-r.Context().Done():
				}
			})
			c := addChannel(t, s, models.ChannelWebhook, rc.URL, "0s")
			fire(t, s, "hangs")
			d := waitFinal(t, s, c.ID, 10*time.Second)
			as := attempts(t, s, d)
			if d.State != models.DeliveryFailed || len(as) != 1 || as[0].ErrorClass != notify.ErrClassTimeout || as[0].DurationMS < 900 {
				t.Errorf("delivery %+v attempts %+v", d, as)
			}
		})

		t.Run("301 is a failure and is not followed", func(t *testing.T) {
			target := newReceiver(t, nil)
			rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
				http.Redirect(w, r, target.URL+"/moved", http.StatusMovedPermanently)
			})
			c := addChannel(t, s, models.ChannelWebhook, rc.URL, "0s, 100ms")
			fire(t, s, "redirects")
			d := waitFinal(t, s, c.ID, 10*time.Second)
			as := attempts(t, s, d)
			if d.State != models.DeliveryFailed || len(as) != 2 || as[0].ResponseStatus != 301 || !strings.Contains(as[0].Error, "/moved") {
				t.Errorf("delivery %+v attempts %+v", d, as)
			}
			if n := len(target.requests()); n != 0 {
				t.Errorf("the redirect was followed: target got %d requests", n)
			}
		})

		t.Run("429 with Retry-After 2", func(t *testing.T) {
			rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, n int) {
				if n == 1 {
					w.Header().Set("Retry-After", "2")
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			})
			c := addChannel(t, s, models.ChannelWebhook, rc.URL, fast)
			fire(t, s, "rate-limited")
			d := waitFinal(t, s, c.ID, 10*time.Second)
			reqs := rc.requests()
			if d.State != models.DeliveryDelivered || len(reqs) != 2 {
				t.Fatalf("state %s after %d requests", d.State, len(reqs))
			}
			if gap := reqs[1].At.Sub(reqs[0].At); gap < 1900*time.Millisecond || gap > 4*time.Second {
				t.Errorf("second attempt %s after the 429, want about 2 s (Retry-After), not the 200 ms schedule", gap)
			}
		})

		t.Run("closes the connection mid-response", func(t *testing.T) {
			rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, n int) {
				if n > 1 {
					w.WriteHeader(http.StatusOK)
					return
				}
				conn, buf, err := w.(http.Hijacker).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"partial\":")
				buf.Flush()
				conn.Close()
			})
			c := addChannel(t, s, models.ChannelWebhook, rc.URL, fast)
			fire(t, s, "cut-off")
			d := waitFinal(t, s, c.ID, 10*time.Second)
			as := attempts(t, s, d)
			if d.State != models.DeliveryDelivered || len(as) != 2 || as[0].ErrorClass != notify.ErrClassConnection || as[0].Outcome != "retrying" {
				t.Errorf("delivery %+v attempts %+v", d, as)
			}
		})

		for _, tc := range []struct {
			typ    models.ChannelType
			status int
			body   string
		}{
			{models.ChannelSlack, http.StatusGone, "channel_is_archived"},
			{models.ChannelDiscord, http.StatusNotFound, `{"message": "Unknown Webhook", "code": 10015}`},
		} {
			t.Run(string(tc.typ)+" webhook gone", func(t *testing.T) {
				rc := newTLSReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
					w.WriteHeader(tc.status)
					w.Write([]byte(tc.body))
				})
				c := addChannel(t, s, tc.typ, rc.URL+"/api/webhooks/1/token", fast)
				fire(t, s, "gone-"+string(tc.typ))
				d := waitFinal(t, s, c.ID, 10*time.Second)
				got, err := s.Channel(ctx, c.ID)
				modelstest.Fatal(t, err, "channel")
				if d.State != models.DeliveryFailed || len(rc.requests()) != 1 {
					t.Errorf("state %s after %d requests: a gone webhook must not be retried", d.State, len(rc.requests()))
				}
				if got.Enabled || got.DisabledReason == "" {
					t.Errorf("channel enabled=%v reason=%q, want disabled with a notice", got.Enabled, got.DisabledReason)
				}
			})
		}
	})
}

func TestSlowReceiverDoesNotDelayOthers(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		release := make(chan struct{})
		slow := newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		t.Cleanup(func() { close(release) })
		fastRc := newReceiver(t, nil)
		addChannel(t, s, models.ChannelWebhook, slow.URL, "0s")
		addChannel(t, s, models.ChannelWebhook, fastRc.URL, "0s")
		startEngine(t, s, notify.Config{Timeout: 5 * time.Second, Workers: 8, PerChannel: 2})

		// Ten events: the slow channel holds its two slots for 5 s each;
		// the fast one must get all ten at once anyway.
		start := time.Now()
		for i := range 10 {
			fire(t, s, "C"+string(rune('a'+i)))
		}
		for range 10 {
			fastRc.next(t, 2*time.Second)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("the fast channel got 10 deliveries in %s while another hung", took)
		}
	})
}
