package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

// An overrunning window is extended while in progress: the scheduler
// leaves it running at the old end and completes it, restoring its
// components, at the new one.
func TestExtendMaintenanceInProgress(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := models.WithActor(context.Background(), auditAdmin)
		c, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "DB", Visible: true, Status: models.StatusDegradedPerformance})
		modelstest.Fatal(t, err, "component")
		m, err := s.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "Upgrade", ComponentIDs: []int64{c.ID},
			WindowStart: t0.Add(time.Hour), WindowEnd: t0.Add(2 * time.Hour), SetMaintenance: true})
		modelstest.Fatal(t, err, "schedule")
		clock.Set(t0.Add(time.Hour))
		tr, err := s.RunMaintenanceTransitions(ctx)
		modelstest.Fatal(t, err, "start")
		if tr.Started != 1 {
			t.Fatalf("transitions %+v, want one start", tr)
		}
		events := countEvents(t, s)

		// Silently: no event; the new end is stored and audited.
		clock.Set(t0.Add(110 * time.Minute))
		newEnd := t0.Add(3 * time.Hour)
		got, err := s.PostMaintenanceUpdate(ctx, m.ID, models.MaintenanceUpdateInput{WindowEnd: &newEnd, Message: "Taking longer: the index rebuild is slow."})
		modelstest.Fatal(t, err, "extend")
		if !got.WindowEnd.Equal(newEnd) || got.Status != models.MaintenanceInProgress || len(got.Updates) != 1 ||
			got.Updates[0].Status != models.MaintenanceInProgress || !strings.Contains(got.Updates[0].Message, "index rebuild") {
			t.Fatalf("after extending: %+v", got)
		}
		if now := countEvents(t, s); len(now) != len(events) || now[models.EventMaintenanceUpdated] != 0 {
			t.Fatalf("a silent extension fired events: %v → %v", events, now)
		}
		rows := newAuditRows(t, s, auditCount(t, s)-1)
		if rows[0].Action != "maintenance.extend" || rows[0].ActorName != auditAdmin.Name ||
			!strings.Contains(rows[0].Summary, "to "+newEnd.Format("2006-01-02 15:04")) || !strings.Contains(rows[0].Before, "T14:00:00Z") {
			t.Fatalf("audit row %+v", rows[0])
		}

		// The old end passes: still in progress, components still under maintenance.
		clock.Set(t0.Add(2*time.Hour + time.Minute))
		tr, err = s.RunMaintenanceTransitions(ctx)
		modelstest.Fatal(t, err, "tick at the old end")
		cur, err := s.Component(ctx, c.ID)
		modelstest.Fatal(t, err, "component")
		if tr.Completed != 0 || cur.Status != models.StatusUnderMaintenance || countEvents(t, s)[models.EventMaintenanceCompleted] != 0 {
			t.Fatalf("at the old end: %+v, component %s — the scheduler acted on the old end", tr, cur.Status)
		}

		// With Notify: one maintenance.updated carrying the update.
		_, err = s.PostMaintenanceUpdate(ctx, m.ID, models.MaintenanceUpdateInput{Message: "Almost done.", Notify: true})
		modelstest.Fatal(t, err, "update, notify")
		var data models.MaintenanceData
		lastEvent(t, s, models.EventMaintenanceUpdated, &data)
		if data.Message != "Almost done." || !data.WindowEnd.Equal(newEnd) || data.Status != "in_progress" || len(data.Components) != 1 {
			t.Fatalf("maintenance.updated = %+v", data)
		}

		// The new end: completed, component restored, announced once.
		clock.Set(newEnd)
		tr, err = s.RunMaintenanceTransitions(ctx)
		modelstest.Fatal(t, err, "tick at the new end")
		cur, err = s.Component(ctx, c.ID)
		modelstest.Fatal(t, err, "component")
		lastEvent(t, s, models.EventMaintenanceCompleted, &data)
		if tr.Completed != 1 || cur.Status != models.StatusDegradedPerformance || !data.WindowEnd.Equal(newEnd) {
			t.Fatalf("at the new end: %+v, component %s, event %+v", tr, cur.Status, data)
		}
		final, err := s.Maintenance(ctx, m.ID)
		modelstest.Fatal(t, err, "load")
		if len(final.Updates) != 2 || final.Updates[0].Message != "Almost done." {
			t.Fatalf("updates %+v, want two, newest first", final.Updates)
		}
	})
}

