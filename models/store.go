package models

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Engine names the database behind a Store.
type Engine string

// The supported engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Store is Herald's handle on its database.
type Store struct {
	db *gorm.DB
	// reader holds SQLite's read-only connections (nil on PostgreSQL).
	reader *gorm.DB
	engine Engine
	dsn    string
	now    func() time.Time
	// baseURL prefixes links in event data ("https://status.example.com").
	baseURL       string
	partialWeight float64
	sealer        Sealer
	// wake is signalled after a commit that may have made deliveries due;
	// changed after a commit that may change the public page.
	wake    *Signal
	changed *Signal
	// generation counts changes to public data seen by this process, so
	// caches can tell they are stale; allPages counts those of them that
	// named no page (and so concern every page), pageGens those of each
	// page (*atomic.Int64 by page id).
	generation atomic.Int64
	allPages   atomic.Int64
	pageGens   sync.Map
}

// Options tune Open.
type Options struct {
	// Now replaces the clock, for tests. Defaults to time.Now.
	Now func() time.Time
	// Logger receives slow-query and error logs from gorm. Nil disables them.
	Logger *slog.Logger
	// BaseURL is the public URL used in links inside event data.
	BaseURL string
	// PartialWeight is the share of partial-outage time counted as down.
	// Zero means DefaultPartialWeight.
	PartialWeight float64
	// Sealer encrypts channel credentials at rest. Without one, channels
	// cannot be created or read (migrate and admin commands need none).
	Sealer Sealer
	// ConnectTimeout bounds opening a PostgreSQL connection, unless the
	// URL sets connect_timeout. Zero means DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// StatementTimeout is PostgreSQL's statement_timeout for Herald's
	// sessions, unless the URL sets statement_timeout: the server cancels
	// a statement that runs longer. Zero sets none.
	StatementTimeout time.Duration
}

// DefaultConnectTimeout bounds opening a PostgreSQL connection: without
// it a connection attempt to a host that does not answer waits as long
// as TCP does (minutes).
const DefaultConnectTimeout = 5 * time.Second

// IsPostgresURL reports whether databaseURL selects PostgreSQL.
func IsPostgresURL(databaseURL string) bool {
	return strings.HasPrefix(databaseURL, "postgres://") || strings.HasPrefix(databaseURL, "postgresql://")
}

// Open connects to databaseURL: a postgres:// URL selects PostgreSQL,
// anything else is a SQLite file path (optionally prefixed with sqlite://).
// It does not migrate; call Migrate.
func Open(ctx context.Context, databaseURL string, opts Options) (*Store, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	cfg := &gorm.Config{
		NowFunc:                func() time.Time { return now().UTC() },
		Logger:                 gormLogger(opts.Logger),
		SkipDefaultTransaction: true,
		TranslateError:         true,
	}
	weight := opts.PartialWeight
	if weight == 0 {
		weight = DefaultPartialWeight
	}
	s := &Store{now: now, dsn: databaseURL, baseURL: strings.TrimRight(opts.BaseURL, "/"), partialWeight: weight,
		sealer: opts.Sealer, wake: NewSignal(), changed: NewSignal()}
	var err error
	if IsPostgresURL(databaseURL) {
		s.engine = Postgres
		if s.dsn, err = postgresDSN(databaseURL, opts); err != nil {
			return nil, err
		}
		s.db, err = gorm.Open(postgres.Open(s.dsn), cfg)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		sqlDB, err := s.db.DB()
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		sqlDB.SetMaxOpenConns(20)
		// As many idle as open: under load, closing and reopening connections
		// (a PostgreSQL backend each) costs more than the work itself.
		sqlDB.SetMaxIdleConns(20)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	} else {
		s.engine = SQLite
		path := strings.TrimPrefix(databaseURL, "sqlite://")
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("create database directory %s: %w", dir, err)
			}
		}
		s.db, err = gorm.Open(sqlite.Open(sqliteDSN(path)), cfg)
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		sqlDB, err := s.db.DB()
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		// One connection makes SQLite's single writer explicit: transactions
		// queue in Go instead of failing with SQLITE_BUSY.
		sqlDB.SetMaxOpenConns(1)
		sqlDB.SetConnMaxIdleTime(0)
		sqlDB.SetConnMaxLifetime(0)
		// Readers beside the writer: in WAL mode they see every committed
		// change and never wait for a write, so rebuilding the public page
		// does not hold up the delivery worker's bookkeeping.
		s.reader, err = gorm.Open(sqlite.Open(sqliteReaderDSN(path)), cfg)
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s for reading: %w", path, err)
		}
		readDB, err := s.reader.DB()
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s for reading: %w", path, err)
		}
		readDB.SetMaxOpenConns(sqliteReaders)
		readDB.SetMaxIdleConns(sqliteReaders)
		readDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// sqliteReaders is how many read-only connections a SQLite store keeps.
const sqliteReaders = 4

