// Package schedule runs time-driven work: it moves maintenance windows to
// in_progress and completed on time.
package schedule

import (
	"context"
	"log/slog"
	"time"

	"github.com/heraldstatus/herald/models"
)

// Scheduler polls the database for due maintenance transitions. Polling
// every second keeps transitions within two seconds of their time and needs
// no coordination: the store's conditional updates make each transition
// happen exactly once however many replicas poll.
type Scheduler struct {
	store    *models.Store
	logger   *slog.Logger
	interval time.Duration
	// OnChange, if set, is called after a pass that changed something.
	onChange func()
}

// New returns a scheduler polling every interval (default one second).
func New(store *models.Store, logger *slog.Logger, interval time.Duration, onChange func()) *Scheduler {
	if interval <= 0 {
		interval = time.Second
	}
	return &Scheduler{store: store, logger: logger, interval: interval, onChange: onChange}
}

// Run passes once at once (catching up on anything missed while the
// process was down), then every interval until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		s.pass(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// passTimeout bounds one pass, so a database that stalls delays the
// transitions without hanging the scheduler; the next pass catches up.
const passTimeout = 30 * time.Second

func (s *Scheduler) pass(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, passTimeout)
	defer cancel()
	tr, err := s.store.RunMaintenanceTransitions(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.logger.Error("maintenance transitions failed", "error", err)
		}
		return
	}
	if tr.Started > 0 || tr.Completed > 0 {
		s.logger.Info("maintenance transitions", "started", tr.Started, "completed", tr.Completed)
		if s.onChange != nil {
			s.onChange()
		}
	}
}
