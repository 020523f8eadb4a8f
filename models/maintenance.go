package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// MaintenanceStatus is where a maintenance window stands.
type MaintenanceStatus string

// Maintenance statuses.
const (
	MaintenanceScheduled  MaintenanceStatus = "scheduled"
	MaintenanceInProgress MaintenanceStatus = "in_progress"
	MaintenanceCompleted  MaintenanceStatus = "completed"
	MaintenanceCancelled  MaintenanceStatus = "cancelled"
)

// Label is the status as people read it.
func (s MaintenanceStatus) Label() string {
	switch s {
	case MaintenanceScheduled:
		return "Scheduled"
	case MaintenanceInProgress:
		return "In progress"
	case MaintenanceCompleted:
		return "Completed"
	case MaintenanceCancelled:
		return "Cancelled"
	}
	return string(s)
}

// ErrMaintenanceState is returned when a window is no longer in a state
// that allows the change (it already started, ended or was cancelled).
var ErrMaintenanceState = errors.New("maintenance is not in a state that allows this")

// Maintenance is a planned maintenance window.
type Maintenance struct {
	ID             int64
	PageID         int64
	Title          string
	Message        string
	Status         MaintenanceStatus
	WindowStart    time.Time
	WindowEnd      time.Time
	SetMaintenance bool
	// Sequence is the window's iCalendar SEQUENCE: raised with every
	// change a calendar shows (edit, new end, cancellation, early end).
	Sequence    int
	StartedAt   *time.Time
	CompletedAt *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time

	Components []Component `gorm:"-"`
	// Updates posted to the window, newest first.
	Updates []MaintenanceUpdate `gorm:"-"`
}

type maintenanceComponent struct {
	MaintenanceID  int64
	ComponentID    int64
	PreviousStatus ComponentStatus
}

func (maintenanceComponent) TableName() string { return "maintenance_components" }

// MaintenanceInput schedules or edits a window.
type MaintenanceInput struct {
	Title        string
	Message      string  `text:"multiline"`
	ComponentIDs []int64 `field:"components"`
	WindowStart  time.Time
	WindowEnd    time.Time
	// SetMaintenance puts the components under_maintenance during the window.
	SetMaintenance bool
	// Silent schedules the window without maintenance.scheduled: it shows
	// on the page, but no channel hears of it until it starts. Only
	// ScheduleMaintenance reads it.
	Silent bool
	// QuietSubscribers schedules it without e-mailing the visitors who
	// subscribed (the admin unticked "Notify subscribers"); they still
	// hear when it starts and ends. Only ScheduleMaintenance reads it.
	QuietSubscribers bool
}

func (s *Store) validateMaintenance(v *Validator, in *MaintenanceInput, now time.Time) {
	checkInput(v, in)
	in.Title = strings.TrimSpace(in.Title)
	in.WindowStart, in.WindowEnd = in.WindowStart.UTC(), in.WindowEnd.UTC()
	checkText(v, "title", in.Title, true, MaxTitleLength)
	checkText(v, "message", in.Message, false, MaxMessageLength)
	v.Check(!in.WindowStart.IsZero(), "window_start", "Enter when the maintenance starts.")
	v.Check(!in.WindowEnd.IsZero(), "window_end", "Enter when the maintenance ends.")
	if !in.WindowStart.IsZero() && !in.WindowEnd.IsZero() {
		v.Check(in.WindowEnd.After(in.WindowStart), "window_end", "The end must be after the start.")
		v.Check(in.WindowEnd.After(now), "window_end", "This window has already ended. To record past work, back-fill an incident instead.")
	}
}

// ScheduleMaintenance creates a window and writes maintenance.scheduled.
// A window whose start has passed starts at the scheduler's next tick.
func (s *Store) ScheduleMaintenance(ctx context.Context, pageID int64, in MaintenanceInput) (*Maintenance, error) {
	now := s.Now()
	var v Validator
	s.validateMaintenance(&v, &in, now)
	var m *Maintenance
	err := s.write(ctx, func(tx *gorm.DB) error {
		tx = notifyScope(tx, in.Silent, in.QuietSubscribers)
		comps, err := loadPageComponents(tx, &v, pageID, uniqueIDs(in.ComponentIDs))
		if err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		m = &Maintenance{PageID: pageID, Title: in.Title, Message: in.Message, Status: MaintenanceScheduled,
			WindowStart: in.WindowStart, WindowEnd: in.WindowEnd, SetMaintenance: in.SetMaintenance}
		if err := tx.Create(m).Error; err != nil {
			return err
		}
		if err := setMaintenanceComponents(tx, m.ID, comps); err != nil {
			return err
		}
		if err := s.maintenanceEvent(tx, m, EventMaintenanceScheduled, now); err != nil {
			return err
		}
		return audit(ctx, tx, change{PageID: pageID, Action: "maintenance.schedule", ObjectType: AuditMaintenance,
			ObjectID: idString(m.ID), Summary: fmt.Sprintf("Scheduled maintenance “%s” (%s to %s%s).", m.Title,
				m.WindowStart.Format(auditTimeFormat), m.WindowEnd.Format(auditTimeFormat), notifiedSuffix(!in.Silent)+subscribersSuffix(in.QuietSubscribers)),
			After: maintenanceSnapshot(m, sortedIDs(comps))})
	})
	if err != nil {
		return nil, wrapUnlessValidation(err, "schedule maintenance")
	}
	return m, nil
}

