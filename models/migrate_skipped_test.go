package models_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

// TestMigrationSkippedStateKeepsDeliveries applies migration 0008 (the
// 'skipped' state; on SQLite a rebuild of the deliveries table) to a
// database holding deliveries and attempts: every row stays, the
// foreign keys still hold both ways, and the new state is accepted, an
// unknown one still refused.
func TestMigrationSkippedStateKeepsDeliveries(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		db, err := s.SQLDB()
		modelstest.Fatal(t, err, "sql db")
		c := newChannel(t, s, models.ChannelInput{Name: "Receiver"})
		for _, name := range []string{"API", "Web"} {
			_, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: name, Status: models.StatusOperational})
			modelstest.Fatal(t, err, "component")
		}
		claimed, err := s.ClaimDeliveries(ctx, models.ClaimOptions{Limit: 1, Lease: time.Minute})
		modelstest.Fatal(t, err, "claim")
		if len(claimed) != 1 {
			t.Fatalf("claimed %d", len(claimed))
		}
		modelstest.Fatal(t, s.RecordAttempt(ctx, &claimed[0], models.AttemptResult{State: models.DeliveryRetrying,
			NextAt: s.Now().Add(time.Minute), Attempt: models.DeliveryAttempt{Number: 1, StartedAt: s.Now(),
				RequestURL: "https://x", RequestHeaders: "{}", RequestBody: "{}", ResponseStatus: 500, Error: "HTTP 500"}}), "record")
		before, err := s.Deliveries(ctx, models.DeliveryFilter{})
		modelstest.Fatal(t, err, "deliveries")

		// Apply 0008 again, to the database as it now is.
		_, err = db.ExecContext(ctx, "DELETE FROM schema_migrations WHERE version = 8")
		modelstest.Fatal(t, err, "forget 0008")
		applied, err := s.Migrate(ctx)
		modelstest.Fatal(t, err, "migrate")
		if len(applied) != 1 || applied[0] != "0008_skipped_deliveries.sql" {
			t.Fatalf("applied %v, want 0008 once more", applied)
		}

		after, err := s.Deliveries(ctx, models.DeliveryFilter{})
		modelstest.Fatal(t, err, "deliveries")
		if len(after) != len(before) {
			t.Fatalf("%d deliveries before, %d after", len(before), len(after))
		}
		for i := range before {
			b, a := before[i], after[i]
			if a.ID != b.ID || a.State != b.State || a.Attempts != b.Attempts || *a.EventID != *b.EventID ||
				!equalDue(a.DueAt, b.DueAt) || a.LastError != b.LastError || !a.CreatedAt.Equal(b.CreatedAt) {
				t.Errorf("delivery changed by the migration:\n before %+v\n after  %+v", b, a)
			}
		}
		atts, err := s.DeliveryAttempts(ctx, claimed[0].ID)
		modelstest.Fatal(t, err, "attempts")
		if len(atts) != 1 || atts[0].ResponseStatus != 500 {
			t.Fatalf("attempts after the migration: %+v", atts)
		}

		if s.Engine() == models.SQLite {
			var on int
			modelstest.Fatal(t, db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&on), "pragma")
			if on != 1 {
				t.Error("foreign keys are still off after the migration")
			}
		}
		_, err = db.ExecContext(ctx, `INSERT INTO delivery_attempts (delivery_id, number, started_at, duration_ms,
  request_url, request_headers, request_body, outcome) VALUES ('dlv_nope', 1, CURRENT_TIMESTAMP, 0, '', '', '', 'failed')`)
		if err == nil {
			t.Error("an attempt of a delivery that does not exist was stored: the foreign key is gone")
		}
		_, err = db.ExecContext(ctx, "UPDATE deliveries SET state = 'skipped', due_at = NULL WHERE id = "+placeholder(s, 1), after[0].ID)
		modelstest.Fatal(t, err, "state skipped")
		_, err = db.ExecContext(ctx, "UPDATE deliveries SET state = 'lost' WHERE id = "+placeholder(s, 1), after[0].ID)
		if err == nil {
			t.Error("state 'lost' was accepted: the CHECK constraint is gone")
		}
		// Deleting the channel still takes its deliveries and their attempts.
		modelstest.Fatal(t, s.DeleteChannel(ctx, c.ID), "delete channel")
		var left int
		modelstest.Fatal(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM delivery_attempts").Scan(&left), "count")
		if left != 0 {
			t.Errorf("%d attempts left after their channel was deleted: ON DELETE CASCADE is gone", left)
		}
	})
}

func equalDue(a, b *int64) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func placeholder(s *models.Store, n int) string {
	if s.Engine() == models.Postgres {
		return "$" + itoa(int64(n))
	}
	return "?"
}

// TestDeliveriesColumnsSameOnBothEngines guards the SQLite rebuild of
// the deliveries table (migration 0008 copies the columns by name): a
// column added by another migration on both engines must survive it.
func TestDeliveriesColumnsSameOnBothEngines(t *testing.T) {
	modelstest.RequirePostgres(t)
	ctx := context.Background()
	columns := func(s *models.Store, query string) []string {
		db, err := s.SQLDB()
		modelstest.Fatal(t, err, "sql db")
		rows, err := db.QueryContext(ctx, query)
		modelstest.Fatal(t, err, "columns")
		defer rows.Close()
		var out []string
		for rows.Next() {
			var name string
			modelstest.Fatal(t, rows.Scan(&name), "scan")
			out = append(out, name)
		}
		slices.Sort(out)
		return out
	}
	liteStore, pgStore := modelstest.Open(t, models.SQLite), modelstest.Open(t, models.Postgres)
	lite := columns(liteStore, "SELECT name FROM pragma_table_info('deliveries')")
	pg := columns(pgStore,
		"SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'deliveries'")
	if !slices.Equal(lite, pg) || len(lite) == 0 {
		t.Errorf("deliveries columns differ:\n sqlite   %v\n postgres %v", lite, pg)
	}
	// The SQLite rebuild must recreate every index the earlier migrations
	// made (the primary key and unique constraints aside).
	liteIdx := columns(liteStore, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'deliveries' AND name NOT LIKE 'sqlite_autoindex%'")
	pgIdx := columns(pgStore, `SELECT i.indexname FROM pg_indexes i
WHERE i.schemaname = current_schema() AND i.tablename = 'deliveries'
AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`)
	if !slices.Equal(liteIdx, pgIdx) || len(liteIdx) == 0 {
		t.Errorf("deliveries indexes differ:\n sqlite   %v\n postgres %v", liteIdx, pgIdx)
	}
}
