// Package modelstest opens fresh, migrated Herald databases for tests: a
// temporary SQLite file, and a throw-away PostgreSQL database when one is
// reachable.
//
// PostgreSQL is found at HERALD_TEST_POSTGRES_URL (default: the local
// server, user postgres). When it cannot be reached the PostgreSQL half of a
// test is skipped with a message, except under CI=true, where that fails.
package modelstest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/vault"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for creating test databases
)

// DefaultPostgresURL is used when HERALD_TEST_POSTGRES_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Engines lists the engines every database test runs on.
var Engines = []models.Engine{models.SQLite, models.Postgres}

var (
	probeOnce sync.Once
	probeErr  error
)

func adminURL() string {
	if u := os.Getenv("HERALD_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

func postgresAvailable() error {
	probeOnce.Do(func() {
		db, err := sql.Open("pgx", adminURL())
		if err != nil {
			probeErr = err
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		probeErr = db.PingContext(ctx)
	})
	return probeErr
}

// RequirePostgres skips (or, under CI=true, fails) the test when PostgreSQL
// is not reachable.
func RequirePostgres(t testing.TB) {
	t.Helper()
	if err := postgresAvailable(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s is required under CI=true: %v", redact(adminURL()), err)
		}
		t.Skipf("PostgreSQL not reachable at %s (%v); set HERALD_TEST_POSTGRES_URL to run this half", redact(adminURL()), err)
	}
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Each runs fn once per engine, as subtests named after the engine.
func Each(t *testing.T, fn func(t *testing.T, s *models.Store)) {
	t.Helper()
	for _, e := range Engines {
		t.Run(string(e), func(t *testing.T) {
			fn(t, Open(t, e))
		})
	}
}

// Open returns a migrated store on a fresh database of engine, closed and
// dropped when the test ends.
func Open(t testing.TB, engine models.Engine) *models.Store {
	t.Helper()
	return OpenWith(t, engine, models.Options{})
}

// OpenWith is Open with store options, such as a fake clock.
func OpenWith(t testing.TB, engine models.Engine, opts models.Options) *models.Store {
	t.Helper()
	return OpenURL(t, NewDatabaseURL(t, engine), opts)
}

// OpenURL opens and migrates a store at databaseURL (from NewDatabaseURL,
// or through a Proxy), closed when the test ends.
func OpenURL(t testing.TB, databaseURL string, opts models.Options) *models.Store {
	t.Helper()
	dsn := databaseURL
	engine := models.SQLite
	if models.IsPostgresURL(dsn) {
		engine = models.Postgres
	}
	ctx := context.Background()
	if opts.Sealer == nil {
		opts.Sealer = TestVault(t)
	}
	s, err := models.Open(ctx, dsn, opts)
	if err != nil {
		t.Fatalf("open %s store: %v", engine, err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s store: %v", engine, err)
	}
	return s
}

// testVaultKey is the key of TestVault.
const testVaultKey = "herald-test-vault-key-32-bytes!!"

// TestVault seals channel credentials in tests.
func TestVault(t testing.TB) *vault.Vault {
	v, err := vault.New([]byte(testVaultKey))
	if err != nil {
		t.Fatalf("test vault: %v", err)
	}
	return v
}

// NewDatabaseURL creates an empty database of engine and returns the URL to
// reach it; it is removed when the test ends. Useful for tests that start
// the herald binary.
func NewDatabaseURL(t testing.TB, engine models.Engine) string {
	t.Helper()
	switch engine {
	case models.SQLite:
		return filepath.Join(t.TempDir(), "herald.db")
	case models.Postgres:
		RequirePostgres(t)
		return newPostgresDatabase(t)
	}
	t.Fatalf("unknown engine %q", engine)
	return ""
}

func newPostgresDatabase(t testing.TB) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	name := "herald_test_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", adminURL())
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer admin.Close()
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", adminURL())
		if err != nil {
			t.Errorf("connect to drop %s: %v", name, err)
			return
		}
		defer db.Close()
		if _, err := db.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(adminURL())
	if err != nil {
		t.Fatalf("parse %s: %v", redact(adminURL()), err)
	}
	u.Path = "/" + name
	if !strings.Contains(u.RawQuery, "sslmode") {
		q := u.Query()
		q.Set("sslmode", "disable")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Fatal fails t with a formatted message when err is not nil.
func Fatal(t testing.TB, err error, format string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(format, args...), err)
	}
}
