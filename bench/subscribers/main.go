// Command subscribers measures Herald sending one incident to many e-mail
// and webhook subscribers, on PostgreSQL (issue 15):
//
//   - the admin's POST /api/v1/incidents answer time (p50, p99) over
//     -posts incidents: the first notifies every subscriber, the others,
//     posted while that one is being sent, affect a component nobody
//     subscribed to;
//   - e-mails accepted per second by a local SMTP server, and the time
//     from the first POST to the last message accepted;
//   - webhook requests accepted per second by a local HTTPS receiver (one
//     URL per webhook subscriber), and the time from the first POST to
//     the last one accepted;
//   - Herald's peak RSS (VmHWM of this process: the SMTP server runs in a
//     child process, and so does the webhook receiver, so what is
//     measured is Herald plus this small driver);
//   - a baseline: the same number of messages sent by a plain go-mail
//     client over the same number of connections to the same server, no
//     database: the ceiling of the machine.
//
// It creates a throw-away PostgreSQL database, seeds the subscribers with
// one INSERT … SELECT generate_series (the webhook subscribers and their
// hidden channels with one INSERT … SELECT unnest), runs Herald's HTTP server and
// notify engine in this process on 127.0.0.1, and drops the database at
// the end.
//
// Usage: go run ./bench/subscribers [-subscribers 10000] [-webhooks 1000] [-connections 4] [-posts 20] [-timeout 10m]
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5"
	gomail "github.com/wneessen/go-mail"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/notify"
	"github.com/heraldstatus/herald/web"
)

