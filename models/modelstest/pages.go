package modelstest

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	_ "github.com/glebarez/go-sqlite" // database/sql driver "sqlite"
	"github.com/heraldstatus/herald/models"
)

// InsertPage adds a page with slug and name to s's database, as a row
// written directly (the admin's page screens are not needed to test the
// public side), and returns it.
func InsertPage(t testing.TB, s *models.Store, slug, name string) *models.Page {
	t.Helper()
	driver, dsn := "pgx", s.DSN()
	if s.Engine() == models.SQLite {
		driver = "sqlite"
		dsn = strings.TrimPrefix(dsn, "sqlite://") + "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
	}
	db, err := sql.Open(driver, dsn)
	Fatal(t, err, "open %s", driver)
	defer db.Close()
	ctx := context.Background()
	var id int64
	err = db.QueryRowContext(ctx, `INSERT INTO pages (slug, name, accent_color, time_zone, created_at, updated_at)
		VALUES ($1, $2, 'blue', 'UTC', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id`, slug, name).Scan(&id)
	Fatal(t, err, "insert page %s", slug)
	p, err := s.Page(ctx, id)
	Fatal(t, err, "load page %s", slug)
	return p
}
