package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/notify"
)

// limited is a receiver on 127.0.0.1 with a rate limit, as the platforms
// document theirs: Slack (and here a custom webhook) about one message a
// second, more answered 429 with Retry-After; Discord a bucket of 5
// requests per 2 s announced in X-RateLimit headers, more answered 429
// with retry_after. It notes what each accepted message is about.
type limited struct {
	kind models.ChannelType
	srv  *httptest.Server

	mu       sync.Mutex
	accepted []string // the message's text (Slack), embed title (Discord), data name or title (webhook)
	at       []time.Time
	limited  int
	last     time.Time
	used     int
	resetAt  time.Time
}

func newLimited(kind models.ChannelType) *limited {
	l := &limited{kind: kind}
	l.srv = httptest.NewUnstartedServer(http.HandlerFunc(l.serve))
	if kind == models.ChannelWebhook {
		l.srv.Start()
	} else {
		l.srv.StartTLS()
	}
	return l
}

func (l *limited) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.kind == models.ChannelDiscord {
		if !now.Before(l.resetAt) {
			l.used, l.resetAt = 0, now.Add(2*time.Second)
		}
		resetAfter := strconv.FormatFloat(float64(l.resetAt.Sub(now).Milliseconds()+1)/1000, 'f', 3, 64)
		w.Header().Set("X-RateLimit-Limit", "5")
		w.Header().Set("X-RateLimit-Reset-After", resetAfter)
		if l.used >= 5 {
			l.limited++
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(l.resetAt.Sub(now).Seconds()))))
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprintf(w, `{"message": "You are being rate limited.", "retry_after": %s, "global": false}`, resetAfter)
			return
		}
		l.used++
		w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(5-l.used))
	} else if since := now.Sub(l.last); !l.last.IsZero() && since < time.Second {
		l.limited++
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil((time.Second - since).Seconds()))))
		http.Error(w, "rate_limited", http.StatusTooManyRequests)
		return
	}
	l.last = now
	var m struct {
		Text   string
		Embeds []struct{ Title string }
		Data   struct{ Name, Title string }
	}
	json.Unmarshal(body, &m)
	about := m.Text + m.Data.Name + m.Data.Title
	if len(m.Embeds) > 0 {
		about = m.Embeds[0].Title
	}
	l.accepted = append(l.accepted, about)
	l.at = append(l.at, now)
	w.WriteHeader(http.StatusNoContent)
}

// runRateLimit sends an incident touching 10 components (11 messages),
// then a burst of events, to a Slack, a Discord and a custom webhook
// channel behind rate-limited receivers. No channel retries ("0s": one
// attempt), so a rate-limited try counted as a failed attempt would lose
// its message. It reports, per channel, messages delivered and lost, the
// 429s the receiver gave, messages out of event order and when the last
// one arrived.
func runRateLimit(adminURL string, engine models.Engine, burst int) error {
	ctx := context.Background()
	store, drop, err := openStore(ctx, adminURL, engine)
	if err != nil {
		return err
	}
	defer drop()
	comps := map[int64]models.ComponentStatus{}
	for i := range 10 {
		c, err := store.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: fmt.Sprintf("Component %02d", i+1), Status: models.StatusOperational})
		if err != nil {
			return err
		}
		comps[c.ID] = models.StatusMajorOutage
	}
	before, err := store.Events(ctx, models.EventFilter{})
	if err != nil {
		return err
	}

	receivers := []*limited{newLimited(models.ChannelSlack), newLimited(models.ChannelDiscord), newLimited(models.ChannelWebhook)}
	paths := []string{"/services/T0/B0/bench", "/api/webhooks/1/bench", "/hook"}
	for i, l := range receivers {
		defer l.srv.Close()
		if _, err := store.CreateChannel(ctx, models.DefaultPageID, models.ChannelInput{Type: l.kind, Name: string(l.kind),
			URL: l.srv.URL + paths[i], Enabled: true, RetrySchedule: "0s"}); err != nil {
			return err
		}
	}
	cfg := notify.Config{Policy: notify.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}, Version: "bench",
		TLS: receivers[0].srv.Client().Transport.(*http.Transport).TLSClientConfig}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	engCtx, stop := context.WithCancel(ctx)
	defer stop()
	e := notify.New(store, cfg, logger)
	done := make(chan struct{})
	go func() { defer close(done); e.Run(engCtx) }()
	defer func() { stop(); <-done }()

	fmt.Printf("Herald delivery benchmark, rate-limited receivers: %s, an incident touching 10 components, then a burst of %d events\n\n", engine, burst)
	start := time.Now()
	if _, err := store.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Database outage",
		Message: "Writes fail.", Status: models.IncidentInvestigating, Components: comps}); err != nil {
		return err
	}
	for i := range burst {
		if _, err := store.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: fmt.Sprintf("Burst %03d", i+1), Status: models.StatusOperational}); err != nil {
			return err
		}
	}
	evs, err := store.Events(ctx, models.EventFilter{After: before[len(before)-1].ID})
	if err != nil {
		return err
	}
	var markers []string
	for _, ev := range evs {
		var d struct{ Name, Title string }
		json.Unmarshal([]byte(ev.Data), &d)
		markers = append(markers, d.Name+d.Title)
	}

	// Wait until every message arrived or nothing is left to try, at
	// most 3 minutes (41 messages at one a second take about 45 s).
	deadline := start.Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		open := 0
		for _, st := range []models.DeliveryState{models.DeliveryPending, models.DeliveryRetrying} {
			n, err := store.CountDeliveries(ctx, models.DeliveryFilter{State: st})
			if err != nil {
				return err
			}
			open += int(n)
		}
		if open == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}

	fmt.Printf("%-9s %10s %5s %6s %13s %13s\n", "channel", "delivered", "lost", "429s", "out of order", "last arrival")
	for _, l := range receivers {
		l.mu.Lock()
		seen := map[int]bool{}
		outOfOrder, prev := 0, -1
		for _, text := range l.accepted {
			i := markerIndex(markers, text, l.kind == models.ChannelWebhook)
			if i < 0 || seen[i] {
				continue // not one of ours, or a duplicate: counted below
			}
			seen[i] = true
			if i < prev {
				outOfOrder++
			}
			prev = max(prev, i)
		}
		last := time.Duration(0)
		if len(l.at) > 0 {
			last = l.at[len(l.at)-1].Sub(start)
		}
		dups := len(l.accepted) - len(seen)
		fmt.Printf("%-9s %6d/%-3d %5d %6d %13d %12.1fs", l.kind, len(seen), len(markers), len(markers)-len(seen), l.limited, outOfOrder, last.Seconds())
		if dups > 0 {
			fmt.Printf("   (%d duplicates)", dups)
		}
		fmt.Println()
		l.mu.Unlock()
	}
	a := e.Attempts()
	fmt.Printf("\nattempts recorded: %d delivered, %d rate limited, %d retrying, %d failed\n", a.Delivered, a.RateLimited, a.Retrying, a.Failed)
	return nil
}

// markerIndex is the event a message is about: the one whose marker it
// shows (exactly, for a webhook's data), or -1.
func markerIndex(markers []string, text string, exact bool) int {
	found := -1
	for i, m := range markers {
		if (exact && text == m) || (!exact && strings.Contains(text, m)) {
			if found >= 0 {
				return -1 // ambiguous
			}
			found = i
		}
	}
	return found
}