func main() {
	subscribers := flag.Int("subscribers", 10000, "e-mail subscribers of the first incident")
	webhooks := flag.Int("webhooks", 1000, "webhook subscribers of the first incident, each with a URL of its own on a local HTTPS receiver")
	connections := flag.Int("connections", 4, "HERALD_SMTP_CONNECTIONS, and the baseline's connections")
	posts := flag.Int("posts", 20, "incidents POSTed (the first to every subscriber), for the answer time")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up after this long")
	pg := flag.String("postgres", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL admin URL")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of Herald's part of the run to this file")
	sinkMode := flag.Bool("sink", false, "internal: run the SMTP server (the child process)")
	flag.Parse()
	if *sinkMode {
		runSink()
		return
	}
	if *subscribers < 1 || *posts < 1 || *connections < 1 || *webhooks < 0 {
		log.Fatal("-subscribers, -posts and -connections must be at least 1, -webhooks at least 0")
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, *pg, *subscribers, *webhooks, *connections, *posts, *cpuProfile); err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

func run(ctx context.Context, pgURL string, subscribers, webhooks, connections, posts int, cpuProfile string) error {
	sink, err := startSink()
	if err != nil {
		return err
	}
	defer sink.stop()

	dsn, drop, err := createDatabase(ctx, pgURL)
	if err != nil {
		return err
	}
	defer drop()
	secret := strings.Repeat("s", 40)
	v, err := web.NewVault(secret)
	if err != nil {
		return err
	}
	store, err := models.Open(ctx, dsn, models.Options{Sealer: v, BaseURL: "http://status.example"})
	if err != nil {
		return err
	}
	defer store.Close()
	if _, err := store.Migrate(ctx); err != nil {
		return err
	}
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	subscribed, err := store.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Visible: true, Status: models.StatusOperational})
	if err != nil {
		return err
	}
	quiet, err := store.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "Docs", Visible: true, Status: models.StatusOperational})
	if err != nil {
		return err
	}
	start := time.Now()
	if err := seed(ctx, db, v.Seal, subscribers, subscribed.ID); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if err := seedWebhooks(ctx, db, v.Seal, webhooks, subscribed.ID, sink.hookURL); err != nil {
		return fmt.Errorf("seed webhook subscribers: %w", err)
	}
	fmt.Printf("PostgreSQL, %d e-mail and %d webhook subscribers (seeded in %s), %d SMTP connections, SMTP server and HTTPS receiver in a child process\n",
		subscribers, webhooks, time.Since(start).Round(time.Millisecond), connections)
	fmt.Printf("load average at the start: %s\n", loadAvg())
	_, token, err := store.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: "bench",
		Scopes: []models.Scope{models.ScopeIncidentsWrite}}, 0)
	if err != nil {
		return err
	}

	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	base, stopHerald, err := startHerald(store, secret, sink.smtpAddr, sink.roots, connections)
	if err != nil {
		return err
	}
	defer stopHerald()

	// The incident to every subscriber, then the others while it is sent.
	client := &http.Client{Timeout: time.Minute}
	var answers []time.Duration
	var slowest int
	var slowestAt time.Duration
	first := time.Now()
	for i := range posts {
		comp := quiet.ID
		if i == 0 {
			comp = subscribed.ID
		} else {
			time.Sleep(100 * time.Millisecond)
		}
		took, err := postIncident(ctx, client, base, token, fmt.Sprintf("Bench incident %d", i), comp)
		if err != nil {
			return fmt.Errorf("POST incident %d: %w", i, err)
		}
		if len(answers) == 0 || took > slices.Max(answers) {
			slowest, slowestAt = i, time.Since(first)-took
		}
		answers = append(answers, took)
	}
	var st sinkStats
	for {
		st, err = sink.stats()
		if err != nil {
			return err
		}
		if st.Accepted >= subscribers && st.HookSubscribers >= webhooks {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out: %d of %d e-mails accepted, webhooks to %d of %d subscribers",
				st.Accepted, subscribers, st.HookSubscribers, webhooks)
		case <-time.After(50 * time.Millisecond):
		}
	}
	time.Sleep(500 * time.Millisecond) // a duplicate would arrive now
	if st, err = sink.stats(); err != nil {
		return err
	}
	hwm, load := peakRSS(), loadAvg()
	lastAt := time.Unix(0, st.LastNS)
	sendSpan := time.Duration(st.LastNS - st.FirstNS)
	firstAnswer := answers[0]
	slices.Sort(answers)
	fmt.Printf("\nPOST /api/v1/incidents, %d of them: p50 %s, p99 %s, max %s (the first, to %d subscribers: %s)\n",
		posts, pct(answers, 50), pct(answers, 99), answers[len(answers)-1].Round(time.Microsecond), subscribers, firstAnswer.Round(time.Microsecond))
	fmt.Printf("the slowest POST: #%d, sent %s after the first\n", slowest+1, slowestAt.Round(time.Millisecond))
	fmt.Printf("e-mails accepted: %d (distinct recipients %d, duplicates %d)\n", st.Accepted, st.Recipients, st.Accepted-st.Recipients)
	fmt.Printf("first POST → first e-mail accepted: %s\n", time.Duration(st.FirstNS-first.UnixNano()).Round(time.Millisecond))
	fmt.Printf("first POST → last e-mail accepted:  %s\n", lastAt.Sub(first).Round(time.Millisecond))
	heraldRate := float64(st.Accepted-1) / sendSpan.Seconds()
	fmt.Printf("Herald: %.0f e-mails/s (first to last accepted)\n", heraldRate)
	if webhooks > 0 {
		fmt.Printf("webhooks accepted: %d (distinct subscribers %d, duplicates %d, missing %d, a webhook-id seen twice %d)\n",
			st.Hooks, st.HookSubscribers, st.Hooks-st.HookSubscribers, webhooks-st.HookSubscribers, st.HookRepeatedIDs)
		fmt.Printf("first POST → first webhook accepted: %s\n", time.Duration(st.HookFirstNS-first.UnixNano()).Round(time.Millisecond))
		fmt.Printf("first POST → last webhook accepted:  %s\n", time.Unix(0, st.HookLastNS).Sub(first).Round(time.Millisecond))
		if span := time.Duration(st.HookLastNS - st.HookFirstNS); span > 0 && st.Hooks > 1 {
			fmt.Printf("Herald: %.0f webhooks/s (first to last accepted)\n", float64(st.Hooks-1)/span.Seconds())
		}
	}
	fmt.Printf("Herald peak RSS (VmHWM of this process): %s\n", hwm)
	fmt.Printf("load average at the end of the send: %s\n", load)
	if sqlDB, err := store.SQLDB(); err == nil {
		ps := sqlDB.Stats()
		fmt.Printf("Herald's PostgreSQL pool (%d connections at most): waited for a connection %d times, %s in all\n",
			ps.MaxOpenConnections, ps.WaitCount, ps.WaitDuration.Round(time.Millisecond))
	}
	var delivered, attempts, hooksDelivered, hooks int64
	db.QueryRow(ctx, "SELECT COUNT(*) FROM subscriber_deliveries WHERE state = 'delivered'").Scan(&delivered)
	db.QueryRow(ctx, "SELECT COUNT(*) FROM subscriber_delivery_attempts").Scan(&attempts)
	db.QueryRow(ctx, `SELECT COUNT(*), COUNT(*) FILTER (WHERE d.state = 'delivered') FROM deliveries d
JOIN channels c ON c.id = d.channel_id WHERE c.subscriber_id IS NOT NULL AND d.event_id IS NOT NULL`).Scan(&hooks, &hooksDelivered)
	fmt.Printf("database: %d e-mail deliveries delivered, %d attempts logged; %d webhook deliveries, %d delivered\n",
		delivered, attempts, hooks, hooksDelivered)
	stopHerald()

	if err := sink.reset(); err != nil {
		return err
	}
	took, err := baseline(ctx, sink.smtpAddr, subscribers, connections)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	baseRate := float64(subscribers) / took.Seconds()
	fmt.Printf("\nbaseline, plain go-mail client, %d connections, no database: %d e-mails in %s, %.0f/s\n",
		connections, subscribers, took.Round(time.Millisecond), baseRate)
	fmt.Printf("Herald / baseline: %.2f\n", heraldRate/baseRate)
	return nil
}

