// Package webtest starts a real Herald HTTP server on a fresh database for
// tests, and gives them a cookie-keeping client that can fill in forms.
package webtest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/notify"
	"github.com/heraldstatus/herald/public"
	"github.com/heraldstatus/herald/web"
)

// Server is a running Herald.
type Server struct {
	URL    string
	Store  *models.Store
	Engine *notify.Engine
	Public *public.Manager
	// Routes are the registered routes as "METHOD /path".
	Routes []string
	// RouteRole is the least role a route needs ("" for public ones),
	// and whether it declares one.
	RouteRole func(route string) (models.Role, bool)
}

// Start serves Herald over httptest on a fresh database of engine.
func Start(t testing.TB, engine models.Engine) *Server {
	t.Helper()
	return StartWith(t, Options{Engine: engine})
}

// Options change what StartWith starts.
type Options struct {
	// Engine is the database engine of a fresh test database, used when
	// Store is nil.
	Engine models.Engine
	// Store is the database to serve instead of a fresh one.
	Store *models.Store
	// RequestTimeout replaces HERALD_REQUEST_TIMEOUT's default.
	RequestTimeout time.Duration
	// Configure, when set, changes the configuration last.
	Configure func(*web.Config)
	// Log, when set, receives the server's and the notifier's log, as
	// text.
	Log io.Writer
	// Listener, when set, is where the server listens, so a test can put
	// its address in the configuration first (an SSO redirect URL).
	Listener net.Listener
}

