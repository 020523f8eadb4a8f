package main

// These tests build the real herald binary once and drive it as an operator
// would: start it, wait for /readyz, stop it with SIGTERM, run its
// subcommands, and feed it bad configuration.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

// testVersion is stamped into the test binary with -ldflags, as the
// Dockerfile does with the release version.
const testVersion = "v0.0.0-test"

var (
	binDir    string
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "herald-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "create binary directory:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// heraldBinary builds ./cmd/herald once per test binary and returns its path.
func heraldBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		out := filepath.Join(binDir, "herald")
		// go test runs in the package directory; the module root is two up.
		cmd := exec.Command("go", "build", "-buildvcs=false", "-trimpath",
			"-ldflags=-X main.version="+testVersion, "-o", out, "./cmd/herald")
		cmd.Dir = filepath.Join("..", "..")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/herald: %v\n%s", err, b)
			return
		}
		binPath = out
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// heraldEnv is the test process's environment without any HERALD_*
// variable, plus extra: what the operator would have set.
func heraldEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HERALD_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// syncBuffer collects a process's output while tests read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is a herald serve process.
type server struct {
	cmd  *exec.Cmd
	url  string
	logs *syncBuffer
	done chan struct{}
	err  error // set when done is closed
}

// startServer runs "herald serve" with env on a free port. The process is
// killed when the test ends if it is still running.
func startServer(t *testing.T, env ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	s := &server{url: "http://" + addr, logs: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(heraldBinary(t), "serve")
	s.cmd.Env = heraldEnv(append([]string{"HERALD_ADDR=" + addr}, env...)...)
	s.cmd.Stdout = s.logs
	s.cmd.Stderr = s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start herald: %v", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			s.cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			t.Logf("herald log:\n%s", s.logs.String())
		}
	})
	return s
}

// waitReady polls /readyz every 50ms for up to 20s.
func (s *server) waitReady(t *testing.T) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-s.done:
			t.Fatalf("herald exited before it was ready (%v)", s.err)
		default:
		}
		resp, err := client.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /readyz did not answer 200 within 20s (last: %v)", describe(resp, err))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func describe(resp *http.Response, err error) string {
	if err != nil {
		return err.Error()
	}
	return resp.Status
}

// stop sends SIGTERM and waits up to 10s for a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("send SIGTERM: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Fatal("herald did not exit within 10s of SIGTERM")
	}
	if s.err != nil {
		t.Fatalf("herald exited with %v after SIGTERM, want exit code 0", s.err)
	}
	if !strings.Contains(s.logs.String(), "stopped") {
		t.Errorf("log does not say %q after SIGTERM", "stopped")
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// result is a finished herald command.
type result struct {
	code           int
	stdout, stderr string
}

// runHerald runs a herald subcommand to completion (at most 30s).
func runHerald(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, heraldBinary(t), args...)
	cmd.Env = heraldEnv(env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && ctx.Err() == nil:
		r.code = exit.ExitCode()
	default:
		t.Fatalf("herald %s: %v\nstderr:\n%s", strings.Join(args, " "), err, r.stderr)
	}
	return r
}

// databaseEnv points herald at a fresh database of engine: the default
// SQLite file in dataDir, or a throw-away PostgreSQL database.
func databaseEnv(t *testing.T, engine models.Engine, dataDir string) []string {
	t.Helper()
	env := []string{"HERALD_DATA_DIR=" + dataDir}
	if engine == models.Postgres {
		env = append(env, "HERALD_DATABASE_URL="+modelstest.NewDatabaseURL(t, models.Postgres))
	}
	return env
}

func TestBinaryServesAndStopsOnSIGTERM(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			dataDir := t.TempDir()
			s := startServer(t, databaseEnv(t, engine, dataDir)...)
			s.waitReady(t)

			for _, path := range []string{"/healthz", "/"} {
				if code, body := get(t, s.url+path); code != http.StatusOK {
					t.Errorf("GET %s = %d, want 200\n%s", path, code, body)
				}
			}
			// No admin yet: the setup page is open.
			if code, _ := get(t, s.url+"/setup"); code != http.StatusOK {
				t.Errorf("GET /setup before any admin = %d, want 200", code)
			}
			logs := s.logs.String()
			for _, want := range []string{"Herald is running", "database=" + string(engine), "version=" + testVersion, "path=/healthz"} {
				if !strings.Contains(logs, want) {
					t.Errorf("log lacks %q", want)
				}
			}
			s.stop(t)

			if engine == models.SQLite {
				if _, err := os.Stat(filepath.Join(dataDir, "herald.db")); err != nil {
					t.Errorf("default SQLite file: %v", err)
				}
			}
		})
	}
}

