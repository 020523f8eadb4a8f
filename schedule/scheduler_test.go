package schedule_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/schedule"
)

// The scheduler moves a real window on the real clock, within two seconds
// of its start and end.
func TestSchedulerMovesWindowsOnTime(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		api, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Status: models.StatusOperational})
		modelstest.Fatal(t, err, "component")
		start := time.Now().Add(1500 * time.Millisecond)
		end := start.Add(1500 * time.Millisecond)
		_, err = s.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "t", ComponentIDs: []int64{api.ID},
			WindowStart: start, WindowEnd: end, SetMaintenance: true})
		modelstest.Fatal(t, err, "schedule")
		changes := make(chan struct{}, 8)
		sched := schedule.New(s, slog.New(slog.NewTextHandler(io.Discard, nil)), 200*time.Millisecond, func() { changes <- struct{}{} })
		done := make(chan struct{})
		go func() { sched.Run(ctx); close(done) }()

		waitStatus := func(want models.ComponentStatus, due time.Time) {
			t.Helper()
			deadline := time.After(time.Until(due) + 2*time.Second)
			for {
				select {
				case <-changes:
					c, err := s.Component(ctx, api.ID)
					modelstest.Fatal(t, err, "component")
					if c.Status == want {
						if time.Now().Before(due) {
							t.Fatalf("status %s before its time", want)
						}
						return
					}
				case <-deadline:
					t.Fatalf("component not %s within 2 s of %v", want, due)
				}
			}
		}
		waitStatus(models.StatusUnderMaintenance, start)
		waitStatus(models.StatusOperational, end)
		cancel()
		<-done
	})
}
