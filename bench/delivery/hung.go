package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/notify"
)

// runHung runs, once per number in list, that many channels whose
// receivers never answer (each attempt hangs until the 10 s timeout)
// beside one healthy channel, with the default engine configuration.
// Once the hung channels have filled their per-channel cap, it commits
// events at rate for seconds and reports the healthy channel's first
// attempt after commit (p50, p99, max), its messages delivered and lost,
// and the hung attempts in flight meanwhile.
func runHung(adminURL string, engine models.Engine, list string, rate, seconds int) error {
	fmt.Printf("Herald delivery benchmark, hung receivers: %s, default engine settings (32 workers, 4 per channel, 10 s timeout), %d events at %d/s\n\n",
		engine, rate*seconds, rate)
	fmt.Printf("%-12s %14s %10s %5s %10s %10s %10s\n", "hung", "hung in flight", "delivered", "lost", "p50", "p99", "max")
	for part := range strings.SplitSeq(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 0 {
			return fmt.Errorf("-hung: %q is not a number of channels", part)
		}
		if err := hungOnce(adminURL, engine, n, rate, seconds); err != nil {
			return err
		}
	}
	return nil
}

func hungOnce(adminURL string, engine models.Engine, hung, rate, seconds int) error {
	ctx := context.Background()
	store, drop, err := openStore(ctx, adminURL, engine)
	if err != nil {
		return err
	}
	defer drop()

	release := make(chan struct{})
	var inflight atomic.Int64
	hang, err := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inflight.Add(1)
		defer inflight.Add(-1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	if err != nil {
		return err
	}
	defer hang.Close()
	var mu sync.Mutex
	arrived := map[string]time.Time{}
	healthy, err := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		now := time.Now()
		var env struct{ Data struct{ Name string } }
		json.Unmarshal(body, &env)
		mu.Lock()
		if _, ok := arrived[env.Data.Name]; !ok {
			arrived[env.Data.Name] = now
		}
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	if err != nil {
		return err
	}
	defer healthy.Close()
	for i := range hung {
		if _, err := store.CreateChannel(ctx, models.DefaultPageID, models.ChannelInput{Type: models.ChannelWebhook,
			Name: fmt.Sprintf("hung %d", i), URL: fmt.Sprintf("http://%s/hung/%d", hang.Addr, i), Enabled: true}); err != nil {
			return err
		}
	}
	if _, err := store.CreateChannel(ctx, models.DefaultPageID, models.ChannelInput{Type: models.ChannelWebhook,
		Name: "healthy", URL: "http://" + healthy.Addr + "/", Enabled: true}); err != nil {
		return err
	}
	cfg := notify.Config{Policy: notify.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}, Version: "bench"}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	engCtx, stop := context.WithCancel(ctx)
	e := notify.New(store, cfg, logger)
	done := make(chan struct{})
	go func() { defer close(done); e.Run(engCtx) }()
	defer func() { close(release); stop(); <-done }()

	// Warm up: the hung channels fill their cap of 4 each.
	const perChannel = 4
	for i := range 8 {
		if _, err := store.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: fmt.Sprintf("warm-%d", i), Status: models.StatusOperational}); err != nil {
			return err
		}
	}
	for wait := time.Now().Add(5 * time.Second); inflight.Load() < int64(hung*perChannel) && time.Now().Before(wait); {
		time.Sleep(10 * time.Millisecond)
	}

	commits := map[string]time.Time{}
	minHung, peak := int64(1<<62), int64(0)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	for i := range rate * seconds {
		<-tick.C
		h := inflight.Load()
		minHung, peak = min(minHung, h), max(peak, h)
		name := fmt.Sprintf("event-%05d", i)
		if _, err := store.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: name, Status: models.StatusOperational}); err != nil {
			tick.Stop()
			return err
		}
		commits[name] = time.Now()
	}
	tick.Stop()
	for wait := time.Now().Add(10 * time.Second); time.Now().Before(wait); time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		got := 0
		for name := range commits {
			if _, ok := arrived[name]; ok {
				got++
			}
		}
		mu.Unlock()
		if got == len(commits) {
			break
		}
	}
	mu.Lock()
	var lat []time.Duration
	for name, c := range commits {
		if a, ok := arrived[name]; ok {
			lat = append(lat, max(a.Sub(c), 0))
		}
	}
	mu.Unlock()
	slices.Sort(lat)
	if len(lat) == 0 {
		return fmt.Errorf("%d hung: the healthy channel got nothing", hung)
	}
	fmt.Printf("%-12s %14s %10d %5d %10s %10s %10s\n", fmt.Sprintf("%d channels", hung), fmt.Sprintf("%d–%d", minHung, peak),
		len(lat), len(commits)-len(lat), pct(lat, 50), pct(lat, 99), lat[len(lat)-1].Round(time.Microsecond))
	return nil
}

// server is an HTTP server on 127.0.0.1.
type server struct {
	*http.Server
	Addr string
}

func serve(h http.Handler) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &server{Server: &http.Server{Handler: h}, Addr: ln.Addr().String()}
	go s.Serve(ln)
	return s, nil
}
