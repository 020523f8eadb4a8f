package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/notify"
)

// limitedReceiver stands in for a receiver with a rate limit: Slack's
// incoming webhooks (one message a second: more gets 429 with
// Retry-After), Discord's (a bucket of 5 requests per window announced in
// X-RateLimit headers: more gets 429 with retry_after), or a custom
// webhook limited like Slack. It keeps what it accepted, in order.
type limitedReceiver struct {
	*httptest.Server
	kind models.ChannelType

	mu       sync.Mutex
	accepted []string // Slack text, Discord embed title, or X-Request-ID
	limited  int      // requests answered 429
	last     time.Time
	used     int       // Discord: requests in the current window
	resetAt  time.Time // Discord: when the window ends
}

const (
	discordBucket = 5
	discordWindow = 2 * time.Second
)

func newLimitedReceiver(t *testing.T, kind models.ChannelType) *limitedReceiver {
	t.Helper()
	rc := &limitedReceiver{kind: kind}
	rc.Server = httptest.NewUnstartedServer(http.HandlerFunc(rc.serve))
	if kind == models.ChannelWebhook {
		rc.Start()
	} else {
		rc.StartTLS()
	}
	t.Cleanup(rc.Close)
	return rc
}

func (rc *limitedReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	now := time.Now()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.kind == models.ChannelDiscord {
		rc.serveDiscord(w, body, now)
		return
	}
	if since := now.Sub(rc.last); !rc.last.IsZero() && since < time.Second {
		rc.limited++
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil((time.Second - since).Seconds()))))
		http.Error(w, "rate_limited", http.StatusTooManyRequests)
		return
	}
	rc.last = now
	switch rc.kind {
	case models.ChannelSlack:
		var m struct{ Text string }
		json.Unmarshal(body, &m)
		rc.accepted = append(rc.accepted, m.Text)
		w.Write([]byte("ok"))
	default:
		rc.accepted = append(rc.accepted, r.Header.Get("X-Request-ID"))
		w.WriteHeader(http.StatusNoContent)
	}
}

func (rc *limitedReceiver) serveDiscord(w http.ResponseWriter, body []byte, now time.Time) {
	if !now.Before(rc.resetAt) {
		rc.used, rc.resetAt = 0, now.Add(discordWindow)
	}
	// Seconds to the millisecond, rounded up, as Discord writes them.
	resetAfter := strconv.FormatFloat(math.Ceil(float64(rc.resetAt.Sub(now).Milliseconds()+1))/1000, 'f', 3, 64)
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(discordBucket))
	h.Set("X-RateLimit-Reset-After", resetAfter)
	h.Set("X-RateLimit-Bucket", "test-bucket")
	if rc.used >= discordBucket {
		rc.limited++
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("Retry-After", strconv.Itoa(int(math.Ceil(rc.resetAt.Sub(now).Seconds()))))
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprintf(w, `{"message": "You are being rate limited.", "retry_after": %s, "global": false}`, resetAfter)
		return
	}
	rc.used++
	h.Set("X-RateLimit-Remaining", strconv.Itoa(discordBucket-rc.used))
	var m struct {
		Embeds []struct{ Title string }
	}
	json.Unmarshal(body, &m)
	if len(m.Embeds) > 0 {
		rc.accepted = append(rc.accepted, m.Embeds[0].Title)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (rc *limitedReceiver) got() (accepted []string, limited int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.accepted), rc.limited
}

// eventMarkers names each event after firstID (exclusive) by what a chat
// message about it shows: the component's name or the incident's title.
func eventMarkers(t *testing.T, s *models.Store, after string) []string {
	t.Helper()
	evs, err := s.Events(context.Background(), models.EventFilter{After: after})
	modelstest.Fatal(t, err, "events")
	var out []string
	for _, ev := range evs {
		var d struct{ Name, Title string }
		modelstest.Fatal(t, json.Unmarshal([]byte(ev.Data), &d), "event data")
		out = append(out, d.Name+d.Title)
	}
	return out
}

// inOrder maps each accepted message to the marker it shows and checks
// that every marker came exactly once, in event order.
func inOrder(t *testing.T, what string, accepted, markers []string) {
	t.Helper()
	var got []string
	for _, text := range accepted {
		var hit []string
		for _, m := range markers {
			if strings.Contains(text, m) {
				hit = append(hit, m)
			}
		}
		if len(hit) != 1 {
			t.Errorf("%s: message %q matches %d events", what, text, len(hit))
			continue
		}
		got = append(got, hit[0])
	}
	if !slices.Equal(got, markers) {
		t.Errorf("%s received, in this order:\n%q\nwant each event once, in event order:\n%q", what, got, markers)
	}
}