func TestBinarySecretKeyIsGeneratedOnceAndReused(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	keyFile := filepath.Join(dataDir, "secret.key")

	first := startServer(t, "HERALD_DATA_DIR="+dataDir)
	first.waitReady(t)
	first.stop(t)
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatalf("secret key file after first start: %v", err)
	}
	if got := len(strings.TrimSpace(string(key))); got < 32 {
		t.Errorf("generated key has %d characters, want at least 32", got)
	}
	if info, err := os.Stat(keyFile); err == nil && info.Mode().Perm()&0o077 != 0 {
		t.Errorf("secret.key mode = %v, want no access for group and others", info.Mode().Perm())
	}
	if logs := first.logs.String(); !strings.Contains(logs, "generated a new secret key") {
		t.Errorf("first start does not log that it generated the key:\n%s", logs)
	}
	if strings.Contains(first.logs.String(), strings.TrimSpace(string(key))) {
		t.Error("the secret key itself appears in the log")
	}

	second := startServer(t, "HERALD_DATA_DIR="+dataDir)
	second.waitReady(t)
	second.stop(t)
	again, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatalf("secret key file after second start: %v", err)
	}
	if !bytes.Equal(key, again) {
		t.Error("second start replaced the secret key file")
	}
	if strings.Contains(second.logs.String(), "generated a new secret key") {
		t.Error("second start says it generated a key; it should reuse the saved one")
	}
}

func TestBinaryConfiguredSecretKeyWritesNoFile(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	s := startServer(t, "HERALD_DATA_DIR="+dataDir, "HERALD_SECRET_KEY="+strings.Repeat("s", 32), "HERALD_LOG_FORMAT=json")
	s.waitReady(t)
	s.stop(t)
	if _, err := os.Stat(filepath.Join(dataDir, "secret.key")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("secret.key exists although HERALD_SECRET_KEY is set (stat: %v)", err)
	}
	if !strings.Contains(s.logs.String(), `"msg":"Herald is running"`) {
		t.Errorf("HERALD_LOG_FORMAT=json did not produce JSON logs:\n%s", s.logs.String())
	}
}

func TestBinaryRejectsBadConfiguration(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		args    []string
		setting string
	}{
		{name: "log format xml", env: []string{"HERALD_LOG_FORMAT=xml"}, setting: "HERALD_LOG_FORMAT"},
		{name: "address without port", env: []string{"HERALD_ADDR=nonsense"}, setting: "HERALD_ADDR"},
		{name: "short secret key", env: []string{"HERALD_SECRET_KEY=tooshort"}, setting: "HERALD_SECRET_KEY"},
		{name: "log level", env: []string{"HERALD_LOG_LEVEL=loud"}, setting: "HERALD_LOG_LEVEL"},
		{name: "session ttl", env: []string{"HERALD_SESSION_TTL=forever"}, setting: "HERALD_SESSION_TTL"},
		{name: "base url scheme", env: []string{"HERALD_BASE_URL=ftp://status.example.com"}, setting: "HERALD_BASE_URL"},
		{name: "database url scheme", env: []string{"HERALD_DATABASE_URL=mysql://db/herald"}, setting: "HERALD_DATABASE_URL"},
		{name: "flag overrides good env", env: []string{"HERALD_LOG_FORMAT=json"}, args: []string{"--log-format=xml"}, setting: "HERALD_LOG_FORMAT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dataDir := t.TempDir()
			env := append([]string{"HERALD_DATA_DIR=" + dataDir}, tc.env...)
			r := runHerald(t, env, "", append([]string{"serve"}, tc.args...)...)
			if r.code != 1 {
				t.Fatalf("exit code = %d, want 1\nstderr:\n%s", r.code, r.stderr)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if len(lines) != 1 {
				t.Errorf("stderr has %d lines, want one:\n%s", len(lines), r.stderr)
			}
			if !strings.Contains(r.stderr, tc.setting) {
				t.Errorf("stderr does not name %s:\n%s", tc.setting, r.stderr)
			}
			if entries, _ := os.ReadDir(dataDir); len(entries) > 0 {
				t.Errorf("a bad configuration left files in the data directory: %v", entries)
			}
		})
	}
}