func uniqueIDs(ids []int64) []int64 {
	seen := map[int64]bool{}
	var out []int64
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func setMaintenanceComponents(tx *gorm.DB, id int64, comps map[int64]*Component) error {
	if err := tx.Where("maintenance_id = ?", id).Delete(&maintenanceComponent{}).Error; err != nil {
		return err
	}
	for _, cid := range sortedIDs(comps) {
		if err := tx.Create(&maintenanceComponent{MaintenanceID: id, ComponentID: cid}).Error; err != nil {
			return err
		}
	}
	return nil
}

// UpdateMaintenance edits a window that has not started yet.
func (s *Store) UpdateMaintenance(ctx context.Context, id int64, in MaintenanceInput) (*Maintenance, error) {
	now := s.Now()
	var v Validator
	s.validateMaintenance(&v, &in, now)
	var m Maintenance
	err := s.write(ctx, func(tx *gorm.DB) error {
		if err := tx.First(&m, id).Error; err != nil {
			return notFound(err)
		}
		comps, err := loadPageComponents(tx, &v, m.PageID, uniqueIDs(in.ComponentIDs))
		if err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		oldIDs, err := maintenanceComponentIDs(tx, id)
		if err != nil {
			return err
		}
		before := maintenanceSnapshot(&m, oldIDs)
		// Conditional update: the scheduler may start the window meanwhile.
		res := tx.Model(&Maintenance{}).Where("id = ? AND status = ?", id, MaintenanceScheduled).Updates(map[string]any{
			"title": in.Title, "message": in.Message, "window_start": in.WindowStart, "window_end": in.WindowEnd,
			"set_maintenance": in.SetMaintenance, "updated_at": now, "sequence": nextSequence()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrMaintenanceState
		}
		if err := setMaintenanceComponents(tx, id, comps); err != nil {
			return err
		}
		m.Title, m.Message, m.WindowStart, m.WindowEnd, m.SetMaintenance = in.Title, in.Message, in.WindowStart, in.WindowEnd, in.SetMaintenance
		return audit(ctx, tx, change{PageID: m.PageID, Action: "maintenance.update", ObjectType: AuditMaintenance,
			ObjectID: idString(m.ID), Summary: fmt.Sprintf("Updated maintenance “%s”.", m.Title),
			Before: before, After: maintenanceSnapshot(&m, sortedIDs(comps))})
	})
	if err != nil {
		return nil, wrapUnlessValidation(err, fmt.Sprintf("update maintenance %d", id))
	}
	return s.Maintenance(ctx, id)
}

// CancelMaintenance cancels a window that has not started.
func (s *Store) CancelMaintenance(ctx context.Context, id int64) error {
	err := s.write(ctx, func(tx *gorm.DB) error {
		var m Maintenance
		if err := tx.First(&m, id).Error; err != nil {
			return notFound(err)
		}
		// Conditional update: the scheduler may start the window meanwhile.
		res := tx.Model(&Maintenance{}).Where("id = ? AND status = ?", id, MaintenanceScheduled).
			Updates(map[string]any{"status": MaintenanceCancelled, "updated_at": s.Now(), "sequence": nextSequence()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrMaintenanceState
		}
		return audit(ctx, tx, change{PageID: m.PageID, Action: "maintenance.cancel", ObjectType: AuditMaintenance,
			ObjectID: idString(m.ID), Summary: fmt.Sprintf("Cancelled maintenance “%s”.", m.Title),
			Before: auditMaintenanceState{Status: m.Status}, After: auditMaintenanceState{Status: MaintenanceCancelled}})
	})
	if err != nil {
		return fmt.Errorf("cancel maintenance %d: %w", id, err)
	}
	return nil
}

// EndMaintenanceNow moves an in-progress window's end to now and completes
// it at once.
func (s *Store) EndMaintenanceNow(ctx context.Context, id int64) error {
	now := s.Now()
	err := s.write(ctx, func(tx *gorm.DB) error {
		var m Maintenance
		if err := tx.First(&m, id).Error; err != nil {
			return notFound(err)
		}
		res := tx.Model(&Maintenance{}).Where("id = ? AND status = ?", id, MaintenanceInProgress).
			Updates(map[string]any{"window_end": now, "updated_at": now, "sequence": nextSequence()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrMaintenanceState
		}
		end := now
		return audit(ctx, tx, change{PageID: m.PageID, Action: "maintenance.end", ObjectType: AuditMaintenance,
			ObjectID: idString(m.ID), Summary: fmt.Sprintf("Ended maintenance “%s” early.", m.Title),
			Before: auditMaintenanceState{Status: m.Status, WindowEnd: &m.WindowEnd},
			After:  auditMaintenanceState{Status: m.Status, WindowEnd: &end}})
	})
	if err != nil {
		return fmt.Errorf("end maintenance %d: %w", id, err)
	}
	_, err = s.RunMaintenanceTransitions(ctx)
	return err
}

// nextSequence raises a window's iCalendar SEQUENCE within the update
// that changes it, so the bump and the change commit together.
func nextSequence() any { return gorm.Expr("sequence + 1") }

// maintenanceComponentIDs lists the components of window id.
func maintenanceComponentIDs(tx *gorm.DB, id int64) ([]int64, error) {
	var ids []int64
	err := tx.Model(&maintenanceComponent{}).Where("maintenance_id = ?", id).Order("component_id").Pluck("component_id", &ids).Error
	return ids, err
}

// Maintenance loads a window with its components.
func (s *Store) Maintenance(ctx context.Context, id int64) (*Maintenance, error) {
	var m Maintenance
	db := s.conn(ctx)
	if err := db.First(&m, id).Error; err != nil {
		return nil, fmt.Errorf("load maintenance %d: %w", id, notFound(err))
	}
	list := []Maintenance{m}
	if err := fillMaintenances(db, list); err != nil {
		return nil, fmt.Errorf("load maintenance %d: %w", id, err)
	}
	return &list[0], nil
}

// MaintenanceFilter narrows Maintenances.
type MaintenanceFilter struct {
	Statuses []MaintenanceStatus
	Limit    int
	Offset   int
}

// Maintenances lists a page's windows: soonest first for scheduled and
// in-progress ones, most recent first otherwise.
func (s *Store) Maintenances(ctx context.Context, pageID int64, f MaintenanceFilter) ([]Maintenance, error) {
	db := s.conn(ctx)
	q := db.Where("page_id = ?", pageID).Order("window_start DESC, id DESC")
	if len(f.Statuses) > 0 {
		q = q.Where("status IN ?", f.Statuses)
		upcoming := true
		for _, st := range f.Statuses {
			upcoming = upcoming && (st == MaintenanceScheduled || st == MaintenanceInProgress)
		}
		if upcoming {
			q = db.Where("page_id = ? AND status IN ?", pageID, f.Statuses).Order("window_start, id")
		}
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit).Offset(f.Offset)
	}
	var out []Maintenance
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list maintenance of page %d: %w", pageID, err)
	}
	if err := fillMaintenances(db, out); err != nil {
		return nil, fmt.Errorf("list maintenance of page %d: %w", pageID, err)
	}
	return out, nil
}

func fillMaintenances(db *gorm.DB, list []Maintenance) error {
	if len(list) == 0 {
		return nil
	}
	ids := make([]int64, len(list))
	index := map[int64]int{}
	for i, m := range list {
		ids[i] = m.ID
		index[m.ID] = i
	}
	type row struct {
		MaintenanceID int64
		Component
	}
	var rows []row
	if err := db.Table("components").Select("mc.maintenance_id, components.*").
		Joins("JOIN maintenance_components mc ON mc.component_id = components.id").
		Where("mc.maintenance_id IN ?", ids).Order("components.position, components.id").Scan(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		i := index[r.MaintenanceID]
		list[i].Components = append(list[i].Components, r.Component)
	}
	var updates []MaintenanceUpdate
	if err := db.Where("maintenance_id IN ?", ids).Order("created_at DESC, id DESC").Find(&updates).Error; err != nil {
		return err
	}
	for _, u := range updates {
		i := index[u.MaintenanceID]
		list[i].Updates = append(list[i].Updates, u)
	}
	return nil
}

func (s *Store) maintenanceEvent(tx *gorm.DB, m *Maintenance, typ EventType, at time.Time) error {
	var names []string
	if err := tx.Model(&Component{}).
		Joins("JOIN maintenance_components mc ON mc.component_id = components.id").
		Where("mc.maintenance_id = ?", m.ID).Order("components.name").Pluck("components.name", &names).Error; err != nil {
		return err
	}
	if names == nil {
		names = []string{}
	}
	return addEvent(tx, m.PageID, typ, MaintenanceData{
		ID: m.ID, Title: m.Title, Message: m.Message, Components: names,
		WindowStart: m.WindowStart, WindowEnd: m.WindowEnd, Status: string(m.Status),
		URL: fmt.Sprintf("%s/maintenance/%d", s.pageBaseURL(tx, m.PageID), m.ID),
	}, at)
}

// CalendarMaintenances lists the windows of a page's calendar: every
// scheduled or in-progress one, and completed or cancelled ones that end
// after since; the limit most recent by start, returned soonest first.
func (s *Store) CalendarMaintenances(ctx context.Context, pageID int64, since time.Time, limit int) ([]Maintenance, error) {
	db := s.conn(ctx)
	var out []Maintenance
	if err := db.Where("page_id = ? AND (status IN ? OR window_end >= ?)", pageID,
		[]MaintenanceStatus{MaintenanceScheduled, MaintenanceInProgress}, since.UTC()).
		Order("window_start DESC, id DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list calendar maintenance of page %d: %w", pageID, err)
	}
	slices.Reverse(out)
	if err := fillMaintenances(db, out); err != nil {
		return nil, fmt.Errorf("list calendar maintenance of page %d: %w", pageID, err)
	}
	return out, nil
}
