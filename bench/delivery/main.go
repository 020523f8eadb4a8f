// Command delivery benchmarks Herald's notification delivery on
// PostgreSQL, against a receiver on 127.0.0.1 in the same process.
//
// It measures, in one run:
//
//   - drain: deliveries per second when a backlog of events × channels is
//     waiting and the engine starts (sustained throughput);
//   - baseline: the same number of POSTs of the same bodies with the same
//     concurrency straight from a Go HTTP client, no database: the
//     ceiling of this machine and receiver;
//   - latency: events committed at a steady rate while the engine runs;
//     the time from each commit to the first attempt's arrival (p50, p99).
//
// Two other modes put misbehaving receivers in front of the engine:
// -mode ratelimit (receivers limited to about a message a second, see
// ratelimit.go) and -mode hung (receivers that never answer beside a
// healthy one, see hung.go).
//
// Usage: go run ./bench/delivery [-events 2000] [-channels 3]
//
//	go run ./bench/delivery -mode ratelimit [-engine sqlite]
//	go run ./bench/delivery -mode hung [-hung 7,20] [-engine sqlite]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/notify"
	"github.com/heraldstatus/herald/vault"
	"github.com/jackc/pgx/v5"
)

func main() {
	events := flag.Int("events", 2000, "events in the backlog")
	channels := flag.Int("channels", 3, "webhook channels")
	workers := flag.Int("workers", 32, "delivery workers (HERALD_DELIVERY_WORKERS)")
	rate := flag.Int("rate", 50, "events per second in the latency phase")
	seconds := flag.Int("seconds", 10, "length of the latency phase")
	pg := flag.String("postgres", envOr("HERALD_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "PostgreSQL admin URL")
	mode := flag.String("mode", "throughput", "throughput, ratelimit or hung")
	engine := flag.String("engine", "postgres", "database of the ratelimit and hung modes: postgres or sqlite")
	burst := flag.Int("burst", 30, "ratelimit: events in the burst after the incident")
	hung := flag.String("hung", "7,20", "hung: numbers of hung channels, one run each")
	flag.Parse()
	var err error
	switch *mode {
	case "throughput":
		err = run(*pg, *events, *channels, *workers, *rate, *seconds)
	case "ratelimit":
		err = runRateLimit(*pg, models.Engine(*engine), *burst)
	case "hung":
		err = runHung(*pg, models.Engine(*engine), *hung, *rate, *seconds)
	default:
		err = fmt.Errorf("unknown -mode %q: use throughput, ratelimit or hung", *mode)
	}
	if err != nil {
		log.Fatal(err)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// receiver counts requests and notes when each component's first
// request arrived.
type receiver struct {
	n       atomic.Int64
	mu      sync.Mutex
	arrived map[string]time.Time // component name → first arrival
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	now := time.Now()
	rc.n.Add(1)
	var env struct {
		Data struct {
			Name string `json:"name"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &env) == nil && env.Data.Name != "" {
		rc.mu.Lock()
		if _, ok := rc.arrived[env.Data.Name]; !ok {
			rc.arrived[env.Data.Name] = now
		}
		rc.mu.Unlock()
	}
	w.WriteHeader(http.StatusNoContent)
}

func run(adminURL string, events, channels, workers, rate, seconds int) error {
	ctx := context.Background()
	dsn, drop, err := createDatabase(ctx, adminURL)
	if err != nil {
		return err
	}
	defer drop()
	v, err := vault.New(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		return err
	}
	store, err := models.Open(ctx, dsn, models.Options{Sealer: v})
	if err != nil {
		return err
	}
	defer store.Close()
	if _, err := store.Migrate(ctx); err != nil {
		return err
	}

	rc := &receiver{arrived: map[string]time.Time{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: rc}
	go srv.Serve(ln)
	defer srv.Close()
	target := "http://" + ln.Addr().String()
	for i := range channels {
		if _, err := store.CreateChannel(ctx, models.DefaultPageID, models.ChannelInput{Type: models.ChannelWebhook,
			Name: fmt.Sprintf("bench %d", i), URL: fmt.Sprintf("%s/%d", target, i), Enabled: true}); err != nil {
			return err
		}
	}
	cfg := notify.Config{Workers: workers, PerChannel: max(workers/channels, 1),
		Policy: notify.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}, Version: "bench"}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	fmt.Printf("Herald delivery benchmark: PostgreSQL, %d channels, %d workers, receiver on %s\n\n", channels, workers, target)

	// Drain a backlog.
	for i := range events {
		if _, err := store.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: fmt.Sprintf("backlog-%05d", i), Status: models.StatusOperational}); err != nil {
			return err
		}
	}
	total := int64(events * channels)
	engCtx, stop := context.WithCancel(ctx)
	defer stop()
	engine := notify.New(store, cfg, logger)
	done := make(chan struct{})
	start := time.Now()
	go func() { defer close(done); engine.Run(engCtx) }()
	for rc.n.Load() < total {
		time.Sleep(5 * time.Millisecond)
		if time.Since(start) > 5*time.Minute {
			return fmt.Errorf("drain: only %d of %d deliveries after 5 minutes", rc.n.Load(), total)
		}
	}
	drain := time.Since(start)
	for {
		n, err := store.CountDeliveries(ctx, models.DeliveryFilter{State: models.DeliveryDelivered})
		if err != nil {
			return err
		}
		if n == total {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	recorded := time.Since(start)
	herald := float64(total) / drain.Seconds()

	// Baseline: the same POSTs without Herald.
	base, err := baseline(target, int(total), workers)
	if err != nil {
		return err
	}
	fmt.Printf("%-34s %8s %10s\n", "", "per sec", "time")
	fmt.Printf("%-34s %8.0f %10s\n", "baseline: plain Go client POSTs", base.perSec, base.took.Round(time.Millisecond))
	fmt.Printf("%-34s %8.0f %10s   (%.2f× baseline)\n", fmt.Sprintf("herald: drain %d deliveries", total), herald, drain.Round(time.Millisecond), herald/base.perSec)
	fmt.Printf("%-34s %8.0f %10s   (all attempts recorded)\n\n", "herald: drain incl. last record", float64(total)/recorded.Seconds(), recorded.Round(time.Millisecond))

	// Latency after commit, at a steady rate.
	commits := map[string]time.Time{}
	tick := time.NewTicker(time.Second / time.Duration(rate))
	n := rate * seconds
	for i := range n {
		<-tick.C
		name := fmt.Sprintf("latency-%05d", i)
		if _, err := store.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: name, Status: models.StatusOperational}); err != nil {
			return err
		}
		commits[name] = time.Now()
	}
	tick.Stop()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rc.mu.Lock()
		got := 0
		for name := range commits {
			if _, ok := rc.arrived[name]; ok {
				got++
			}
		}
		rc.mu.Unlock()
		if got == len(commits) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	<-done
	var lat []time.Duration
	rc.mu.Lock()
	for name, c := range commits {
		if a, ok := rc.arrived[name]; ok {
			lat = append(lat, max(a.Sub(c), 0))
		}
	}
	rc.mu.Unlock()
	slices.Sort(lat)
	if len(lat) == 0 {
		return fmt.Errorf("latency: no deliveries arrived")
	}
	fmt.Printf("first attempt after commit, %d events at %d/s (%d arrived):\n", n, rate, len(lat))
	fmt.Printf("  p50 %s   p90 %s   p99 %s   max %s\n", pct(lat, 50), pct(lat, 90), pct(lat, 99), lat[len(lat)-1].Round(time.Microsecond))
	return nil
}

func pct(d []time.Duration, p int) time.Duration {
	i := min(len(d)*p/100, len(d)-1)
	return d[i].Round(time.Microsecond)
}

type rateResult struct {
	perSec float64
	took   time.Duration
}

// baseline POSTs n bodies like Herald's to target with c workers.
func baseline(target string, n, c int) (rateResult, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}, Timeout: 10 * time.Second}
	body := []byte(`{"id":"evt_01JD0000000000000000000000","event":"component.created","timestamp":"2026-01-14T12:00:00Z","test":false,"statusPage":{"id":1,"name":"Herald","slug":"main"},"data":{"id":1,"name":"x","previousStatus":"","newStatus":"operational","uptimePercent":100}}`)
	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range c {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				req, _ := http.NewRequest(http.MethodPost, target+"/base", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if err, ok := firstErr.Load().(error); ok {
		return rateResult{}, err
	}
	return rateResult{perSec: float64(n) / took.Seconds(), took: took}, nil
}

// openStore opens a migrated store on a throw-away database of engine
// and returns it with a function that closes and removes it.
func openStore(ctx context.Context, adminURL string, engine models.Engine) (*models.Store, func(), error) {
	var dsn string
	var drop func()
	switch engine {
	case models.Postgres:
		var err error
		if dsn, drop, err = createDatabase(ctx, adminURL); err != nil {
			return nil, nil, err
		}
	case models.SQLite:
		dir, err := os.MkdirTemp("", "herald-bench-")
		if err != nil {
			return nil, nil, err
		}
		dsn, drop = dir+"/herald.db", func() { os.RemoveAll(dir) }
	default:
		return nil, nil, fmt.Errorf("unknown -engine %q: use postgres or sqlite", engine)
	}
	v, err := vault.New(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		drop()
		return nil, nil, err
	}
	store, err := models.Open(ctx, dsn, models.Options{Sealer: v})
	if err != nil {
		drop()
		return nil, nil, err
	}
	if _, err := store.Migrate(ctx); err != nil {
		store.Close()
		drop()
		return nil, nil, err
	}
	return store, func() { store.Close(); drop() }, nil
}

// createDatabase makes a throw-away database and returns its URL and a
// function that drops it.
func createDatabase(ctx context.Context, adminURL string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	name := fmt.Sprintf("herald_bench_%x", rand.Uint32())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		conn.Close(ctx)
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		conn.Exec(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)")
		conn.Close(context.Background())
	}
	return u.String(), drop, nil
}
