package models_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

func TestMaintenanceTransitionsRestoreStatuses(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		api, _ := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Visible: true, Status: models.StatusDegradedPerformance})
		db, _ := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "Database", Visible: true, Status: models.StatusOperational})
		m, err := s.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{
			Title: "Upgrade", Message: "New **version**.", ComponentIDs: []int64{api.ID, db.ID, db.ID},
			WindowStart: t0.Add(time.Hour), WindowEnd: t0.Add(2 * time.Hour), SetMaintenance: true})
		modelstest.Fatal(t, err, "schedule")
		var d models.MaintenanceData
		lastEvent(t, s, models.EventMaintenanceScheduled, &d)
		if d.ID != m.ID || d.Status != "scheduled" || len(d.Components) != 2 || !d.WindowStart.Equal(t0.Add(time.Hour)) ||
			d.URL != "https://status.example.com/maintenance/"+itoa(m.ID) || d.Message != "New **version**." {
			t.Fatalf("maintenance.scheduled = %+v", d)
		}

		// Not yet due.
		tr, err := s.RunMaintenanceTransitions(ctx)
		modelstest.Fatal(t, err, "early pass")
		if tr != (models.Transitions{}) {
			t.Fatalf("early pass did %+v", tr)
		}
		clock.Set(t0.Add(time.Hour))
		tr, err = s.RunMaintenanceTransitions(ctx)
		modelstest.Fatal(t, err, "start pass")
		if tr.Started != 1 {
			t.Fatalf("start pass did %+v", tr)
		}
		lastEvent(t, s, models.EventMaintenanceStarted, &d)
		if d.Status != "in_progress" {
			t.Fatalf("maintenance.started = %+v", d)
		}
		for _, id := range []int64{api.ID, db.ID} {
			if c, _ := s.Component(ctx, id); c.Status != models.StatusUnderMaintenance {
				t.Fatalf("%s during window: %s", c.Name, c.Status)
			}
		}
		// An incident takes the database down during the window: its status wins.
		clock.Add(10 * time.Minute)
		_, err = s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "DB down", Status: models.IncidentInvestigating,
			Message: "m", Components: map[int64]models.ComponentStatus{db.ID: models.StatusMajorOutage}})
		modelstest.Fatal(t, err, "incident")

		clock.Set(t0.Add(2 * time.Hour))
		tr, err = s.RunMaintenanceTransitions(ctx)
		modelstest.Fatal(t, err, "end pass")
		if tr.Completed != 1 {
			t.Fatalf("end pass did %+v", tr)
		}
		lastEvent(t, s, models.EventMaintenanceCompleted, &d)
		if d.Status != "completed" {
			t.Fatalf("maintenance.completed = %+v", d)
		}
		if c, _ := s.Component(ctx, api.ID); c.Status != models.StatusDegradedPerformance {
			t.Fatalf("API after window: %s, want its previous degraded_performance", c.Status)
		}
		if c, _ := s.Component(ctx, db.ID); c.Status != models.StatusMajorOutage {
			t.Fatalf("Database after window: %s, want the incident's major_outage", c.Status)
		}
		hist, _ := s.StatusChanges(ctx, api.ID)
		if last := hist[len(hist)-1]; last.Source != models.SourceMaintenance || *last.SourceID != m.ID {
			t.Fatalf("restore recorded as %+v", last)
		}
		// Idempotent: a further pass does nothing.
		if tr, _ := s.RunMaintenanceTransitions(ctx); tr != (models.Transitions{}) {
			t.Fatalf("extra pass did %+v", tr)
		}
	})
}