// seed writes n active e-mail subscribers of component comp in one
// statement. Every one carries the same sealed manage token (the links
// are alike; the hashes, which must be unique, are not).
func seed(ctx context.Context, db *pgx.Conn, seal func(string) (string, error), n int, comp int64) error {
	sealed, err := seal("bench-manage-token")
	if err != nil {
		return err
	}
	if _, err := db.Exec(ctx, `INSERT INTO subscribers (page_id, kind, email, state, all_components, manage_token_hash,
  manage_token_sealed, created_at, confirmed_at)
SELECT $1, 'email', 'reader' || g || '@example.com', 'active', FALSE, md5('bench' || g), $2, now() - interval '1 day', now() - interval '1 day'
FROM generate_series(1, $3) AS g`, models.DefaultPageID, sealed, n); err != nil {
		return err
	}
	_, err = db.Exec(ctx, `INSERT INTO subscriber_components (subscriber_id, component_id) SELECT id, $1 FROM subscribers WHERE kind = 'email'`, comp)
	return err
}

// seedWebhooks writes n active webhook subscribers of component comp, as
// if each had answered its verification, with their hidden channels, in
// one statement: subscriber i's URL is hookURL/s/i, sealed by the vault
// as SubscribeWebhook seals it, so the receiver counts requests per
// subscriber. They share one signing secret (the receiver checks no
// signature).
func seedWebhooks(ctx context.Context, db *pgx.Conn, seal func(string) (string, error), n int, comp int64, hookURL string) error {
	if n == 0 {
		return nil
	}
	urls := make([]string, n)
	for i := range urls {
		u, err := seal(fmt.Sprintf("%s/s/%d", hookURL, i+1))
		if err != nil {
			return err
		}
		urls[i] = u
	}
	manage, err := seal("bench-manage-token")
	if err != nil {
		return err
	}
	secret, err := seal(models.NewSigningSecret())
	if err != nil {
		return err
	}
	empty, err := seal("")
	if err != nil {
		return err
	}
	hint := models.MaskURL(models.ChannelWebhook, hookURL+"/s/1")
	if _, err := db.Exec(ctx, `WITH s AS (
  INSERT INTO subscribers (page_id, kind, url_sealed, secret_sealed, state, all_components, manage_token_hash,
    manage_token_sealed, created_at, confirmed_at)
  SELECT $1, 'webhook', u, $3, 'active', FALSE, md5('bench-webhook' || i), $4, now() - interval '1 day', now() - interval '1 day'
  FROM unnest($2::text[]) WITH ORDINALITY AS t(u, i)
  RETURNING id, url_sealed)
INSERT INTO channels (page_id, type, name, url_sealed, url_hint, headers_sealed, secret_sealed, previous_secret_sealed,
  enabled, subscriber_id, created_at, updated_at)
SELECT $1, 'webhook', 'Webhook subscriber ' || id, url_sealed, $5, $6, $3, $6, TRUE, id, now() - interval '1 day', now() - interval '1 day'
FROM s`, models.DefaultPageID, urls, secret, manage, hint, empty); err != nil {
		return err
	}
	_, err = db.Exec(ctx, `INSERT INTO subscriber_components (subscriber_id, component_id) SELECT id, $1 FROM subscribers WHERE kind = 'webhook'`, comp)
	return err
}