func lastEventID(t *testing.T, s *models.Store) string {
	t.Helper()
	evs, err := s.Events(context.Background(), models.EventFilter{})
	modelstest.Fatal(t, err, "events")
	if len(evs) == 0 {
		return ""
	}
	return evs[len(evs)-1].ID
}

// TestRateLimitedChannelsLoseNothing sends an incident touching 10
// components (11 messages), then a burst of 30 events, to a Slack
// channel, a Discord channel and a custom webhook whose receivers enforce
// rate limits. Each channel retries nothing ("0s": one attempt), so a
// rate-limited try counted as a failed attempt would lose the message.
// Slack and Discord are paced ahead of time (hardly a 429); the webhook
// has no known limit, learns it from 429s and pauses. Every message
// arrives once, and on Slack and Discord in event order.
func TestRateLimitedChannelsLoseNothing(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			s := modelstest.Open(t, engine)
			ctx := context.Background()
			comps := map[int64]models.ComponentStatus{}
			for i := range 10 {
				c, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: fmt.Sprintf("Comp %02d", i+1), Status: models.StatusOperational})
				modelstest.Fatal(t, err, "component")
				comps[c.ID] = models.StatusMajorOutage
			}
			before := lastEventID(t, s)

			slack := newLimitedReceiver(t, models.ChannelSlack)
			discord := newLimitedReceiver(t, models.ChannelDiscord)
			hook := newLimitedReceiver(t, models.ChannelWebhook)
			addChannel(t, s, models.ChannelSlack, slack.URL+"/services/T0/B0/x", "0s")
			addChannel(t, s, models.ChannelDiscord, discord.URL+"/api/webhooks/1/token", "0s")
			hookChannel := addChannel(t, s, models.ChannelWebhook, hook.URL, "0s")
			startEngine(t, s, notify.Config{TLS: testTLS().TLSClientConfig})

			_, err := s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Database outage",
				Message: "Writes fail.", Status: models.IncidentInvestigating, Components: comps})
			modelstest.Fatal(t, err, "incident")
			for i := range 30 {
				fire(t, s, fmt.Sprintf("Burst %02d", i+1))
			}
			markers := eventMarkers(t, s, before)
			if len(markers) != 41 {
				t.Fatalf("%d events, want 41", len(markers))
			}

			deadline := time.Now().Add(150 * time.Second)
			for {
				a, _ := slack.got()
				b, _ := discord.got()
				c, _ := hook.got()
				if len(a) >= 41 && len(b) >= 41 && len(c) >= 41 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after 150 s: Slack got %d, Discord %d, the webhook %d of 41", len(a), len(b), len(c))
				}
				time.Sleep(100 * time.Millisecond)
			}
			time.Sleep(300 * time.Millisecond) // room for a duplicate to show

			slackGot, slackLimited := slack.got()
			discordGot, discordLimited := discord.got()
			hookGot, hookLimited := hook.got()
			inOrder(t, "Slack", slackGot, markers)
			inOrder(t, "Discord", discordGot, markers)
			t.Logf("429s: Slack %d, Discord %d, webhook %d", slackLimited, discordLimited, hookLimited)
			if slackLimited > 1 || discordLimited > 1 {
				t.Errorf("Slack answered 429 %d times, Discord %d times: they are paced ahead of time, so hardly ever", slackLimited, discordLimited)
			}
			if hookLimited == 0 {
				t.Error("the webhook receiver never rate limited: the test shows nothing")
			}
			ds, err := s.Deliveries(ctx, models.DeliveryFilter{ChannelID: hookChannel.ID})
			modelstest.Fatal(t, err, "deliveries")
			var ids []string
			rateLimited := 0
			for _, d := range ds {
				ids = append(ids, d.ID)
				for _, a := range attempts(t, s, d) {
					if a.Outcome == models.OutcomeRateLimited {
						rateLimited++
					}
				}
			}
			slices.Sort(ids)
			slices.Sort(hookGot)
			if !slices.Equal(ids, hookGot) {
				t.Errorf("the webhook accepted %d requests for %d deliveries: each must arrive exactly once", len(hookGot), len(ids))
			}
			if rateLimited != hookLimited {
				t.Errorf("%d attempts logged as rate_limited, the receiver answered 429 %d times", rateLimited, hookLimited)
			}
			for _, state := range []models.DeliveryState{models.DeliveryFailed, models.DeliveryPending, models.DeliveryRetrying} {
				if n, _ := s.CountDeliveries(ctx, models.DeliveryFilter{State: state}); n != 0 {
					t.Errorf("%d deliveries %s, want every one delivered", n, state)
				}
			}
		})
	}
}