func TestMaintenanceValidationAndCancel(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		ok := models.MaintenanceInput{Title: "t", WindowStart: t0.Add(time.Hour), WindowEnd: t0.Add(2 * time.Hour)}
		for _, tc := range []struct {
			name  string
			edit  func(*models.MaintenanceInput)
			field string
		}{
			{"end before start", func(in *models.MaintenanceInput) { in.WindowEnd = t0.Add(30 * time.Minute) }, "window_end"},
			{"already ended", func(in *models.MaintenanceInput) {
				in.WindowStart, in.WindowEnd = t0.Add(-2*time.Hour), t0.Add(-time.Hour)
			}, "window_end"},
			{"empty title", func(in *models.MaintenanceInput) { in.Title = "" }, "title"},
			{"unknown component", func(in *models.MaintenanceInput) { in.ComponentIDs = []int64{4242} }, "components"},
			{"missing start", func(in *models.MaintenanceInput) { in.WindowStart = time.Time{} }, "window_start"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				in := ok
				tc.edit(&in)
				_, err := s.ScheduleMaintenance(ctx, models.DefaultPageID, in)
				assertFieldError(t, err, tc.field)
			})
		}
		if ms, _ := s.Maintenances(ctx, models.DefaultPageID, models.MaintenanceFilter{}); len(ms) != 0 {
			t.Fatalf("invalid input wrote %d windows", len(ms))
		}
		if evs := countEvents(t, s); len(evs) != 0 {
			t.Fatalf("invalid input wrote events %v", evs)
		}
		m, err := s.ScheduleMaintenance(ctx, models.DefaultPageID, ok)
		modelstest.Fatal(t, err, "schedule")
		modelstest.Fatal(t, s.CancelMaintenance(ctx, m.ID), "cancel")
		if err := s.CancelMaintenance(ctx, m.ID); err == nil {
			t.Fatal("cancelled twice")
		}
		clock.Add(3 * time.Hour)
		if tr, _ := s.RunMaintenanceTransitions(ctx); tr != (models.Transitions{}) {
			t.Fatalf("cancelled window transitioned: %+v", tr)
		}
	})
}

func TestMaintenanceCatchUpAfterDowntime(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		api, _ := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Status: models.StatusOperational})
		_, err := s.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "t", ComponentIDs: []int64{api.ID},
			WindowStart: t0.Add(time.Hour), WindowEnd: t0.Add(2 * time.Hour), SetMaintenance: true})
		modelstest.Fatal(t, err, "schedule")
		// The process was down through the whole window.
		clock.Set(t0.Add(5 * time.Hour))
		tr, err := s.RunMaintenanceTransitions(ctx)
		modelstest.Fatal(t, err, "catch-up")
		if tr.Started != 1 || tr.Completed != 1 {
			t.Fatalf("catch-up did %+v, want start and complete", tr)
		}
		got := countEvents(t, s)
		if got[models.EventMaintenanceStarted] != 1 || got[models.EventMaintenanceCompleted] != 1 {
			t.Fatalf("events = %v", got)
		}
		if c, _ := s.Component(ctx, api.ID); c.Status != models.StatusOperational {
			t.Fatalf("component after catch-up: %s", c.Status)
		}
	})
}

// Two Herald processes on one PostgreSQL database race for every
// transition; each must happen exactly once.
func TestMaintenanceTransitionsExactlyOnceAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	url := modelstest.NewDatabaseURL(t, models.Postgres)
	clock := modelstest.NewClock(t0)
	var stores [2]*models.Store
	for i := range stores {
		s, err := models.Open(ctx, url, models.Options{Now: clock.Now})
		modelstest.Fatal(t, err, "open store %d", i)
		t.Cleanup(func() { s.Close() })
		_, err = s.Migrate(ctx)
		modelstest.Fatal(t, err, "migrate %d", i)
		stores[i] = s
	}
	s := stores[0]
	api, _ := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Status: models.StatusOperational})
	race := func() {
		var wg sync.WaitGroup
		for _, st := range stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := st.RunMaintenanceTransitions(ctx); err != nil {
					t.Errorf("transition pass: %v", err)
				}
			}()
		}
		wg.Wait()
	}
	const rounds = 50
	for i := 0; i < rounds; i++ {
		start := clock.Now().Add(time.Minute)
		_, err := s.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "t", ComponentIDs: []int64{api.ID},
			WindowStart: start, WindowEnd: start.Add(time.Minute), SetMaintenance: true})
		modelstest.Fatal(t, err, "schedule %d", i)
		clock.Set(start)
		race()
		clock.Set(start.Add(time.Minute))
		race()
	}
	got := countEvents(t, s)
	if got[models.EventMaintenanceStarted] != rounds || got[models.EventMaintenanceCompleted] != rounds {
		t.Fatalf("events = %v, want %d started and %d completed", got, rounds, rounds)
	}
	// Per round: under_maintenance, then back to operational.
	if got[models.EventComponentStatusChanged] != 2*rounds {
		t.Fatalf("component.status_changed = %d, want %d", got[models.EventComponentStatusChanged], 2*rounds)
	}
	hist, _ := s.StatusChanges(ctx, api.ID)
	if len(hist) != 1+2*rounds {
		t.Fatalf("history has %d rows, want %d", len(hist), 1+2*rounds)
	}
}