// startHerald runs the HTTP server and the notify engine as `herald
// serve` does, sending e-mail to smtpAddr.
// Webhooks go to the HTTPS receiver, trusted through roots, on 127.0.0.1,
// which the visitor egress policy refuses unless HERALD_WEBHOOK_ALLOW_CIDRS
// (here its Config field) allows it.
func startHerald(store *models.Store, secret, smtpAddr string, roots *x509.CertPool, connections int) (string, func(), error) {
	cfg, _, err := web.LoadConfig("bench", nil, func(string) string { return "" })
	if err != nil {
		return "", nil, err
	}
	cfg.SecretKey = secret
	cfg.SMTPURL, cfg.SMTPFrom, cfg.SMTPConnections = "smtp://"+smtpAddr, "Bench status <status@example.com>", connections
	cfg.WebhookAllowCIDRs = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	cfg.ReceiverTLS = &tls.Config{RootCAs: roots}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	engine := notify.New(store, cfg.Notify("bench"), logger)
	srv, err := web.New(web.Deps{Config: cfg, Store: store, Logger: logger, Notifier: engine})
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { engine.Run(ctx) })
	wg.Go(func() { srv.Public.Run(ctx) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		return "", nil, err
	}
	hs := &http.Server{Handler: srv}
	go hs.Serve(ln)
	var once sync.Once
	return "http://" + ln.Addr().String(), func() {
		once.Do(func() { hs.Close(); cancel(); wg.Wait() })
	}, nil
}

func postIncident(ctx context.Context, client *http.Client, base, token, title string, comp int64) (time.Duration, error) {
	body := fmt.Sprintf(`{"name":%q,"status":"investigating","body":"We are **looking** into it.","components":{"%d":"partial_outage"}}`, title, comp)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/incidents", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := client.Do(req)
	took := time.Since(start)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("status %d: %s", resp.StatusCode, msg)
	}
	return took, nil
}

// baseline sends n messages like Herald's (text and HTML parts, about the
// same size) over conns connections of a plain go-mail client.
func baseline(ctx context.Context, addr string, n, conns int) (time.Duration, error) {
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	text := strings.Repeat("We are looking into it. ", 20)
	html := "<!DOCTYPE html><html><body><p>" + strings.Repeat("We are <strong>looking</strong> into it. ", 30) + "</p></body></html>"
	var next atomic.Int64
	errs := make(chan error, conns)
	start := time.Now()
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			c, err := gomail.NewClient(host, gomail.WithPort(p), gomail.WithTLSPolicy(gomail.TLSOpportunistic), gomail.WithoutNoop())
			if err == nil {
				err = c.DialWithContext(ctx)
			}
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				m := gomail.NewMsg()
				if err := m.From("Bench status <status@example.com>"); err != nil {
					errs <- err
					return
				}
				if err := m.To(fmt.Sprintf("reader%d@example.com", i)); err != nil {
					errs <- err
					return
				}
				m.Subject("Bench status: New incident")
				m.SetMessageID()
				m.SetDate()
				m.SetGenHeader("List-Unsubscribe", "<http://status.example/subscriptions/x/unsubscribe>")
				m.SetBodyString(gomail.TypeTextPlain, text)
				m.AddAlternativeString(gomail.TypeTextHTML, html)
				if err := c.Send(m); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	close(errs)
	for err := range errs {
		return 0, err
	}
	return took, nil
}

func pct(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(i-1, len(sorted)-1))].Round(time.Microsecond)
}

// loadAvg is the first three fields of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// peakRSS is VmHWM from /proc/self/status.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return fmt.Sprintf("%.0f MiB", float64(kb)/1024)
		}
	}
	return "unknown"
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

// The SMTP server and the webhook receiver run in a child process (this
// program with -sink), so their memory and goroutines are not counted as
// Herald's. It prints its SMTP and HTTP addresses, the webhook receiver's
// HTTPS URL and its certificate (base64 DER), answers GET /stats and
// POST /reset on the HTTP one, and exits when its stdin closes.

