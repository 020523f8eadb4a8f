// Command herald is a self-hosted status page: admin UI, public page and
// notification delivery in one binary.
//
// Usage:
//
//	herald [serve] [flags]           run the server (default)
//	herald migrate [flags]           apply database migrations and exit
//	herald admin create --email E --password-stdin
//	herald user create --email E --role viewer|operator|admin --password-stdin
//	herald user list
//	herald user reset-password --email E --password-stdin
//	herald user reset-2fa --email E
//	herald version
//
// Every flag can also be set with a HERALD_* environment variable; run
// "herald serve -h" for the list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/notify"
	"github.com/heraldstatus/herald/schedule"
	"github.com/heraldstatus/herald/web"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	cmd := "serve"
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		cmd = "help"
	} else if len(args) > 0 && (args[0] == "--version" || args[0] == "-version" || args[0] == "-v") {
		cmd = "version"
	} else if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(args, stderr, getenv)
	case "migrate":
		err = migrate(args, stdout, stderr, getenv)
	case "admin":
		err = admin(args, stdin, stdout, stderr, getenv)
	case "user":
		err = user(args, stdin, stdout, stderr, getenv)
	case "version":
		fmt.Fprintln(stdout, "herald", versionString())
	case "help":
		fmt.Fprintln(stdout, "usage: herald [serve|migrate|admin create|user create|user list|user reset-password|user reset-2fa|version] [flags]\nrun \"herald serve -h\" for the settings; each flag is also a HERALD_* variable")
	default:
		err = fmt.Errorf("unknown command %q; want serve, migrate, admin create, user or version", cmd)
	}
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintln(stderr, "herald:", oneLine(err.Error()))
	return 1
}

// oneLine joins a multi-line error (pgx lists every address it tried on
// its own indented line) into one line, so each error is one log line.
func oneLine(msg string) string {
	lines := strings.Split(strings.TrimSpace(msg), "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	if len(lines) == 1 {
		return lines[0]
	}
	return lines[0] + " " + strings.Join(lines[1:], "; ")
}

func newLogger(cfg web.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// setup loads configuration, the logger and the migrated database.
//
// keyed loads (or generates) the secret key first, so the store can seal
// channel credentials; only serve needs it.
func setup(ctx context.Context, name string, args []string, stderr io.Writer, getenv func(string) string, keyed bool) (web.Config, *slog.Logger, *models.Store, error) {
	cfg, err := loadConfig(name, args, getenv)
	if err != nil {
		return cfg, nil, nil, err
	}
	return setupWith(ctx, cfg, stderr, keyed)
}

// loadConfig parses and checks the configuration, touching nothing.
func loadConfig(name string, args []string, getenv func(string) string) (web.Config, error) {
	cfg, fs, err := web.LoadConfig(name, args, getenv)
	if err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return cfg, nil
}

// setupWith opens what a checked configuration names.
func setupWith(ctx context.Context, cfg web.Config, stderr io.Writer, keyed bool) (web.Config, *slog.Logger, *models.Store, error) {
	if !keyed {
		return open(ctx, cfg, stderr, nil)
	}
	key, generated, err := web.LoadOrCreateSecretKey(cfg.SecretKey, cfg.DataDir)
	if err != nil {
		return cfg, nil, nil, err
	}
	cfg.SecretKey = key
	v, err := web.NewVault(key)
	if err != nil {
		return cfg, nil, nil, err
	}
	cfg, logger, store, err := open(ctx, cfg, stderr, v)
	if generated && logger != nil {
		logger.Warn("HERALD_SECRET_KEY is not set: generated a new secret key and saved it; keep this file, or set HERALD_SECRET_KEY, so sessions and stored secrets survive", "path", filepath.Join(cfg.DataDir, "secret.key"))
	}
	return cfg, logger, store, err
}

// open builds the logger and opens and migrates the database.
func open(ctx context.Context, cfg web.Config, stderr io.Writer, sealer models.Sealer) (web.Config, *slog.Logger, *models.Store, error) {
	logger := newLogger(cfg, stderr)
	store, err := models.Open(ctx, cfg.DatabaseURL, models.Options{Logger: logger, BaseURL: cfg.BaseURL, Sealer: sealer,
		StatementTimeout: cfg.RequestTimeout})
	if err != nil {
		return cfg, logger, nil, err
	}
	applied, err := store.Migrate(ctx)
	for _, m := range applied {
		logger.Info("migration applied", "migration", m)
	}
	if err != nil {
		store.Close()
		return cfg, logger, nil, err
	}
	return cfg, logger, store, nil
}

func serve(args []string, stderr io.Writer, getenv func(string) string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := loadConfig("herald serve", args, getenv)
	if err != nil {
		return err
	}
	// Take the address before touching the disk or the database, so a
	// port in use or not allowed fails without side effects.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	defer ln.Close()
	cfg, logger, store, err := setupWith(ctx, cfg, stderr, true)
	if err != nil {
		return err
	}
	defer store.Close()

	engine := notify.New(store, cfg.Notify(versionString()), logger)
	e, err := web.New(web.Deps{Config: cfg, Store: store, Logger: logger, Notifier: engine})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	// Said before the first request is answered: the listener is open, and
	// a log read after any answer has this line.
	dbVersion, _ := store.ServerVersion(ctx)
	logger.Info("Herald is running", "url", cfg.BaseURL, "listen", ln.Addr().String(),
		"database", string(store.Engine()), "database_version", dbVersion, "version", versionString())
	if has, err := store.HasUsers(ctx); err == nil && !has {
		logger.Info("no admin yet: open the setup page to create one", "url", cfg.BaseURL+"/setup")
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	// Background work stops with workCtx, after the HTTP server has drained.
	workCtx, stopWork := context.WithCancel(context.Background())
	defer stopWork()
	var work sync.WaitGroup
	work.Go(func() { schedule.New(store, logger, time.Second, nil).Run(workCtx) })
	work.Go(func() { engine.Run(workCtx) })
	work.Go(func() { store.Listen(workCtx, logger) })
	work.Go(func() { e.Public.Run(workCtx) })

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	// In-flight delivery attempts finish (each bounded by the webhook
	// timeout); nothing else is claimed.
	stopWork()
	work.Wait()
	logger.Info("stopped")
	return nil
}

func migrate(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, _, store, err := setup(context.Background(), "herald migrate", args, stderr, getenv, false)
	if err != nil {
		return err
	}
	defer store.Close()
	fmt.Fprintf(stdout, "database %s is up to date\n", redactURL(cfg.DatabaseURL))
	return nil
}

func redactURL(raw string) string {
	if !models.IsPostgresURL(raw) {
		return raw
	}
	if i := strings.Index(raw, "@"); i > 0 {
		if j := strings.Index(raw, "://"); j > 0 && j < i {
			return raw[:j+3] + "…" + raw[i:]
		}
	}
	return raw
}
