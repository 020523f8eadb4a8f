package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

// A window's iCalendar SEQUENCE rises with every change a calendar
// shows (edit, new end, cancellation, early end) and with nothing else:
// an update that leaves the times alone and the scheduler's own
// transitions keep it.
func TestMaintenanceSequenceRisesWithEveryChange(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := models.WithActor(context.Background(), auditAdmin)
		sequence := func(id int64) int {
			t.Helper()
			m, err := s.Maintenance(ctx, id)
			modelstest.Fatal(t, err, "load maintenance %d", id)
			return m.Sequence
		}
		in := models.MaintenanceInput{Title: "Upgrade", WindowStart: t0.Add(time.Hour), WindowEnd: t0.Add(2 * time.Hour)}
		edited, err := s.ScheduleMaintenance(ctx, models.DefaultPageID, in)
		modelstest.Fatal(t, err, "schedule")
		if edited.Sequence != 0 || sequence(edited.ID) != 0 {
			t.Fatalf("a new window has sequence %d", sequence(edited.ID))
		}
		in.Title = "Upgrade, now with more disks"
		_, err = s.UpdateMaintenance(ctx, edited.ID, in)
		modelstest.Fatal(t, err, "edit")
		_, err = s.UpdateMaintenance(ctx, edited.ID, in)
		modelstest.Fatal(t, err, "edit again")
		if got := sequence(edited.ID); got != 2 {
			t.Fatalf("after two edits: sequence %d, want 2", got)
		}
		modelstest.Fatal(t, s.CancelMaintenance(ctx, edited.ID), "cancel")
		if got := sequence(edited.ID); got != 3 {
			t.Fatalf("after cancelling: sequence %d, want 3", got)
		}
		// A refused change raises nothing.
		if err := s.CancelMaintenance(ctx, edited.ID); err == nil {
			t.Fatal("cancelled a cancelled window")
		}
		if got := sequence(edited.ID); got != 3 {
			t.Fatalf("after a refused cancel: sequence %d, want 3", got)
		}

		running, err := s.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "Migration",
			WindowStart: t0.Add(time.Hour), WindowEnd: t0.Add(2 * time.Hour)})
		modelstest.Fatal(t, err, "schedule")
		clock.Set(t0.Add(time.Hour))
		_, err = s.RunMaintenanceTransitions(ctx)
		modelstest.Fatal(t, err, "start")
		_, err = s.PostMaintenanceUpdate(ctx, running.ID, models.MaintenanceUpdateInput{Message: "Half way."})
		modelstest.Fatal(t, err, "post update")
		if got := sequence(running.ID); got != 0 {
			t.Fatalf("after starting and a message: sequence %d, want 0", got)
		}
		end := t0.Add(3 * time.Hour)
		_, err = s.PostMaintenanceUpdate(ctx, running.ID, models.MaintenanceUpdateInput{WindowEnd: &end})
		modelstest.Fatal(t, err, "extend")
		if got := sequence(running.ID); got != 1 {
			t.Fatalf("after extending: sequence %d, want 1", got)
		}
		clock.Set(t0.Add(90 * time.Minute))
		modelstest.Fatal(t, s.EndMaintenanceNow(ctx, running.ID), "end now")
		m, err := s.Maintenance(ctx, running.ID)
		modelstest.Fatal(t, err, "load")
		if m.Sequence != 2 || m.Status != models.MaintenanceCompleted {
			t.Fatalf("after ending early: sequence %d, status %s; want 2, completed", m.Sequence, m.Status)
		}
	})
}
