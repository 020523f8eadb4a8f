package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// MaintenanceUpdate is an entry of a maintenance window's timeline.
type MaintenanceUpdate struct {
	ID            int64
	MaintenanceID int64
	Status        MaintenanceStatus // the window's status when posted
	Message       string
	CreatedAt     time.Time
}

// MaintenanceUpdateInput posts an update to a maintenance window and, for
// a window in progress, may move its end.
type MaintenanceUpdateInput struct {
	// Message is required unless WindowEnd moves the end.
	Message string `text:"multiline"`
	// WindowEnd, when set, is the new end of a window in progress: the
	// scheduler completes it then, not at the old end.
	WindowEnd *time.Time
	// Notify announces it to channels as maintenance.updated.
	Notify bool
}

type auditMaintenanceUpdate struct {
	Status    MaintenanceStatus `json:"status"`
	WindowEnd time.Time         `json:"window_end"`
	Message   string            `json:"message,omitempty"`
}

// PostMaintenanceUpdate adds an update to a scheduled or in-progress
// window and, when in.WindowEnd is set, moves the end of a window in
// progress (an overrunning one is extended; an earlier end that has
// passed completes it at the scheduler's next pass). The update row, the
// new end, the audit row and, with in.Notify, a maintenance.updated event
// are written in one transaction. A window that is completed or
// cancelled, or an end change on a window not yet started (edit it
// instead), is ErrMaintenanceState.
func (s *Store) PostMaintenanceUpdate(ctx context.Context, id int64, in MaintenanceUpdateInput) (*Maintenance, error) {
	var v Validator
	checkInput(&v, &in)
	now := s.Now()
	checkText(&v, "message", in.Message, in.WindowEnd == nil, MaxMessageLength)
	if in.WindowEnd != nil {
		end := in.WindowEnd.UTC()
		in.WindowEnd = &end
		v.Check(!end.IsZero(), "window_end", "Enter when the maintenance ends.")
		v.Check(end.After(now), "window_end", "The new end must be in the future. To end the maintenance now, use End now.")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := s.write(ctx, func(tx *gorm.DB) error {
		var m Maintenance
		if err := tx.First(&m, id).Error; err != nil {
			return notFound(err)
		}
		before := auditMaintenanceUpdate{Status: m.Status, WindowEnd: m.WindowEnd}
		allowed := []MaintenanceStatus{MaintenanceScheduled, MaintenanceInProgress}
		if in.WindowEnd != nil {
			allowed = []MaintenanceStatus{MaintenanceInProgress}
			if !in.WindowEnd.After(m.WindowStart) {
				v.Add("window_end", "The end must be after the start.")
				return v.Err()
			}
		}
		// Conditional update: the scheduler may complete the window
		// meanwhile; then this refuses rather than reopen it.
		changes := map[string]any{"updated_at": now}
		if in.WindowEnd != nil {
			changes["window_end"] = *in.WindowEnd
			changes["sequence"] = nextSequence()
		}
		res := tx.Model(&Maintenance{}).Where("id = ? AND status IN ?", id, allowed).Updates(changes)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrMaintenanceState
		}
		if in.WindowEnd != nil {
			m.WindowEnd = *in.WindowEnd
		}
		if strings.TrimSpace(in.Message) != "" {
			u := MaintenanceUpdate{MaintenanceID: id, Status: m.Status, Message: in.Message, CreatedAt: now}
			if err := tx.Create(&u).Error; err != nil {
				return err
			}
		}
		if in.Notify {
			announced := m
			if strings.TrimSpace(in.Message) != "" {
				announced.Message = in.Message
			}
			if err := s.maintenanceEvent(tx, &announced, EventMaintenanceUpdated, now); err != nil {
				return err
			}
		}
		action, summary := "maintenance.post_update", fmt.Sprintf("Posted an update to maintenance “%s”", m.Title)
		if in.WindowEnd != nil {
			action = "maintenance.extend"
			summary = fmt.Sprintf("Moved the end of maintenance “%s” from %s to %s", m.Title,
				before.WindowEnd.Format(auditTimeFormat), m.WindowEnd.Format(auditTimeFormat))
		}
		return audit(ctx, tx, change{PageID: m.PageID, Action: action, ObjectType: AuditMaintenance,
			ObjectID: idString(m.ID), Summary: summary + notifiedSuffix(in.Notify) + ".", Before: before,
			After: auditMaintenanceUpdate{Status: m.Status, WindowEnd: m.WindowEnd, Message: in.Message}})
	})
	if err != nil {
		return nil, wrapUnlessValidation(err, fmt.Sprintf("post update to maintenance %d", id))
	}
	return s.Maintenance(ctx, id)
}
