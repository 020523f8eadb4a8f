package models_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

// A change that rolls back leaves no audit row, and an audit row that
// cannot be written rolls its change back.
func TestAuditRowsCommitWithTheirChange(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := models.WithActor(context.Background(), auditAdmin)
		api, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Status: models.StatusOperational})
		modelstest.Fatal(t, err, "create")
		inc, err := s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "t", Status: models.IncidentInvestigating,
			Message: "m", Components: map[int64]models.ComponentStatus{api.ID: models.StatusMajorOutage}})
		modelstest.Fatal(t, err, "create incident")
		// The resolve fails after its audit row would be written: the
		// event insert is refused.
		execAll(t, s, map[models.Engine][]string{
			models.SQLite: {`CREATE TRIGGER refuse_resolved BEFORE INSERT ON events
				WHEN NEW.type = 'incident.resolved' BEGIN SELECT RAISE(ABORT, 'forced failure'); END`,
				`CREATE TRIGGER refuse_delete_audit BEFORE INSERT ON audit_log
				WHEN NEW.action = 'component.delete' BEGIN SELECT RAISE(ABORT, 'forced audit failure'); END`},
			models.Postgres: {`CREATE FUNCTION refuse_resolved() RETURNS trigger AS $$ BEGIN
					IF NEW.type = 'incident.resolved' THEN RAISE EXCEPTION 'forced failure'; END IF;
					RETURN NEW; END $$ LANGUAGE plpgsql`,
				`CREATE TRIGGER refuse_resolved BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_resolved()`,
				`CREATE FUNCTION refuse_delete_audit() RETURNS trigger AS $$ BEGIN
					IF NEW.action = 'component.delete' THEN RAISE EXCEPTION 'forced audit failure'; END IF;
					RETURN NEW; END $$ LANGUAGE plpgsql`,
				`CREATE TRIGGER refuse_delete_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_delete_audit()`},
		})
		before := auditCount(t, s)
		if _, err := s.ResolveIncident(ctx, inc.ID, "fixed"); err == nil || !strings.Contains(err.Error(), "forced failure") {
			t.Fatalf("resolve err = %v, want the forced failure", err)
		}
		if n := auditCount(t, s); n != before {
			t.Fatalf("rolled-back resolve left %d audit rows", n-before)
		}

		if err := s.DeleteComponent(ctx, api.ID); err == nil || !strings.Contains(err.Error(), "forced audit failure") {
			t.Fatalf("delete err = %v, want the forced audit failure", err)
		}
		if _, err := s.Component(ctx, api.ID); err != nil {
			t.Fatalf("a delete whose audit row failed removed the component: %v", err)
		}

		// Refused input and missing objects write nothing either.
		_, err = s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: " ", Status: models.StatusOperational})
		var ve *models.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("blank name err = %v, want a validation error", err)
		}
		if _, err := s.UpdateGroup(ctx, 999, models.GroupInput{Name: "x"}); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("update missing group err = %v, want ErrNotFound", err)
		}
		if err := s.DeleteIncident(ctx, 999); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("delete missing incident err = %v, want ErrNotFound", err)
		}
		if err := s.SetChannelEnabled(ctx, 999, true); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("enable missing channel err = %v, want ErrNotFound", err)
		}
		if err := s.SetPostmortem(ctx, 999, "x"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("postmortem of missing incident err = %v, want ErrNotFound", err)
		}
		if err := s.CancelMaintenance(ctx, 999); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("cancel missing maintenance err = %v, want ErrNotFound", err)
		}
		m, err := s.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "w",
			WindowStart: t0.Add(time.Hour), WindowEnd: t0.Add(2 * time.Hour)})
		modelstest.Fatal(t, err, "schedule")
		before = auditCount(t, s)
		if err := s.EndMaintenanceNow(ctx, m.ID); !errors.Is(err, models.ErrMaintenanceState) {
			t.Fatalf("end a scheduled window err = %v, want ErrMaintenanceState", err)
		}
		if _, err := s.UpdatePage(ctx, 999, models.PageInput{Name: "x", AccentColor: "blue", TimeZone: "UTC"}); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("update missing page err = %v, want ErrNotFound", err)
		}
		if _, err := s.CreateUser(ctx, models.UserInput{Email: "ops@example.com", Password: "long enough password", Role: models.RoleAdmin}); err != nil {
			t.Fatalf("create user: %v", err)
		}
		before++
		if _, err := s.CreateUser(ctx, models.UserInput{Email: "OPS@example.com", Password: "long enough password", Role: models.RoleAdmin}); !errors.As(err, &ve) {
			t.Fatalf("duplicate user err = %v, want a validation error", err)
		}
		if n := auditCount(t, s); n != before {
			t.Fatalf("refused changes wrote %d audit rows", n-before)
		}
	})
}

