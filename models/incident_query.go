package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Incident loads an incident with its updates (newest first) and affected
// components.
func (s *Store) Incident(ctx context.Context, id int64) (*Incident, error) {
	var inc Incident
	db := s.conn(ctx)
	if err := db.First(&inc, id).Error; err != nil {
		return nil, fmt.Errorf("load incident %d: %w", id, notFound(err))
	}
	list := []Incident{inc}
	if err := s.fillIncidents(db, list); err != nil {
		return nil, fmt.Errorf("load incident %d: %w", id, err)
	}
	return &list[0], nil
}

// IncidentFilter narrows Incidents.
type IncidentFilter struct {
	Unresolved bool      // only investigating, identified or monitoring
	Since      time.Time // only incidents started at or after
	Before     time.Time // only incidents started before
	Limit      int
	Offset     int
}

// Incidents lists a page's incidents, most recent first, with timelines.
func (s *Store) Incidents(ctx context.Context, pageID int64, f IncidentFilter) ([]Incident, error) {
	db := s.conn(ctx)
	q := db.Where("page_id = ?", pageID).Order("started_at DESC, id DESC")
	if f.Unresolved {
		q = q.Where("status <> ?", IncidentResolved)
	}
	if !f.Since.IsZero() {
		q = q.Where("started_at >= ?", f.Since.UTC())
	}
	if !f.Before.IsZero() {
		q = q.Where("started_at < ?", f.Before.UTC())
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit).Offset(f.Offset)
	}
	var out []Incident
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list incidents of page %d: %w", pageID, err)
	}
	if err := s.fillIncidents(db, out); err != nil {
		return nil, fmt.Errorf("list incidents of page %d: %w", pageID, err)
	}
	return out, nil
}

// CountIncidents counts a page's incidents.
func (s *Store) CountIncidents(ctx context.Context, pageID int64) (int64, error) {
	var n int64
	if err := s.conn(ctx).Model(&Incident{}).Where("page_id = ?", pageID).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count incidents of page %d: %w", pageID, err)
	}
	return n, nil
}

// fillIncidents loads updates and components for list in three queries.
func (s *Store) fillIncidents(db *gorm.DB, list []Incident) error {
	if len(list) == 0 {
		return nil
	}
	ids := make([]int64, len(list))
	index := map[int64]int{}
	for i, inc := range list {
		ids[i] = inc.ID
		index[inc.ID] = i
	}
	var updates []IncidentUpdate
	if err := db.Preload("Components", func(q *gorm.DB) *gorm.DB { return q.Order("id") }).
		Where("incident_id IN ?", ids).Order("created_at DESC, id DESC").Find(&updates).Error; err != nil {
		return err
	}
	for _, u := range updates {
		i := index[u.IncidentID]
		list[i].Updates = append(list[i].Updates, u)
	}
	type row struct {
		IncidentID int64
		Component
	}
	var rows []row
	if err := db.Table("components").Select("ic.incident_id, components.*").
		Joins("JOIN incident_components ic ON ic.component_id = components.id").
		Where("ic.incident_id IN ?", ids).Order("components.position, components.id").Scan(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		i := index[r.IncidentID]
		list[i].Components = append(list[i].Components, r.Component)
	}
	return nil
}