// postgresDSN adds Herald's time limits to a postgres:// URL, keeping
// those the URL sets itself: connect_timeout (seconds) bounds opening a
// connection, and statement_timeout (milliseconds; pgx sends parameters
// it does not know as session settings) bounds each statement on the
// server.
func postgresDSN(databaseURL string, opts Options) (string, error) {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return "", fmt.Errorf("parse database URL: %w", err)
	}
	q := u.Query()
	if q.Get("connect_timeout") == "" {
		d := opts.ConnectTimeout
		if d <= 0 {
			d = DefaultConnectTimeout
		}
		q.Set("connect_timeout", strconv.Itoa(int(math.Ceil(d.Seconds()))))
	}
	if q.Get("statement_timeout") == "" && opts.StatementTimeout > 0 {
		q.Set("statement_timeout", strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10))
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func sqliteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// Transactions take the write lock when they begin, not at their
	// first write: a transaction that read first and then writes fails at
	// once with SQLITE_BUSY (no busy_timeout wait) when another process on
	// the same file wrote in between, such as a second engine.
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// sqliteReaderDSN opens path for reading only. The writer has put the
// file in WAL mode, which is what lets readers run beside it.
func sqliteReaderDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "query_only(1)")
	return "file:" + path + "?" + q.Encode()
}

func gormLogger(l *slog.Logger) logger.Interface {
	if l == nil {
		return logger.Discard
	}
	return quietLogger{l: l, Interface: logger.NewSlogLogger(l, logger.Config{
		SlowThreshold:             500 * time.Millisecond,
		IgnoreRecordNotFoundError: true,
		// Never print bound values: they include password hashes and session ids.
		ParameterizedQueries: true,
		LogLevel:             logger.Warn,
	})}
}

// write runs fn in a transaction and, once it has committed, wakes the
// delivery worker: fn may have written events and their deliveries.
//
// The pages the write changed are those its audit rows name (see
// changedPages): only their public snapshots go stale.
func (s *Store) write(ctx context.Context, fn func(tx *gorm.DB) error) error {
	pages := &changedPages{}
	ctx = context.WithValue(ctx, changedPagesKey{}, pages)
	err := s.conn(ctx).Transaction(func(tx *gorm.DB) error {
		if err := fn(tx); err != nil {
			return err
		}
		return notifyChanged(tx, pages)
	})
	if err != nil {
		return err
	}
	s.afterCommit(ctx, func() {
		s.wake.Notify()
		s.markChanged(pages)
	})
	return nil
}

// changedPagesKey marks the context of a write, carrying its
// *changedPages.
type changedPagesKey struct{}

// changedPages collects the pages a write changes: audit adds the page
// of every row it writes inside one. A write that names no page, or a
// page id of 0, changes every page, as far as caches know.
type changedPages struct {
	ids     []int64
	unknown bool
}

func (c *changedPages) add(id int64) {
	if id <= 0 {
		c.unknown = true
		return
	}
	if !slices.Contains(c.ids, id) {
		c.ids = append(c.ids, id)
	}
}

// all reports whether the change concerns every page.
func (c *changedPages) all() bool { return c == nil || c.unknown || len(c.ids) == 0 }

// payload is the NOTIFY payload announcing c: the page ids separated by
// commas, empty for every page.
func (c *changedPages) payload() string {
	if c.all() {
		return ""
	}
	parts := make([]string, len(c.ids))
	for i, id := range c.ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}

// parseChangedPages reads a NOTIFY payload written by payload; anything
// unreadable concerns every page.
func parseChangedPages(payload string) *changedPages {
	c := &changedPages{}
	if payload == "" {
		return c
	}
	for part := range strings.SplitSeq(payload, ",") {
		id, err := strconv.ParseInt(part, 10, 64)
		if err != nil {
			return &changedPages{unknown: true}
		}
		c.add(id)
	}
	return c
}

// noteChangedPage records, inside a write, that it changes page id.
func noteChangedPage(tx *gorm.DB, id int64) {
	if tx.Statement == nil || tx.Statement.Context == nil {
		return
	}
	if c, ok := tx.Statement.Context.Value(changedPagesKey{}).(*changedPages); ok {
		c.add(id)
	}
}

// transact runs fn in a transaction and announces nothing: for changes
// neither the public page nor the delivery worker sees (channel settings,
// users), which still need their audit row written atomically.
func (s *Store) transact(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.conn(ctx).Transaction(fn)
}

// unitKey marks a context that carries a unit of work.
type unitKey struct{}

// unit is one transaction shared by every store call made with its
// context, and what to announce once it commits.
type unit struct {
	tx    *gorm.DB
	after []func()
}

// InTransaction runs fn with a context in which every call on the store
// shares one transaction: all of them commit together, or none does when
// fn fails. Wake-ups and change announcements wait until the commit.
// Inside a unit already, fn joins it.
func (s *Store) InTransaction(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(unitKey{}).(*unit); ok {
		return fn(ctx)
	}
	u := &unit{}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		u.tx = tx
		return fn(context.WithValue(ctx, unitKey{}, u))
	})
	if err != nil {
		return err
	}
	for _, f := range u.after {
		f()
	}
	return nil
}

// readOnlyKey marks a context whose store calls only read.
type readOnlyKey struct{}

