// Command writes measures how quickly notifications go out while admins
// write steadily, on the embedded SQLite database (SPEC §5.4: the first
// attempt within a second of the commit).
//
// It runs Herald in this process as `herald serve` does — the HTTP server
// on 127.0.0.1, the delivery engine, the public page manager — on a fresh
// SQLite file, with a number of webhook channels pointing at a receiver
// in the same process. It then POSTs incidents through /api/v1 at a fixed
// rate (open loop: a slow answer does not slow the next request) and
// reports, for each rate:
//
//   - the API's answer time (p50, p99);
//   - the time from the API's answer (the commit is done by then) to the
//     first attempt's arrival at the receiver, per channel (p50, p99, max);
//   - deliveries expected, arrived and missing after a grace period.
//
// Usage: go run ./bench/writes [-rates 50,200] [-seconds 60] [-channels 3]
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
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/notify"
	"github.com/heraldstatus/herald/vault"
	"github.com/heraldstatus/herald/web"
)

func main() {
	rates := flag.String("rates", "50,200", "comma-separated write rates (incidents per second), one phase each")
	seconds := flag.Int("seconds", 60, "length of each phase")
	channels := flag.Int("channels", 3, "webhook channels")
	grace := flag.Duration("grace", 30*time.Second, "how long to wait for stragglers after a phase")
	components := flag.Int("components", 20, "components on the page, each incident affecting one")
	recvDelay := flag.Duration("receiver-delay", 10*time.Millisecond, "how long the receiver takes to answer")
	visitors := flag.Int("visitors", 8, "visitors reading / and /api/v2/summary.json in a loop during the phase")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	var rs []int
	for part := range strings.SplitSeq(*rates, ",") {
		r, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || r <= 0 {
			log.Fatalf("bad rate %q", part)
		}
		rs = append(rs, r)
	}
	for _, r := range rs {
		if err := phase(r, *seconds, *channels, *components, *visitors, *recvDelay, *grace); err != nil {
			log.Print(err)
			return
		}
	}
}

