package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/heraldstatus/herald/migrations"
	"gorm.io/gorm"
)

// migrationLockID is the PostgreSQL advisory lock that keeps two replicas
// starting at once from applying the same migration twice.
const migrationLockID = 7_346_001

type migration struct {
	version int
	name    string
	sql     string
}

func (s *Store) migrations() ([]migration, error) {
	dir := string(s.engine)
	entries, err := fs.ReadDir(migrations.FS, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations %s: %w", dir, err)
	}
	var out []migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and an underscore", name)
		}
		body, err := fs.ReadFile(migrations.FS, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		out = append(out, migration{version: version, name: name, sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// Migrate applies every migration not yet recorded in schema_migrations and
// returns the names of those it applied.
func (s *Store) Migrate(ctx context.Context) ([]string, error) {
	all, err := s.migrations()
	if err != nil {
		return nil, err
	}
	db := s.conn(ctx)
	if s.engine == Postgres {
		// A session-level lock needs one connection for lock, work and unlock.
		conn, err := db.DB()
		if err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		c, err := conn.Conn(ctx)
		if err != nil {
			return nil, fmt.Errorf("migrate: acquire connection: %w", err)
		}
		defer c.Close()
		// Waiting for another replica's migrations may take longer than
		// statement_timeout allows a request.
		if _, err := c.ExecContext(ctx, "SET statement_timeout = 0"); err != nil {
			return nil, fmt.Errorf("migrate: lift statement_timeout: %w", err)
		}
		defer c.ExecContext(context.WithoutCancel(ctx), "RESET statement_timeout")
		if _, err := c.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLockID); err != nil {
			return nil, fmt.Errorf("migrate: take lock: %w", err)
		}
		defer c.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLockID)
	}
	create := `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`
	if err := db.Exec(create).Error; err != nil {
		return nil, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	var versions []int
	if err := db.Raw("SELECT version FROM schema_migrations").Scan(&versions).Error; err != nil {
		return nil, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	for _, v := range versions {
		applied[v] = true
	}
	var done []string
	for _, m := range all {
		if applied[m.version] {
			continue
		}
		var err error
		if s.engine == SQLite {
			err = s.applySQLite(ctx, m)
		} else {
			err = db.Transaction(func(tx *gorm.DB) error {
				// A migration may rewrite a large table: no time limit.
				if err := tx.Exec("SET LOCAL statement_timeout = 0").Error; err != nil {
					return err
				}
				if err := tx.Exec(m.sql).Error; err != nil {
					return err
				}
				return tx.Exec("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", m.version, m.name).Error
			})
		}
		if err != nil {
			return done, fmt.Errorf("migrate: apply %s: %w", m.name, err)
		}
		done = append(done, m.name)
	}
	return done, nil
}

// MigrationsPending reports how many known migrations are not yet applied.
func (s *Store) MigrationsPending(ctx context.Context) (int, error) {
	all, err := s.migrations()
	if err != nil {
		return 0, err
	}
	var versions []int
	if err := s.conn(ctx).Raw("SELECT version FROM schema_migrations").Scan(&versions).Error; err != nil {
		return len(all), fmt.Errorf("read schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	for _, v := range versions {
		applied[v] = true
	}
	pending := 0
	for _, m := range all {
		if !applied[m.version] {
			pending++
		}
	}
	return pending, nil
}

// applySQLite applies one SQLite migration in a transaction with foreign
// keys off, as SQLite's guide to schema changes asks
// (https://www.sqlite.org/lang_altertable.html#otheralter): a migration
// may rebuild a table, and with foreign keys on, dropping the old table
// would delete the rows that reference it (ON DELETE CASCADE). The
// foreign keys are checked before the commit, so a migration cannot
// leave a dangling reference. The pragma only works outside a
// transaction, and on one connection, so the migration holds one.
func (s *Store) applySQLite(ctx context.Context, m migration) (err error) {
	pool, err := s.db.DB()
	if err != nil {
		return err
	}
	conn, err := pool.Conn(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
		return fmt.Errorf("turn foreign keys off: %w", err)
	}
	defer func() {
		if _, onErr := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON"); onErr != nil && err == nil {
			err = fmt.Errorf("turn foreign keys back on: %w", onErr)
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // nothing to undo after Commit
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return fmt.Errorf("check foreign keys: %w", err)
	}
	var dangling []string
	for rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			rows.Close()
			return fmt.Errorf("check foreign keys: %w", err)
		}
		dangling = append(dangling, fmt.Sprintf("%s row %d → %s", table, rowid.Int64, parent))
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("check foreign keys: %w", err)
	}
	if len(dangling) > 0 {
		return fmt.Errorf("the migration leaves %d rows with dangling foreign keys: %s", len(dangling), strings.Join(dangling[:min(len(dangling), 5)], ", "))
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", m.version, m.name); err != nil {
		return err
	}
	return tx.Commit()
}
