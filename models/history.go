package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// StatusChange is one row of a component's status history, the source of
// uptime figures.
type StatusChange struct {
	ID          int64
	ComponentID int64
	OldStatus   ComponentStatus
	NewStatus   ComponentStatus
	Source      StatusSource
	SourceID    *int64
	ChangedAt   time.Time
}

// TableName maps StatusChange to component_status_changes.
func (StatusChange) TableName() string { return "component_status_changes" }

func recordStatusChange(tx *gorm.DB, componentID int64, old, new ComponentStatus, source StatusSource, sourceID *int64, at time.Time) error {
	return tx.Create(&StatusChange{ComponentID: componentID, OldStatus: old, NewStatus: new,
		Source: source, SourceID: sourceID, ChangedAt: at}).Error
}

// StatusChanges returns a component's history, oldest first.
func (s *Store) StatusChanges(ctx context.Context, componentID int64) ([]StatusChange, error) {
	var out []StatusChange
	err := s.conn(ctx).Where("component_id = ?", componentID).Order("changed_at, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list status history of component %d: %w", componentID, err)
	}
	return out, nil
}
