package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Transitions counts what one scheduler pass did.
type Transitions struct {
	Started   int
	Completed int
}

// RunMaintenanceTransitions starts every scheduled window whose start has
// passed and completes every in-progress window whose end has passed. Each
// transition is a conditional UPDATE … WHERE status = <expected> inside the
// transaction that also changes the components and writes the events, so
// with several Herald processes on one database exactly one of them acts.
// A process that was down simply catches up on its first pass.
//
// The audit log records each transition as the scheduler's, whoever calls.
func (s *Store) RunMaintenanceTransitions(ctx context.Context) (Transitions, error) {
	ctx = WithActor(ctx, SchedulerActor())
	var t Transitions
	now := s.Now()
	var due []Maintenance
	if err := s.conn(ctx).Where("status = ? AND window_start <= ?", MaintenanceScheduled, now).
		Order("window_start, id").Find(&due).Error; err != nil {
		return t, fmt.Errorf("find maintenance to start: %w", err)
	}
	for i := range due {
		ok, err := s.startMaintenance(ctx, &due[i], now)
		if err != nil {
			return t, err
		}
		if ok {
			t.Started++
		}
	}
	due = nil
	if err := s.conn(ctx).Where("status = ? AND window_end <= ?", MaintenanceInProgress, now).
		Order("window_end, id").Find(&due).Error; err != nil {
		return t, fmt.Errorf("find maintenance to complete: %w", err)
	}
	for i := range due {
		ok, err := s.completeMaintenance(ctx, &due[i], now)
		if err != nil {
			return t, err
		}
		if ok {
			t.Completed++
		}
	}
	return t, nil
}

func (s *Store) startMaintenance(ctx context.Context, m *Maintenance, now time.Time) (bool, error) {
	won := false
	err := s.write(ctx, func(tx *gorm.DB) error {
		// Conditional update: only one replica wins the transition.
		res := tx.Model(&Maintenance{}).Where("id = ? AND status = ?", m.ID, MaintenanceScheduled).
			Updates(map[string]any{"status": MaintenanceInProgress, "started_at": now, "updated_at": now})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		won = true
		m.Status, m.StartedAt = MaintenanceInProgress, &now
		var links []maintenanceComponent
		if err := tx.Where("maintenance_id = ?", m.ID).Order("component_id").Find(&links).Error; err != nil {
			return err
		}
		for _, l := range links {
			var c Component
			if err := tx.First(&c, l.ComponentID).Error; err != nil {
				return err
			}
			if err := tx.Model(&maintenanceComponent{}).
				Where("maintenance_id = ? AND component_id = ?", m.ID, c.ID).
				Update("previous_status", c.Status).Error; err != nil {
				return err
			}
			if m.SetMaintenance {
				if _, err := s.setComponentStatus(tx, &c, StatusUnderMaintenance, SourceMaintenance, &m.ID); err != nil {
					return err
				}
			}
		}
		if err := s.maintenanceEvent(tx, m, EventMaintenanceStarted, now); err != nil {
			return err
		}
		return audit(ctx, tx, change{PageID: m.PageID, Action: "maintenance.start", ObjectType: AuditMaintenance,
			ObjectID: idString(m.ID), Summary: fmt.Sprintf("Started maintenance “%s”.", m.Title),
			Before: auditMaintenanceState{Status: MaintenanceScheduled},
			After:  auditMaintenanceState{Status: MaintenanceInProgress, StartedAt: &now}})
	})
	if err != nil {
		return false, fmt.Errorf("start maintenance %d: %w", m.ID, err)
	}
	return won, nil
}

func (s *Store) completeMaintenance(ctx context.Context, m *Maintenance, now time.Time) (bool, error) {
	won := false
	err := s.write(ctx, func(tx *gorm.DB) error {
		// Conditional on the end too: an admin may have extended the
		// window since it was found due.
		res := tx.Model(&Maintenance{}).Where("id = ? AND status = ? AND window_end <= ?", m.ID, MaintenanceInProgress, now).
			Updates(map[string]any{"status": MaintenanceCompleted, "completed_at": now, "updated_at": now})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		won = true
		m.Status, m.CompletedAt = MaintenanceCompleted, &now
		if m.SetMaintenance {
			if err := s.restoreComponents(tx, m); err != nil {
				return err
			}
		}
		if err := s.maintenanceEvent(tx, m, EventMaintenanceCompleted, now); err != nil {
			return err
		}
		return audit(ctx, tx, change{PageID: m.PageID, Action: "maintenance.complete", ObjectType: AuditMaintenance,
			ObjectID: idString(m.ID), Summary: fmt.Sprintf("Completed maintenance “%s”.", m.Title),
			Before: auditMaintenanceState{Status: MaintenanceInProgress},
			After:  auditMaintenanceState{Status: MaintenanceCompleted, CompletedAt: &now}})
	})
	if err != nil {
		return false, fmt.Errorf("complete maintenance %d: %w", m.ID, err)
	}
	return won, nil
}

// restoreComponents puts each component back to its status before the
// window, unless an incident changed it during the window: then the
// incident's status stands.
func (s *Store) restoreComponents(tx *gorm.DB, m *Maintenance) error {
	var links []maintenanceComponent
	if err := tx.Where("maintenance_id = ?", m.ID).Order("component_id").Find(&links).Error; err != nil {
		return err
	}
	since := m.WindowStart
	if m.StartedAt != nil {
		since = *m.StartedAt
	}
	for _, l := range links {
		var c Component
		if err := tx.First(&c, l.ComponentID).Error; err != nil {
			return err
		}
		var byIncident int64
		if err := tx.Model(&StatusChange{}).
			Where("component_id = ? AND source = ? AND changed_at >= ?", c.ID, SourceIncident, since).
			Count(&byIncident).Error; err != nil {
			return err
		}
		if byIncident > 0 || c.Status != StatusUnderMaintenance || !l.PreviousStatus.Valid() {
			continue
		}
		if _, err := s.setComponentStatus(tx, &c, l.PreviousStatus, SourceMaintenance, &m.ID); err != nil {
			return err
		}
	}
	return nil
}