func TestBinaryVersion(t *testing.T) {
	t.Parallel()
	r := runHerald(t, nil, "", "version")
	if r.code != 0 {
		t.Fatalf("herald version: exit code %d\n%s", r.code, r.stderr)
	}
	if want := "herald " + testVersion + "\n"; r.stdout != want {
		t.Errorf("herald version printed %q, want %q", r.stdout, want)
	}
}

func TestBinaryUnknownCommand(t *testing.T) {
	t.Parallel()
	r := runHerald(t, nil, "", "frobnicate")
	if r.code != 1 || !strings.Contains(r.stderr, `unknown command "frobnicate"`) {
		t.Errorf("herald frobnicate: exit code %d, stderr %q; want 1 and the unknown command named", r.code, r.stderr)
	}
}

func TestBinaryMigrateTwice(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			env := databaseEnv(t, engine, t.TempDir())

			first := runHerald(t, env, "", "migrate")
			if first.code != 0 {
				t.Fatalf("first herald migrate: exit code %d\n%s", first.code, first.stderr)
			}
			if !strings.Contains(first.stdout, "is up to date") {
				t.Errorf("first migrate stdout = %q, want it to say the database is up to date", first.stdout)
			}
			if !strings.Contains(first.stderr, "migration applied") {
				t.Errorf("first migrate on a fresh database logged no applied migration:\n%s", first.stderr)
			}

			second := runHerald(t, env, "", "migrate")
			if second.code != 0 {
				t.Fatalf("second herald migrate: exit code %d\n%s", second.code, second.stderr)
			}
			if strings.Contains(second.stderr, "migration applied") {
				t.Errorf("second migrate applied migrations again:\n%s", second.stderr)
			}
		})
	}
}

func TestBinaryAdminCreate(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			env := databaseEnv(t, engine, t.TempDir())
			args := []string{"admin", "create", "--email", "a@example.com", "--password-stdin"}
			const password = "correct horse battery staple\n"

			r := runHerald(t, env, password, args...)
			if r.code != 0 {
				t.Fatalf("herald admin create: exit code %d\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stdout, "admin a@example.com created") {
				t.Errorf("stdout = %q, want it to confirm the admin", r.stdout)
			}
			if strings.Contains(r.stdout+r.stderr, "correct horse") {
				t.Error("admin create echoed the password")
			}

			again := runHerald(t, env, password, args...)
			if again.code != 1 {
				t.Fatalf("second admin create: exit code %d, want 1\nstdout: %s\nstderr: %s", again.code, again.stdout, again.stderr)
			}
			if !strings.Contains(again.stderr, "already exists") {
				t.Errorf("second admin create stderr = %q, want it to say the admin already exists", again.stderr)
			}

			// The server uses the same database: setup is over.
			s := startServer(t, env...)
			s.waitReady(t)
			if code, _ := get(t, s.url+"/setup"); code != http.StatusNotFound {
				t.Errorf("GET /setup after admin create = %d, want 404", code)
			}
			if code, _ := get(t, s.url+"/login"); code != http.StatusOK {
				t.Errorf("GET /login after admin create = %d, want 200", code)
			}
			s.stop(t)
		})
	}
}

// TestBinaryAdminCreateRefusesWeakPasswords: herald admin create applies
// the same strength rule as setup, says why, and creates nobody.
func TestBinaryAdminCreateRefusesWeakPasswords(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			env := databaseEnv(t, engine, t.TempDir())
			for _, pw := range []string{"1234567890", "password12", "ops@example.com"} {
				r := runHerald(t, env, pw+"\n", "admin", "create", "--email", "ops@example.com", "--password-stdin")
				if r.code != 1 || !strings.Contains(r.stderr, "too easy to guess") {
					t.Fatalf("admin create with %q: exit %d, stderr %q; want 1 and the reason", pw, r.code, r.stderr)
				}
			}
			r := runHerald(t, env, "correct horse battery staple\n", "admin", "create", "--email", "ops@example.com", "--password-stdin")
			if r.code != 0 {
				t.Fatalf("admin create with a strong password after the weak ones: exit %d\n%s", r.code, r.stderr)
			}
		})
	}
}