// StartWith serves Herald over httptest as opts says.
func StartWith(t testing.TB, opts Options) *Server {
	t.Helper()
	store := opts.Store
	if store == nil {
		store = modelstest.Open(t, opts.Engine)
	}
	cfg, _, err := web.LoadConfig("test", nil, func(string) string { return "" })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	cfg.SecretKey = strings.Repeat("k", 32)
	cfg.DataDir = t.TempDir()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	if opts.Log != nil {
		logger = slog.New(slog.NewTextHandler(opts.Log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	// Receivers in tests are httptest servers on loopback, which the
	// egress policy refuses unless allowed.
	cfg.WebhookAllowCIDRs = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	cfg.WebhookTimeout = 2 * time.Second
	cfg.DeliveryPoll = 200 * time.Millisecond
	if opts.RequestTimeout > 0 {
		cfg.RequestTimeout = opts.RequestTimeout
	}
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	notifier := notify.New(store, cfg.Notify("test"), logger)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); notifier.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	e, err := web.New(web.Deps{Config: cfg, Store: store, Logger: logger, Notifier: notifier})
	if err != nil {
		t.Fatalf("build server: %v", err)
	}
	pubDone := make(chan struct{})
	go func() { defer close(pubDone); e.Public.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-pubDone })
	srv := httptest.NewUnstartedServer(e)
	if opts.Listener != nil {
		srv.Listener.Close()
		srv.Listener = opts.Listener
	}
	srv.Start()
	t.Cleanup(srv.Close)
	var routes []string
	for _, r := range e.Routes() {
		routes = append(routes, r.Method+" "+r.Path)
	}
	return &Server{URL: srv.URL, Store: store, Engine: notifier, Public: e.Public, Routes: routes, RouteRole: e.RouteRole}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// Client is a browser-like HTTP client: it keeps cookies and does not
// follow redirects, so tests can assert them.
type Client struct {
	t    testing.TB
	base string
	http *http.Client
	// userAgent, when set, is sent as the User-Agent header.
	userAgent string
}

// SetUserAgent makes the client send ua as its User-Agent, as a browser
// would.
func (c *Client) SetUserAgent(ua string) { c.userAgent = ua }

// NewClient returns a client for s.
func (s *Server) NewClient(t testing.TB) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{t: t, base: s.URL, http: &http.Client{
		Jar:     jar,
		Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// NewClientFrom returns a client for s whose connections come from the
// loopback address ip (such as "127.0.0.2"), so the server sees another
// client address.
func (s *Server) NewClientFrom(t testing.TB, ip string) *Client {
	c := s.NewClient(t)
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c.http.Transport = &http.Transport{DialContext: d.DialContext}
	return c
}

// Response is a fully read answer.
type Response struct {
	Status   int
	Header   http.Header
	Body     string
	Location string
}

// Get fetches path.
func (c *Client) Get(path string) Response {
	c.t.Helper()
	return c.do(http.MethodGet, path, "", nil)
}

// Head fetches path's headers.
func (c *Client) Head(path string) Response {
	c.t.Helper()
	return c.do(http.MethodHead, path, "", nil)
}

// Post sends form as application/x-www-form-urlencoded.
func (c *Client) Post(path string, form url.Values) Response {
	c.t.Helper()
	return c.do(http.MethodPost, path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
}

// PostRaw sends body with contentType.
func (c *Client) PostRaw(path, contentType string, body io.Reader) Response {
	c.t.Helper()
	return c.do(http.MethodPost, path, contentType, body)
}

func (c *Client) do(method, path, contentType string, body io.Reader) Response {
	c.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, c.base+path, body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return Response{Status: res.StatusCode, Header: res.Header, Body: string(b), Location: res.Header.Get("Location")}
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// CSRF loads path and returns the form token on it.
func (c *Client) CSRF(path string) string {
	c.t.Helper()
	res := c.Get(path)
	m := csrfRE.FindStringSubmatch(res.Body)
	if m == nil {
		c.t.Fatalf("no CSRF token on %s (status %d)", path, res.Status)
	}
	return m[1]
}

// Submit posts form to action with the CSRF token taken from formPage.
func (c *Client) Submit(formPage, action string, form url.Values) Response {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", c.CSRF(formPage))
	return c.Post(action, form)
}

// Admin credentials used by SetUp.
const (
	AdminEmail    = "ops@example.com"
	AdminPassword = "correct horse battery"
)

// SetUp completes first-run setup as AdminEmail and returns a signed-in
// client.
func (s *Server) SetUp(t testing.TB) *Client {
	t.Helper()
	c := s.NewClient(t)
	res := c.Submit("/setup", "/setup", url.Values{"page_name": {"Acme Status"}, "email": {AdminEmail}, "password": {AdminPassword}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("setup: status %d, want 303\n%s", res.Status, res.Body)
	}
	return c
}

// AddUser creates a team member with role (password AdminPassword) and
// returns them with a client signed in as them. Setup must be done.
func (s *Server) AddUser(t testing.TB, email string, role models.Role) (*models.User, *Client) {
	t.Helper()
	u, err := s.Store.CreateUser(context.Background(), models.UserInput{Email: email, Password: AdminPassword, Role: role})
	if err != nil {
		t.Fatalf("create %s %s: %v", role, email, err)
	}
	return u, s.SignIn(t, email, AdminPassword)
}

// SignIn returns a client signed in with email and password.
func (s *Server) SignIn(t testing.TB, email, password string) *Client {
	t.Helper()
	c := s.NewClient(t)
	res := c.Submit("/login", "/login", url.Values{"email": {email}, "password": {password}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("sign in as %s: status %d, want 303\n%s", email, res.Status, res.Body)
	}
	return c
}

// CookieHeader returns the Cookie header the client would send to the server.
func (c *Client) CookieHeader() string {
	u, _ := url.Parse(c.base)
	var parts []string
	for _, ck := range c.http.Jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return strings.Join(parts, "; ")
}

// GetWithCookie fetches path sending exactly cookie, bypassing the jar.
func (c *Client) GetWithCookie(path, cookie string) Response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Cookie", cookie)
	plain := &http.Client{Timeout: 10 * time.Second, CheckRedirect: c.http.CheckRedirect}
	res, err := plain.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return Response{Status: res.StatusCode, Header: res.Header, Body: string(b), Location: res.Header.Get("Location")}
}
