// Command public benchmarks Herald's public endpoints under a thundering
// herd, against a tiny echo server that serves the same bytes from memory.
//
// It seeds a realistic page (20 components in 4 groups, 90 days of status
// history with outages, 30 past incidents, 2 active), starts Herald on
// 127.0.0.1, captures each endpoint's bytes into the reference server,
// then runs wrk against both, interleaved, plain and with gzip. Last, it
// measures / while an admin write lands every 100 ms.
//
// With -pages N (N > 1) it adds N-1 pages of -components components
// each (the first and the last with the full history, the others with
// their components and an active incident), and measures the last one,
// served at /s/{slug}/, beside the default page; then / of that page
// while writes land on the default page, counting its rebuilds (there
// should be none).
//
// Usage: go run ./bench/public [-d 5s] [-c 32] [-engine sqlite|postgres] [-pages 50 -components 20]
package main

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/glebarez/go-sqlite" // database/sql driver "sqlite"
	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/public"
	"github.com/heraldstatus/herald/web"
	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/labstack/echo/v4"
)

func main() {
	dur := flag.Duration("d", 5*time.Second, "length of each wrk run")
	conns := flag.Int("c", 32, "wrk connections")
	engine := flag.String("engine", "sqlite", "database: sqlite or postgres")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	pages := flag.Int("pages", 1, "status pages (the default one and pages-1 more)")
	components := flag.Int("components", 20, "components per page (in groups of 5)")
	pg := flag.String("postgres", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL admin URL (with -engine postgres)")
	flag.Parse()
	if _, err := exec.LookPath("wrk"); err != nil {
		log.Fatal("wrk is not installed (apt-get install wrk)")
	}
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
	if err := run(*engine, *pg, *dur, *conns, *pages, *components); err != nil {
		log.Fatal(err)
	}
}

// clock lets the seeder write history in the past, then run on real time.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time  { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) set(t time.Time) { c.offset.Store(int64(time.Until(t))) }

func run(engine, pgURL string, dur time.Duration, conns, pages, ncomp int) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "herald-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dsn := filepath.Join(dir, "herald.db")
	if engine == "postgres" {
		var drop func()
		dsn, drop, err = createDatabase(ctx, pgURL)
		if err != nil {
			return err
		}
		defer drop()
	}
	secret := strings.Repeat("b", 40)
	v, err := web.NewVault(secret)
	if err != nil {
		return err
	}
	clk := &clock{}
	store, err := models.Open(ctx, dsn, models.Options{Now: clk.Now, Sealer: v})
	if err != nil {
		return err
	}
	defer store.Close()
	if _, err := store.Migrate(ctx); err != nil {
		return err
	}
	fmt.Printf("seeding (%s)…\n", engine)
	comps, err := seed(ctx, store, clk, models.DefaultPageID, ncomp, true)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	var target int64
	var targetPrefix string
	for i := 2; i <= pages; i++ {
		slug := fmt.Sprintf("page-%d", i)
		id, err := insertPage(ctx, engine, dsn, slug, fmt.Sprintf("Page %d", i))
		if err != nil {
			return fmt.Errorf("page %d: %w", i, err)
		}
		if _, err := seed(ctx, store, clk, id, ncomp, i == pages); err != nil {
			return fmt.Errorf("seed page %d: %w", i, err)
		}
		target, targetPrefix = id, "/s/"+slug
	}

	herald, pub, stopHerald, err := startHerald(store, secret)
	if err != nil {
		return err
	}
	defer stopHerald()
	paths := []string{"/", "/api/v2/summary.json", "/badge.svg"}
	if target != 0 {
		for _, p := range paths[:3] {
			paths = append(paths, targetPrefix+p)
		}
	}
	ref, stopRef, err := startReference(herald, paths)
	if err != nil {
		return err
	}
	defer stopRef()

	fmt.Printf("\nwrk -t2 -c%d -d%s on 127.0.0.1, Herald and the echo reference interleaved\n\n", conns, dur)
	fmt.Printf("%-32s %-5s %-9s %10s %9s %9s %7s\n", "endpoint", "gzip", "server", "req/s", "p50", "p99", "ratio")
	for _, p := range paths {
		for _, gz := range []bool{false, true} {
			h, err := wrk(herald+p, gz, dur, conns)
			if err != nil {
				return err
			}
			r, err := wrk(ref+p, gz, dur, conns)
			if err != nil {
				return err
			}
			enc := "no"
			if gz {
				enc = "yes"
			}
			fmt.Printf("%-32s %-5s %-9s %10.0f %9s %9s %7s\n", p, enc, "herald", h.rps, h.p50, h.p99, fmt.Sprintf("%.2f×", h.rps/r.rps))
			fmt.Printf("%-32s %-5s %-9s %10.0f %9s %9s\n", "", "", "reference", r.rps, r.p50, r.p99)
		}
	}

	// A write every 100 ms while visitors pile on.
	stop := make(chan struct{})
	var writes atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		statuses := []models.ComponentStatus{models.StatusDegradedPerformance, models.StatusOperational}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := store.SetComponentStatus(ctx, comps[0], statuses[i%2], models.SourceManual, nil); err != nil {
				log.Printf("write: %v", err)
			}
			writes.Add(1)
		}
	})
	h, err := wrk(herald+"/", true, dur, conns)
	close(stop)
	wg.Wait()
	if err != nil {
		return err
	}
	fmt.Printf("\n/ with gzip while an admin write lands every 100 ms (%d writes): %.0f req/s, p50 %s, p99 %s\n", writes.Load(), h.rps, h.p50, h.p99)
	if snap, err := pub.Current(ctx, models.DefaultPageID); err == nil {
		r, _ := snap.Get("/")
		fmt.Printf("snapshot: %d rebuilds in all, last took %s; / is %d bytes (%d gzipped)\n", pub.Builds(), snap.Took.Round(100*time.Microsecond), len(r.Body), len(r.Gzip))
	}
	if target == 0 {
		return nil
	}
	// The other page while the default page takes the writes: no rebuild.
	before := pub.PageBuilds(target)
	stop = make(chan struct{})
	writes.Store(0)
	wg.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		statuses := []models.ComponentStatus{models.StatusDegradedPerformance, models.StatusOperational}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := store.SetComponentStatus(ctx, comps[0], statuses[i%2], models.SourceManual, nil); err != nil {
				log.Printf("write: %v", err)
			}
			writes.Add(1)
		}
	})
	h, err = wrk(herald+targetPrefix+"/", true, dur, conns)
	close(stop)
	wg.Wait()
	if err != nil {
		return err
	}
	fmt.Printf("%s/ with gzip while a write lands on the default page every 100 ms (%d writes): %.0f req/s, p50 %s, p99 %s; its snapshot rebuilt %d times; %d of %d pages in memory\n",
		targetPrefix, writes.Load(), h.rps, h.p50, h.p99, pub.PageBuilds(target)-before, pub.Pages(), pages)
	return nil
}