// receiver notes when each (channel, incident title) first arrived.
type receiver struct {
	delay   time.Duration
	mu      sync.Mutex
	arrived map[string]time.Time
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	now := time.Now()
	var env struct {
		Data struct {
			Title string `json:"title"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &env) == nil && env.Data.Title != "" {
		key := r.URL.Path + " " + env.Data.Title
		rc.mu.Lock()
		if _, ok := rc.arrived[key]; !ok {
			rc.arrived[key] = now
		}
		rc.mu.Unlock()
	}
	time.Sleep(rc.delay)
	w.WriteHeader(http.StatusNoContent)
}

func phase(rate, seconds, channels, components, visitors int, recvDelay, grace time.Duration) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, err := os.MkdirTemp("", "herald-bench-writes-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))

	v, err := vault.New(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		return err
	}
	store, err := models.Open(ctx, filepath.Join(dir, "herald.db"), models.Options{Sealer: v, BaseURL: "http://status.example"})
	if err != nil {
		return err
	}
	defer store.Close()
	if _, err := store.Migrate(ctx); err != nil {
		return err
	}

	rc := &receiver{delay: recvDelay, arrived: map[string]time.Time{}}
	recvLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	recv := &http.Server{Handler: rc}
	go recv.Serve(recvLn)
	defer recv.Close()
	for i := range channels {
		if _, err := store.CreateChannel(ctx, models.DefaultPageID, models.ChannelInput{Type: models.ChannelWebhook,
			Name: fmt.Sprintf("bench %d", i), URL: fmt.Sprintf("http://%s/%d", recvLn.Addr(), i), Enabled: true}); err != nil {
			return err
		}
	}
	var compIDs []int64
	for i := range components {
		c, err := store.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: fmt.Sprintf("Component %02d", i), Status: models.StatusOperational})
		if err != nil {
			return err
		}
		compIDs = append(compIDs, c.ID)
	}
	_, token, err := store.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: "bench",
		Scopes: []models.Scope{models.ScopeIncidentsWrite}}, 0)
	if err != nil {
		return err
	}

	cfg, _, err := web.LoadConfig("bench", nil, func(string) string { return "" })
	if err != nil {
		return err
	}
	cfg.SecretKey = strings.Repeat("k", 32)
	cfg.DataDir = dir
	cfg.WebhookAllowCIDRs = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	engine := notify.New(store, cfg.Notify("bench"), logger)
	engDone := make(chan struct{})
	go func() { defer close(engDone); engine.Run(ctx) }()
	srv, err := web.New(web.Deps{Config: cfg, Store: store, Logger: logger, Notifier: engine})
	if err != nil {
		return err
	}
	pubDone := make(chan struct{})
	go func() { defer close(pubDone); srv.Public.Run(ctx) }()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	httpSrv := &http.Server{Handler: srv}
	go httpSrv.Serve(ln)
	defer httpSrv.Close()
	base := "http://" + ln.Addr().String()

	fmt.Printf("SQLite, %d channels answering in %s, %d components, %d visitors, %d incidents/s through POST /api/v1/incidents for %ds\n",
		channels, recvDelay, components, visitors, rate, seconds)
	visitCtx, stopVisits := context.WithCancel(ctx)
	var visits sync.WaitGroup
	var visitCount int
	var visitMu sync.Mutex
	for i := range visitors {
		visits.Go(func() {
			path := []string{"/", "/api/v2/summary.json"}[i%2]
			for visitCtx.Err() == nil {
				req, _ := http.NewRequestWithContext(visitCtx, http.MethodGet, base+path, nil)
				req.Header.Set("Accept-Encoding", "gzip")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				visitMu.Lock()
				visitCount++
				visitMu.Unlock()
			}
		})
	}
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	var (
		mu       sync.Mutex
		answered = map[string]time.Time{} // title → when the API answered
		apiTimes []time.Duration
		failures int
		wg       sync.WaitGroup
	)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	n := rate * seconds
	for i := range n {
		<-tick.C
		title := fmt.Sprintf("bench incident %06d", i)
		wg.Go(func() {
			body := fmt.Sprintf(`{"name":%q,"status":"investigating","body":"Looking into it.","components":{"%d":"partial_outage"}}`,
				title, compIDs[i%len(compIDs)])
			req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/incidents", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			start := time.Now()
			resp, err := client.Do(req)
			took := time.Since(start)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil || resp.StatusCode != http.StatusCreated {
				failures++
				return
			}
			answered[title] = time.Now()
			apiTimes = append(apiTimes, took)
		})
	}
	tick.Stop()
	wg.Wait()
	stopVisits()
	visits.Wait()

	expected := len(answered) * channels
	deadline := time.Now().Add(grace)
	for {
		rc.mu.Lock()
		got := len(rc.arrived)
		rc.mu.Unlock()
		if got >= expected || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-engDone
	<-pubDone

	var lat []time.Duration
	rc.mu.Lock()
	for title, at := range answered {
		for ch := range channels {
			if a, ok := rc.arrived[fmt.Sprintf("/%d %s", ch, title)]; ok {
				lat = append(lat, max(a.Sub(at), 0))
			}
		}
	}
	rc.mu.Unlock()
	slices.Sort(lat)
	slices.Sort(apiTimes)
	fmt.Printf("  API answers: %d ok, %d failed; p50 %s  p99 %s\n", len(apiTimes), failures, pct(apiTimes, 50), pct(apiTimes, 99))
	fmt.Printf("  visitor requests: %d (%.0f/s)\n", visitCount, float64(visitCount)/float64(seconds))
	fmt.Printf("  deliveries: %d expected, %d arrived, %d missing after %s\n", expected, len(lat), expected-len(lat), grace)
	if len(lat) > 0 {
		fmt.Printf("  first attempt after the API's answer: p50 %s  p90 %s  p99 %s  max %s\n\n",
			pct(lat, 50), pct(lat, 90), pct(lat, 99), lat[len(lat)-1].Round(time.Millisecond))
	}
	return nil
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)*p/100, len(d)-1)].Round(time.Millisecond)
}