func TestBinaryAdminCreateRefusesBadInput(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		stdin string
		want  string
	}{
		{name: "short password", args: []string{"--email", "a@example.com", "--password-stdin"}, stdin: "short\n", want: "password:"},
		{name: "bad email", args: []string{"--email", "not-an-address", "--password-stdin"}, stdin: "correct horse battery\n", want: "email:"},
		{name: "no password-stdin", args: []string{"--email", "a@example.com"}, want: "usage: herald admin create"},
		{name: "no email", args: []string{"--password-stdin"}, stdin: "correct horse battery\n", want: "usage: herald admin create"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := []string{"HERALD_DATA_DIR=" + t.TempDir()}
			r := runHerald(t, env, tc.stdin, append([]string{"admin", "create"}, tc.args...)...)
			if r.code != 1 {
				t.Fatalf("exit code = %d, want 1\nstderr:\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr = %q, want it to contain %q", r.stderr, tc.want)
			}
		})
	}
}

// TestBinaryCommandLineIsTerse: --version prints the version only; -h shows
// each setting's kind; a bad address or a taken port fails before the data
// directory is created; an unreachable database and a duplicate admin give
// one line each, from Herald, with no SQL and no gorm format strings.
func TestBinaryCommandLineIsTerse(t *testing.T) {
	oneLine := func(t *testing.T, r result, want string) {
		t.Helper()
		if r.code != 1 {
			t.Fatalf("exit code %d, want 1\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
		if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "herald: ") || !strings.Contains(lines[0], want) {
			t.Fatalf("stderr = %q, want one line \"herald: …%s…\"", r.stderr, want)
		}
	}
	t.Run("version", func(t *testing.T) {
		for _, arg := range []string{"--version", "-version", "version"} {
			r := runHerald(t, nil, "", arg)
			if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "herald ") || strings.Count(r.stdout, "\n") != 1 {
				t.Fatalf("herald %s: exit %d, stdout %q, stderr %q; want one line and nothing else", arg, r.code, r.stdout, r.stderr)
			}
		}
	})
	t.Run("help shows kinds", func(t *testing.T) {
		r := runHerald(t, nil, "", "serve", "-h")
		if r.code != 0 {
			t.Fatalf("serve -h: exit %d", r.code)
		}
		for _, want := range []string{"-delivery-poll duration", "-session-ttl duration", "-delivery-workers int",
			"-channel-disable-after int", "-webhook-allow-cidrs list", "-addr string", "(default 5s)", `(default ":8080")`} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("serve -h lacks %q:\n%s", want, r.stderr)
			}
		}
		if strings.Contains(r.stderr, "-delivery-poll string") {
			t.Errorf("a duration shown as string:\n%s", r.stderr)
		}
	})
	t.Run("bad port touches nothing", func(t *testing.T) {
		dataDir := filepath.Join(t.TempDir(), "data")
		r := runHerald(t, []string{"HERALD_DATA_DIR=" + dataDir, "HERALD_ADDR=127.0.0.1:99999"}, "")
		oneLine(t, r, "HERALD_ADDR")
		if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
			t.Fatalf("data directory exists after a bad HERALD_ADDR: %v", err)
		}
	})
	t.Run("taken port touches nothing", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		dataDir := filepath.Join(t.TempDir(), "data")
		r := runHerald(t, []string{"HERALD_DATA_DIR=" + dataDir, "HERALD_ADDR=" + ln.Addr().String()}, "")
		oneLine(t, r, "listen on")
		if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
			t.Fatalf("data directory exists after a taken port: %v", err)
		}
	})
	t.Run("unreachable database", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now
		r := runHerald(t, []string{"HERALD_DATA_DIR=" + t.TempDir(), "HERALD_DATABASE_URL=postgres://postgres@" + addr + "/x?sslmode=disable"}, "", "migrate")
		oneLine(t, r, "open postgres")
		if strings.Contains(r.stderr, "failed to initialize database") || strings.Contains(r.stderr, "%v") {
			t.Fatalf("gorm's own line reached the output: %q", r.stderr)
		}
	})
	for _, engine := range modelstest.Engines {
		t.Run("duplicate admin/"+string(engine), func(t *testing.T) {
			env := databaseEnv(t, engine, t.TempDir())
			args := []string{"admin", "create", "--email", "a@example.com", "--password-stdin"}
			if r := runHerald(t, env, "correct horse battery staple\n", args...); r.code != 0 {
				t.Fatalf("first admin create: %d\n%s", r.code, r.stderr)
			}
			r := runHerald(t, env, "correct horse battery staple\n", args...)
			oneLine(t, r, "already exists")
			if strings.Contains(r.stderr, "INSERT") || strings.Contains(r.stderr, "level=ERROR") {
				t.Fatalf("duplicate admin logged SQL or an ERROR: %q", r.stderr)
			}
		})
	}
}