// insertPage adds a page row (the bench needs no admin screens).
func insertPage(ctx context.Context, engine, dsn, slug, name string) (int64, error) {
	driver := "pgx"
	if engine != "postgres" {
		driver, dsn = "sqlite", dsn+"?_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var id int64
	err = db.QueryRowContext(ctx, `INSERT INTO pages (slug, name, accent_color, time_zone, created_at, updated_at)
		VALUES ($1, $2, 'blue', 'UTC', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id`, slug, name).Scan(&id)
	return id, err
}

// seed writes a realistic page: ncomp components in groups of 5; with
// full, 90 days of outages and 30 past incidents.
func seed(ctx context.Context, s *models.Store, clk *clock, page int64, ncomp int, full bool) ([]int64, error) {
	now := time.Now().UTC()
	start := now.AddDate(0, 0, -91)
	clk.set(start)
	var comps []int64
	for g := range (ncomp + 4) / 5 {
		grp, err := s.CreateGroup(ctx, page, models.GroupInput{Name: fmt.Sprintf("Region %d", g+1)})
		if err != nil {
			return nil, err
		}
		for c := range min(5, ncomp-g*5) {
			comp, err := s.CreateComponent(ctx, page, models.ComponentInput{Name: fmt.Sprintf("Service %d.%d", g+1, c+1),
				Description: "Serves customer traffic.", GroupID: &grp.ID, Visible: true, Status: models.StatusOperational})
			if err != nil {
				return nil, err
			}
			comps = append(comps, comp.ID)
		}
	}
	if !full {
		clk.set(now)
		_, err := s.CreateIncident(ctx, page, models.IncidentInput{Title: "Degraded performance in Region 1", Status: models.IncidentInvestigating,
			Message: "We are investigating slow responses.", Components: map[int64]models.ComponentStatus{comps[0]: models.StatusPartialOutage}})
		return comps, err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	bad := []models.ComponentStatus{models.StatusDegradedPerformance, models.StatusPartialOutage, models.StatusMajorOutage, models.StatusUnderMaintenance}
	// Outages: about one per component every two weeks, 20 min to 6 h.
	for day := 1; day <= 90; day++ {
		for _, id := range comps {
			if rng.IntN(14) != 0 {
				continue
			}
			at := start.AddDate(0, 0, day).Add(time.Duration(rng.IntN(18*60)) * time.Minute)
			clk.set(at)
			if _, err := s.SetComponentStatus(ctx, id, bad[rng.IntN(len(bad))], models.SourceManual, nil); err != nil {
				return nil, err
			}
			clk.set(at.Add(time.Duration(20+rng.IntN(340)) * time.Minute))
			if _, err := s.SetComponentStatus(ctx, id, models.StatusOperational, models.SourceManual, nil); err != nil {
				return nil, err
			}
		}
	}
	clk.set(now)
	// 30 past incidents, back-filled, and 2 active ones.
	for i := range 30 {
		started := now.AddDate(0, 0, -3*i-1)
		resolved := started.Add(90 * time.Minute)
		_, err := s.CreateIncident(ctx, page, models.IncidentInput{
			Title: fmt.Sprintf("Elevated error rates on Service %d.%d", i%4+1, i%5+1), Status: models.IncidentResolved,
			Impact: models.ImpactMajor, Message: "We identified a **bad deploy** and rolled it back. Error rates are back to normal.",
			Backfill: true, StartedAt: started, ResolvedAt: resolved,
			Components: map[int64]models.ComponentStatus{comps[i%len(comps)]: models.StatusOperational}})
		if err != nil {
			return nil, fmt.Errorf("incident %d: %w", i, err)
		}
	}
	for i := range 2 {
		_, err := s.CreateIncident(ctx, page, models.IncidentInput{
			Title: fmt.Sprintf("Degraded performance in Region %d", i+1), Status: models.IncidentInvestigating,
			Message:    "We are investigating slow responses.",
			Components: map[int64]models.ComponentStatus{comps[min(i*5, len(comps)-1)]: models.StatusPartialOutage}})
		if err != nil {
			return nil, err
		}
	}
	return comps, nil
}

func startHerald(store *models.Store, secret string) (string, *public.Manager, func(), error) {
	cfg, _, err := web.LoadConfig("bench", nil, func(string) string { return "" })
	if err != nil {
		return "", nil, nil, err
	}
	cfg.SecretKey = secret
	logger := slog.New(slog.DiscardHandler)
	srv, err := web.New(web.Deps{Config: cfg, Store: store, Logger: logger})
	if err != nil {
		return "", nil, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	go srv.Public.Run(ctx)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		return "", nil, nil, err
	}
	hs := &http.Server{Handler: srv}
	go hs.Serve(ln)
	return "http://" + ln.Addr().String(), srv.Public, func() { cancel(); hs.Close() }, nil
}

// captured is one endpoint's answer, plain and gzipped.
type captured struct {
	header     http.Header
	plain, gz  []byte
	gzEncoding string
}

// startReference serves, with echo, exactly the bytes Herald answered.
func startReference(herald string, paths []string) (string, func(), error) {
	tr := &http.Transport{DisableCompression: true}
	get := func(p string, gz bool) (http.Header, []byte, error) {
		req, _ := http.NewRequest(http.MethodGet, herald+p, nil)
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		resp, err := tr.RoundTrip(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.Header, b, err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	for _, p := range paths {
		h, plain, err := get(p, false)
		if err != nil {
			return "", nil, err
		}
		hg, gz, err := get(p, true)
		if err != nil {
			return "", nil, err
		}
		c := captured{header: h, plain: plain, gz: gz, gzEncoding: hg.Get("Content-Encoding")}
		e.GET(p, func(ctx echo.Context) error {
			hd := ctx.Response().Header()
			for _, k := range []string{"ETag", "Cache-Control", "Vary"} {
				hd.Set(k, c.header.Get(k))
			}
			body := c.plain
			if strings.Contains(ctx.Request().Header.Get("Accept-Encoding"), "gzip") {
				hd.Set("Content-Encoding", c.gzEncoding)
				body = c.gz
			}
			return ctx.Blob(http.StatusOK, c.header.Get("Content-Type"), body)
		})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	hs := &http.Server{Handler: e}
	go hs.Serve(ln)
	return "http://" + ln.Addr().String(), func() { hs.Close() }, nil
}

type wrkResult struct {
	rps      float64
	p50, p99 string
}

var (
	rpsRe = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	p50Re = regexp.MustCompile(`\s50%\s+([0-9.]+\w+)`)
	p99Re = regexp.MustCompile(`\s99%\s+([0-9.]+\w+)`)
)

func wrk(url string, gz bool, dur time.Duration, conns int) (wrkResult, error) {
	args := []string{"-t2", "-c" + strconv.Itoa(conns), "-d" + strconv.Itoa(int(dur.Seconds())) + "s", "--latency"}
	if gz {
		args = append(args, "-H", "Accept-Encoding: gzip")
	}
	out, err := exec.Command("wrk", append(args, url)...).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk %s: %v\n%s", url, err, out)
	}
	m, m50, m99 := rpsRe.FindSubmatch(out), p50Re.FindSubmatch(out), p99Re.FindSubmatch(out)
	if m == nil || m50 == nil || m99 == nil || bytes.Contains(out, []byte("Non-2xx")) {
		return wrkResult{}, fmt.Errorf("wrk %s: unexpected output\n%s", url, out)
	}
	rps, _ := strconv.ParseFloat(string(m[1]), 64)
	return wrkResult{rps: rps, p50: string(m50[1]), p99: string(m99[1])}, nil
}

func createDatabase(ctx context.Context, adminURL string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	name := fmt.Sprintf("herald_bench_%x", rand.Uint32())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, err
	}
	dsn := strings.Replace(adminURL, "/postgres?", "/"+name+"?", 1)
	return dsn, func() {
		conn.Exec(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)")
		conn.Close(context.Background())
	}, nil
}