// Updates can be posted to a scheduled window too; its end is changed by
// editing it, not here.
func TestPostUpdateToScheduledMaintenance(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, _ *modelstest.Clock) {
		ctx := context.Background()
		m, err := s.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "Upgrade",
			WindowStart: t0.Add(time.Hour), WindowEnd: t0.Add(2 * time.Hour)})
		modelstest.Fatal(t, err, "schedule")
		got, err := s.PostMaintenanceUpdate(ctx, m.ID, models.MaintenanceUpdateInput{Message: "Still on."})
		modelstest.Fatal(t, err, "update")
		if len(got.Updates) != 1 || got.Updates[0].Status != models.MaintenanceScheduled {
			t.Fatalf("updates %+v", got.Updates)
		}
		if n := countEvents(t, s)[models.EventMaintenanceUpdated]; n != 0 {
			t.Fatalf("%d maintenance.updated without Notify", n)
		}
	})
}

// Bad updates and extensions are refused and write nothing.
func TestMaintenanceUpdateRefusesBadInput(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		schedule := func(title string, start time.Time) *models.Maintenance {
			m, err := s.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: title, WindowStart: start, WindowEnd: start.Add(time.Hour)})
			modelstest.Fatal(t, err, "schedule %s", title)
			return m
		}
		running := schedule("Running", t0.Add(time.Minute))
		done := schedule("Done", t0.Add(time.Minute))
		cancelled := schedule("Cancelled", t0.Add(time.Hour))
		later := schedule("Later", t0.Add(2*time.Hour))
		modelstest.Fatal(t, s.CancelMaintenance(ctx, cancelled.ID), "cancel")
		clock.Set(t0.Add(2 * time.Minute))
		_, err := s.RunMaintenanceTransitions(ctx)
		modelstest.Fatal(t, err, "start")
		modelstest.Fatal(t, s.EndMaintenanceNow(ctx, done.ID), "end")
		events, audits := countEvents(t, s), auditCount(t, s)

		future, past := t0.Add(5*time.Hour), t0.Add(time.Minute)
		for _, tc := range []struct {
			name  string
			id    int64
			in    models.MaintenanceUpdateInput
			field string
			err   error
		}{
			{"empty message", running.ID, models.MaintenanceUpdateInput{Message: "  "}, "message", nil},
			{"too long", running.ID, models.MaintenanceUpdateInput{Message: strings.Repeat("x", models.MaxMessageLength+1)}, "message", nil},
			{"NUL", running.ID, models.MaintenanceUpdateInput{Message: "a\x00b", WindowEnd: &future}, "message", nil},
			{"end in the past", running.ID, models.MaintenanceUpdateInput{WindowEnd: &past, Notify: true}, "window_end", nil},
			{"end of a window not started", later.ID, models.MaintenanceUpdateInput{WindowEnd: &future}, "", models.ErrMaintenanceState},
			{"completed window", done.ID, models.MaintenanceUpdateInput{Message: "More.", WindowEnd: &future}, "", models.ErrMaintenanceState},
			{"completed window, message only", done.ID, models.MaintenanceUpdateInput{Message: "More."}, "", models.ErrMaintenanceState},
			{"cancelled window", cancelled.ID, models.MaintenanceUpdateInput{Message: "More."}, "", models.ErrMaintenanceState},
			{"unknown window", 99999, models.MaintenanceUpdateInput{Message: "More."}, "", models.ErrNotFound},
		} {
			_, err := s.PostMaintenanceUpdate(ctx, tc.id, tc.in)
			if tc.field != "" {
				fieldError(t, err, tc.field)
			} else if !errors.Is(err, tc.err) {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
			}
		}
		if got := countEvents(t, s); len(got) != len(events) || got[models.EventMaintenanceUpdated] != 0 {
			t.Fatalf("events %v → %v", events, got)
		}
		if auditCount(t, s) != audits {
			t.Fatal("a refused update was audited")
		}
		for _, m := range []*models.Maintenance{running, done, later} {
			got, err := s.Maintenance(ctx, m.ID)
			modelstest.Fatal(t, err, "load")
			if len(got.Updates) != 0 || (m.ID != done.ID && !got.WindowEnd.Equal(m.WindowEnd)) {
				t.Fatalf("%s changed: %+v", m.Title, got)
			}
		}
	})
}