// TestServiceUnavailableWithRetryAfterPausesTheChannel: a 503 with
// Retry-After holds back every delivery of the channel, not only the one
// that got it, and is no failed attempt.
func TestServiceUnavailableWithRetryAfterPausesTheChannel(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		var mu sync.Mutex
		var arrivals []time.Time
		var ids []string
		rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			arrivals = append(arrivals, time.Now())
			if len(arrivals) == 1 {
				w.Header().Set("Retry-After", "2")
				http.Error(w, "maintenance", http.StatusServiceUnavailable)
				return
			}
			ids = append(ids, r.Header.Get("X-Request-ID"))
			w.WriteHeader(http.StatusOK)
		}))
		t.Cleanup(rc.Close)
		c := addChannel(t, s, models.ChannelWebhook, rc.URL, "0s")
		startEngine(t, s, notify.Config{})

		fire(t, s, "first")
		first := waitAttempts(t, s, c.ID, 1, 5*time.Second)
		fire(t, s, "second")
		fire(t, s, "third")
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			n := len(ids)
			mu.Unlock()
			if n == 3 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of 3 delivered after 10 s", n)
			}
			time.Sleep(20 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(arrivals) != 4 {
			t.Errorf("%d requests, want 4 (one 503, three deliveries)", len(arrivals))
		}
		if gap := arrivals[1].Sub(arrivals[0]); gap < 1900*time.Millisecond {
			t.Errorf("the next request came %s after the 503, want the whole channel paused for its Retry-After (2 s)", gap)
		}
		// The receiver has answered the third; the engine records that
		// right after.
		var ds []models.Delivery
		for settle := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			ds, _ = s.Deliveries(context.Background(), models.DeliveryFilter{ChannelID: c.ID})
			done := len(ds) == 3
			for _, d := range ds {
				done = done && d.State == models.DeliveryDelivered
			}
			if done || time.Now().After(settle) {
				break
			}
		}
		slices.SortFunc(ds, func(a, b models.Delivery) int { return strings.Compare(a.ID, b.ID) })
		if len(ds) != 3 || ids[0] != first.ID || !slices.Equal(ids, []string{ds[0].ID, ds[1].ID, ds[2].ID}) {
			t.Errorf("delivered %v, want the paused delivery first, then the others in event order", ids)
		}
		as := attempts(t, s, first)
		if len(as) != 2 || as[0].Outcome != models.OutcomeRateLimited || as[0].ResponseStatus != 503 || as[1].Outcome != "delivered" {
			t.Errorf("attempts of the paused delivery = %+v", as)
		}
		for _, d := range ds {
			if d.State != models.DeliveryDelivered {
				t.Errorf("delivery %s is %s", d.ID, d.State)
			}
		}
	})
}