// The database itself refuses to change or remove audit rows.
func TestAuditLogIsAppendOnly(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, _ *modelstest.Clock) {
		ctx := models.WithActor(context.Background(), auditAdmin)
		_, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Status: models.StatusOperational})
		modelstest.Fatal(t, err, "create")
		db, err := s.SQLDB()
		modelstest.Fatal(t, err, "db")
		statements := []string{
			"UPDATE audit_log SET summary = 'nothing happened'",
			"UPDATE audit_log SET actor_name = 'someone else' WHERE id = 1",
			"DELETE FROM audit_log",
			"DELETE FROM audit_log WHERE id = 1",
		}
		if s.Engine() == models.Postgres {
			statements = append(statements, "TRUNCATE audit_log")
		}
		for _, q := range statements {
			_, err := db.ExecContext(ctx, q)
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: err = %v, want the append-only refusal", q, err)
			}
		}
		rows, err := s.AuditEntries(ctx, models.AuditFilter{})
		modelstest.Fatal(t, err, "entries")
		if len(rows) != 1 || rows[0].Summary != "Created component “API” (Operational)." || rows[0].ActorName != auditAdmin.Name {
			t.Fatalf("audit rows after the attempts = %+v", rows)
		}
	})
}

func TestAuditFilters(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		alice := models.WithActor(context.Background(), models.UserActor(1, "Alice@example.com", "192.0.2.1"))
		bot := models.WithActor(context.Background(), models.TokenActor(2, "deploy_bot 100%", "192.0.2.2"))
		api, err := s.CreateComponent(alice, models.DefaultPageID, models.ComponentInput{Name: "API", Status: models.StatusOperational})
		modelstest.Fatal(t, err, "create api")
		clock.Add(24 * time.Hour)
		db, err := s.CreateComponent(bot, models.DefaultPageID, models.ComponentInput{Name: "DB", Status: models.StatusOperational})
		modelstest.Fatal(t, err, "create db")
		clock.Add(24 * time.Hour)
		_, err = s.SetComponentStatus(bot, api.ID, models.StatusMajorOutage, models.SourceManual, nil)
		modelstest.Fatal(t, err, "status")
		_, err = s.CreateGroup(alice, models.DefaultPageID, models.GroupInput{Name: "Core"})
		modelstest.Fatal(t, err, "group")
		modelstest.Fatal(t, s.DeleteComponent(alice, db.ID), "delete db")

		day := func(n int) time.Time { return t0.Truncate(24*time.Hour).AddDate(0, 0, n) }
		cases := []struct {
			name string
			f    models.AuditFilter
			want []string // actions, newest first
		}{
			{"everything, newest first", models.AuditFilter{}, []string{"component.delete", "group.create", "component.status", "component.create", "component.create"}},
			{"object type", models.AuditFilter{ObjectType: models.AuditGroup}, []string{"group.create"}},
			{"one object", models.AuditFilter{ObjectType: models.AuditComponent, ObjectID: strconv.FormatInt(api.ID, 10)}, []string{"component.status", "component.create"}},
			{"action", models.AuditFilter{Action: "component.create"}, []string{"component.create", "component.create"}},
			{"actor, any case, any part", models.AuditFilter{ActorName: "ALICE@"}, []string{"component.delete", "group.create", "component.create"}},
			{"actor with LIKE wildcards taken literally", models.AuditFilter{ActorName: "bot 100%"}, []string{"component.status", "component.create"}},
			{"wildcard that matches nothing", models.AuditFilter{ActorName: "%_%"}, nil},
			{"from", models.AuditFilter{From: day(1)}, []string{"component.delete", "group.create", "component.status", "component.create"}},
			{"to (exclusive)", models.AuditFilter{To: day(1)}, []string{"component.create"}},
			{"from and to", models.AuditFilter{From: day(1), To: day(2)}, []string{"component.create"}},
			{"page", models.AuditFilter{Limit: 2, Offset: 1}, []string{"group.create", "component.status"}},
			{"other page", models.AuditFilter{PageID: 2}, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				rows, err := s.AuditEntries(context.Background(), tc.f)
				modelstest.Fatal(t, err, "entries")
				if got := actions(rows); strings.Join(got, " ") != strings.Join(tc.want, " ") {
					t.Fatalf("actions = %v, want %v", got, tc.want)
				}
				if tc.f.Limit == 0 {
					n, err := s.CountAuditEntries(context.Background(), tc.f)
					modelstest.Fatal(t, err, "count")
					if n != int64(len(tc.want)) {
						t.Fatalf("count = %d, want %d", n, len(tc.want))
					}
				}
			})
		}

		rows, err := s.AuditEntries(context.Background(), models.AuditFilter{ObjectType: models.AuditComponent})
		modelstest.Fatal(t, err, "entries")
		for _, r := range rows {
			if exists := r.ObjectID == strconv.FormatInt(api.ID, 10); r.ObjectExists != exists {
				t.Errorf("%s of %s: ObjectExists = %v, want %v", r.Action, r.ObjectID, r.ObjectExists, exists)
			}
		}
		one, err := s.AuditEntry(context.Background(), rows[len(rows)-1].ID)
		modelstest.Fatal(t, err, "entry")
		if one.Action != "component.create" || !one.ObjectExists || one.ActorName != "Alice@example.com" {
			t.Fatalf("entry = %+v", one)
		}
		if _, err := s.AuditEntry(context.Background(), 999); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("missing entry err = %v, want ErrNotFound", err)
		}
	})
}

func execAll(t *testing.T, s *models.Store, byEngine map[models.Engine][]string) {
	t.Helper()
	db, err := s.SQLDB()
	modelstest.Fatal(t, err, "db")
	for _, q := range byEngine[s.Engine()] {
		if _, err := db.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}