// ReadOnly returns a context for store calls that only read, such as
// rebuilding the public page. On SQLite they run on reader connections,
// beside the single writer instead of queued behind it; a write made
// with such a context fails. On PostgreSQL it changes nothing.
func ReadOnly(ctx context.Context) context.Context {
	return context.WithValue(ctx, readOnlyKey{}, true)
}

// conn is the handle for a call made with ctx: the context's unit of
// work when it carries one, the readers for a ReadOnly context on
// SQLite, else the pool.
func (s *Store) conn(ctx context.Context) *gorm.DB {
	if u, ok := ctx.Value(unitKey{}).(*unit); ok {
		return u.tx.WithContext(ctx)
	}
	if s.reader != nil && ctx.Value(readOnlyKey{}) != nil {
		return s.reader.WithContext(ctx)
	}
	return s.db.WithContext(ctx)
}

// afterCommit runs f once what ctx writes has committed: at once outside
// a unit of work, at the unit's commit inside one.
func (s *Store) afterCommit(ctx context.Context, f func()) {
	if u, ok := ctx.Value(unitKey{}).(*unit); ok {
		u.after = append(u.after, f)
		return
	}
	f()
}

// markChanged records a change to public data, of the pages c names (of
// every page when c is nil or names none), and signals Changed.
func (s *Store) markChanged(c *changedPages) {
	if c.all() {
		s.allPages.Add(1)
	} else {
		for _, id := range c.ids {
			s.pageGen(id).Add(1)
		}
	}
	s.generation.Add(1)
	s.changed.Notify()
}

func (s *Store) pageGen(id int64) *atomic.Int64 {
	if g, ok := s.pageGens.Load(id); ok {
		return g.(*atomic.Int64)
	}
	g, _ := s.pageGens.LoadOrStore(id, new(atomic.Int64))
	return g.(*atomic.Int64)
}

// Generation increases with every change to public data this process has
// made or heard of: a cache built at an older generation is stale.
func (s *Store) Generation() int64 { return s.generation.Load() }

// PageGeneration increases with every change to the public data of page
// id this process has made or heard of (and with every change that names
// no page): a cache of that page built at an older one is stale. Changes
// to other pages leave it alone.
func (s *Store) PageGeneration(id int64) int64 {
	all := s.allPages.Load()
	if g, ok := s.pageGens.Load(id); ok {
		return all + g.(*atomic.Int64).Load()
	}
	return all
}

// notifyChanged tells other replicas, when tx commits, that public data
// of the pages c names (every page when c is nil or names none) changed.
func notifyChanged(tx *gorm.DB, c *changedPages) error {
	if tx.Dialector.Name() != "postgres" {
		return nil
	}
	if err := tx.Exec("SELECT pg_notify(?, ?)", ChangesChannel, c.payload()).Error; err != nil {
		return fmt.Errorf("notify %s: %w", ChangesChannel, err)
	}
	return nil
}

// published announces a change made outside write: to this process, and
// on PostgreSQL to the other replicas.
func (s *Store) published(ctx context.Context) {
	s.afterCommit(ctx, func() { s.markChanged(nil) })
	_ = notifyChanged(s.conn(ctx), nil) // best effort: replicas also rebuild on a timer
}

// Changed is signalled, in this process, after a commit that may change
// what the public page shows. Other processes learn it from PostgreSQL
// NOTIFY on ChangesChannel (see Listen).
func (s *Store) Changed() <-chan struct{} { return s.changed.C() }

// DeliveriesDue is signalled, in this process, when deliveries may have
// become due. Other processes learn it from PostgreSQL NOTIFY on
// DeliveriesChannel.
func (s *Store) DeliveriesDue() <-chan struct{} { return s.wake.C() }

// Wake signals DeliveriesDue, for callers that learned of new work
// another way (a PostgreSQL notification).
func (s *Store) Wake() { s.wake.Notify() }

// DSN is the URL the store was opened with (for a notification listener).
func (s *Store) DSN() string { return s.dsn }

// Engine reports which database the store talks to.
func (s *Store) Engine() Engine { return s.engine }

// Now is the store's clock, in UTC.
func (s *Store) Now() time.Time { return s.now().UTC() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// SQLDB exposes the pool, for tests and metrics.
func (s *Store) SQLDB() (*sql.DB, error) { return s.db.DB() }

// Close releases the connection pool.
func (s *Store) Close() error {
	if s.reader != nil {
		if readDB, err := s.reader.DB(); err == nil {
			readDB.Close()
		}
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// ServerVersion returns the database engine's version string.
func (s *Store) ServerVersion(ctx context.Context) (string, error) {
	q := "SELECT sqlite_version()"
	if s.engine == Postgres {
		q = "SHOW server_version"
	}
	var v string
	if err := s.conn(ctx).Raw(q).Scan(&v).Error; err != nil {
		return "", fmt.Errorf("read server version: %w", err)
	}
	return v, nil
}

// BaseURL is the public URL used in links inside event data.
func (s *Store) BaseURL() string { return s.baseURL }