// waitAttempts waits until the channel's oldest delivery has n attempts
// recorded, and returns it.
func waitAttempts(t *testing.T, s *models.Store, channelID int64, n int, within time.Duration) models.Delivery {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ds, err := s.Deliveries(context.Background(), models.DeliveryFilter{ChannelID: channelID})
		modelstest.Fatal(t, err, "deliveries")
		if len(ds) > 0 && ds[len(ds)-1].Attempts >= n {
			return ds[len(ds)-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %d attempts within %s: %+v", n, within, ds)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runEngine starts an engine and returns a function that stops it and
// waits for it (also called when the test ends).
func runEngine(t *testing.T, s *models.Store, cfg notify.Config) (stop func()) {
	t.Helper()
	if cfg.Policy.Allow == nil {
		cfg.Policy = loopback
	}
	e := notify.New(s, cfg, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// secondStore opens another Store on s's database, as another replica
// would.
func secondStore(t *testing.T, s *models.Store) *models.Store {
	t.Helper()
	other, err := models.Open(context.Background(), s.DSN(), models.Options{Sealer: modelstest.TestVault(t)})
	modelstest.Fatal(t, err, "open a second store")
	t.Cleanup(func() { other.Close() })
	return other
}

// TestAnotherEngineHonoursThePause: the pause lives in the database, so
// an engine on another connection (another replica) that never saw the
// 429 holds the channel's deliveries too.
func TestAnotherEngineHonoursThePause(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		var mu sync.Mutex
		var arrivals []time.Time
		var agents []string
		rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			arrivals = append(arrivals, time.Now())
			agents = append(agents, r.Header.Get("User-Agent"))
			if len(arrivals) == 1 {
				w.Header().Set("Retry-After", "3")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			w.WriteHeader(http.StatusOK)
		}))
		t.Cleanup(rc.Close)
		c := addChannel(t, s, models.ChannelWebhook, rc.URL, "0s")
		stopA := runEngine(t, s, notify.Config{Version: "engine-a"})
		fire(t, s, "one")
		waitAttempts(t, s, c.ID, 1, 5*time.Second)
		stopA()

		other := secondStore(t, s)
		runEngine(t, other, notify.Config{Version: "engine-b", Poll: 50 * time.Millisecond})
		fire(t, s, "two")
		fire(t, s, "three")
		deadline := time.Now().Add(10 * time.Second)
		for {
			n, _ := s.CountDeliveries(context.Background(), models.DeliveryFilter{ChannelID: c.ID, State: models.DeliveryDelivered})
			if n == 3 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of 3 delivered after 10 s", n)
			}
			time.Sleep(20 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		if gap := arrivals[1].Sub(arrivals[0]); gap < 2900*time.Millisecond {
			t.Errorf("engine B sent %s after engine A's 429, want the pause of 3 s honoured", gap)
		}
		if len(arrivals) != 4 || agents[0] != "Herald-Webhook/engine-a" || agents[3] != "Herald-Webhook/engine-b" {
			t.Errorf("requests from %v", agents)
		}
	})
}

// TestSlackPacingHoldsAcrossEngines: two engines on one database share
// the Slack channel's pace (one request a second, one in flight) through
// the database, so the receiver sees no 429 and the events in order.
func TestSlackPacingHoldsAcrossEngines(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		before := lastEventID(t, s)
		slack := newLimitedReceiver(t, models.ChannelSlack)
		addChannel(t, s, models.ChannelSlack, slack.URL+"/services/T0/B0/x", "0s")
		tlsConfig := testTLS().TLSClientConfig
		other := secondStore(t, s)
		runEngine(t, s, notify.Config{TLS: tlsConfig, Version: "a", Poll: 100 * time.Millisecond})
		runEngine(t, other, notify.Config{TLS: tlsConfig, Version: "b", Poll: 100 * time.Millisecond})
		for i := range 6 {
			fire(t, s, fmt.Sprintf("Paced %02d", i+1))
		}
		markers := eventMarkers(t, s, before)
		deadline := time.Now().Add(20 * time.Second)
		for {
			got, _ := slack.got()
			if len(got) >= len(markers) || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond)
		got, limited := slack.got()
		inOrder(t, "Slack", got, markers)
		if limited != 0 {
			t.Errorf("Slack answered 429 %d times: two engines broke the pace", limited)
		}
	})
}

// TestRateLimitsGiveUpAfter24Hours: rate-limited tries use no step of the
// retry schedule ("0s": one attempt), but a delivery that has met nothing
// but rate limits for 24 hours fails.
func TestRateLimitsGiveUpAfter24Hours(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			clock := modelstest.NewClock(time.Now())
			s := modelstest.OpenWith(t, engine, models.Options{Now: clock.Now})
			rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
			}))
			t.Cleanup(rc.Close)
			c := addChannel(t, s, models.ChannelWebhook, rc.URL, "0s")
			startEngine(t, s, notify.Config{Poll: 20 * time.Millisecond})
			fire(t, s, "limited")
			waitAttempts(t, s, c.ID, 1, 5*time.Second)
			clock.Add(2 * time.Second)
			waitAttempts(t, s, c.ID, 2, 5*time.Second)
			clock.Add(23 * time.Hour)
			d := waitAttempts(t, s, c.ID, 3, 5*time.Second)
			if d.State != models.DeliveryRetrying {
				t.Errorf("after 23 h of rate limits the delivery is %s, want retrying", d.State)
			}
			clock.Add(time.Hour)
			d = waitFinal(t, s, c.ID, 5*time.Second)
			as := attempts(t, s, d)
			var outcomes []string
			for _, a := range as {
				outcomes = append(outcomes, a.Outcome)
			}
			if d.State != models.DeliveryFailed || !slices.Equal(outcomes, []string{"rate_limited", "rate_limited", "rate_limited", "failed"}) ||
				!strings.Contains(as[3].Error, "gave up") {
				t.Errorf("delivery %s with attempts %v (last error %q), want three rate-limited tries, then failed after 24 h",
					d.State, outcomes, as[len(as)-1].Error)
			}
		})
	}
}