type sinkStats struct {
	Accepted   int   `json:"accepted"`
	Recipients int   `json:"recipients"`
	FirstNS    int64 `json:"first_ns"`
	LastNS     int64 `json:"last_ns"`
	// Webhook requests answered 200, distinct subscribers (URL paths)
	// among them, and requests whose (subscriber, webhook-id) came before.
	Hooks           int   `json:"hooks"`
	HookSubscribers int   `json:"hook_subscribers"`
	HookRepeatedIDs int   `json:"hook_repeated_ids"`
	HookFirstNS     int64 `json:"hook_first_ns"`
	HookLastNS      int64 `json:"hook_last_ns"`
}

type sinkProc struct {
	cmd                *exec.Cmd
	stdin              io.WriteCloser
	smtpAddr, httpAddr string
	hookURL            string
	roots              *x509.CertPool
}

func startSink() (*sinkProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-sink")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("start the SMTP server: %w", err)
	}
	f := strings.Fields(line)
	var cert *x509.Certificate
	if len(f) == 4 {
		var der []byte
		if der, err = base64.StdEncoding.DecodeString(f[3]); err == nil {
			cert, err = x509.ParseCertificate(der)
		}
	}
	if cert == nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("SMTP server said %q (%v)", line, err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	return &sinkProc{cmd: cmd, stdin: stdin, smtpAddr: f[0], httpAddr: f[1], hookURL: f[2], roots: roots}, nil
}

func (p *sinkProc) stop() {
	p.stdin.Close()
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
}

func (p *sinkProc) stats() (sinkStats, error) {
	var st sinkStats
	resp, err := http.Get("http://" + p.httpAddr + "/stats")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

func (p *sinkProc) reset() error {
	resp, err := http.Post("http://"+p.httpAddr+"/reset", "text/plain", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// sink is the child's SMTP backend and webhook receiver: it reads and
// counts every message and request.
type sink struct {
	mu       sync.Mutex
	st       sinkStats
	seen     map[string]bool
	hookSeen map[string]bool // subscriber paths
	hookIDs  map[string]bool // path + " " + webhook-id
}

func runSink() {
	k := &sink{seen: map[string]bool{}, hookSeen: map[string]bool{}, hookIDs: map[string]bool{}}
	srv := smtp.NewServer(k)
	srv.Domain = "127.0.0.1"
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	srv.MaxRecipients = 1
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	hln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		k.mu.Lock()
		st := k.st
		k.mu.Unlock()
		json.NewEncoder(w).Encode(st)
	})
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, _ *http.Request) {
		k.mu.Lock()
		k.st, k.seen, k.hookSeen, k.hookIDs = sinkStats{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
		k.mu.Unlock()
	})
	hooks := httptest.NewUnstartedServer(http.HandlerFunc(k.hook))
	hooks.Config.ErrorLog = log.New(io.Discard, "", 0)
	hooks.StartTLS()
	defer hooks.Close()
	go srv.Serve(ln)
	go http.Serve(hln, mux)
	fmt.Println(ln.Addr(), hln.Addr(), hooks.URL, base64.StdEncoding.EncodeToString(hooks.Certificate().Raw))
	io.Copy(io.Discard, os.Stdin) // until the parent goes
	srv.Close()
}

// hook answers a webhook request 200 once its body is read, counting it
// for the subscriber its path names.
func (k *sink) hook(w http.ResponseWriter, r *http.Request) {
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		return
	}
	now := time.Now().UnixNano()
	k.mu.Lock()
	if k.st.Hooks == 0 {
		k.st.HookFirstNS = now
	}
	k.st.Hooks++
	k.st.HookLastNS = now
	if !k.hookSeen[r.URL.Path] {
		k.hookSeen[r.URL.Path] = true
		k.st.HookSubscribers++
	}
	if id := r.URL.Path + " " + r.Header.Get("webhook-id"); k.hookIDs[id] {
		k.st.HookRepeatedIDs++
	} else {
		k.hookIDs[id] = true
	}
	k.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (k *sink) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{k: k}, nil }

type sinkSession struct {
	k    *sink
	rcpt string
}

func (x *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (x *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.rcpt = to
	return nil
}

func (x *sinkSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	now := time.Now().UnixNano()
	k := x.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.st.Accepted == 0 {
		k.st.FirstNS = now
	}
	k.st.Accepted++
	k.st.LastNS = now
	if !k.seen[x.rcpt] {
		k.seen[x.rcpt] = true
		k.st.Recipients++
	}
	return nil
}

func (x *sinkSession) Reset()        { x.rcpt = "" }
func (x *sinkSession) Logout() error { return nil }
