package models

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// EventType names a change receivers may care about (SPEC §4).
type EventType string

// The event types.
const (
	EventIncidentCreated      EventType = "incident.created"
	EventIncidentUpdated      EventType = "incident.updated"
	EventIncidentResolved     EventType = "incident.resolved"
	EventMaintenanceScheduled EventType = "maintenance.scheduled"
	EventMaintenanceStarted   EventType = "maintenance.started"
	EventMaintenanceCompleted EventType = "maintenance.completed"
	// EventMaintenanceUpdated: an update was posted to a window, or an
	// in-progress window was extended, and the admin chose to notify.
	EventMaintenanceUpdated     EventType = "maintenance.updated"
	EventComponentStatusChanged EventType = "component.status_changed"
	EventComponentCreated       EventType = "component.created"
	EventComponentDeleted       EventType = "component.deleted"
)

// EventTypes lists every event type.
var EventTypes = []EventType{
	EventIncidentCreated, EventIncidentUpdated, EventIncidentResolved,
	EventMaintenanceScheduled, EventMaintenanceStarted, EventMaintenanceUpdated, EventMaintenanceCompleted,
	EventComponentStatusChanged, EventComponentCreated, EventComponentDeleted,
}

// Event is one row of the transactional outbox. Data is the JSON of the
// changed object as it stood when the change committed; it is stored as
// text so the bytes later signed and sent are exactly these.
type Event struct {
	ID         string
	PageID     int64
	Type       EventType
	Data       string
	OccurredAt time.Time
}

// IncidentData is the data of incident.* events.
type IncidentData struct {
	ID         int64      `json:"id"`
	Title      string     `json:"title"`
	Status     string     `json:"status"`
	Severity   string     `json:"severity"`
	Message    string     `json:"message"`
	Components []string   `json:"components"`
	StartedAt  time.Time  `json:"startedAt"`
	ResolvedAt *time.Time `json:"resolvedAt"`
	URL        string     `json:"url"`
}

// MaintenanceData is the data of maintenance.* events.
type MaintenanceData struct {
	ID          int64     `json:"id"`
	Title       string    `json:"title"`
	Message     string    `json:"message"`
	Components  []string  `json:"components"`
	WindowStart time.Time `json:"windowStart"`
	WindowEnd   time.Time `json:"windowEnd"`
	Status      string    `json:"status"`
	URL         string    `json:"url"`
}

// ComponentData is the data of component.* events.
type ComponentData struct {
	ID             int64   `json:"id"`
	Name           string  `json:"name"`
	PreviousStatus string  `json:"previousStatus"`
	NewStatus      string  `json:"newStatus"`
	UptimePercent  float64 `json:"uptimePercent"`
}

// NewEventID returns "evt_" and a ULID: unique and sortable by time.
func NewEventID(at time.Time) string {
	return "evt_" + ids.next(at).String()
}

// addEvent writes an event inside tx, the transaction of the change itself:
// if the change rolls back, so does the event.
func addEvent(tx *gorm.DB, pageID int64, typ EventType, data any, at time.Time) error {
	// Unticked "Notify channels" and "Notify subscribers" (or an event
	// subscribers never receive): no event at all.
	channels := !isSilenced(tx)
	if !channels && !wantsSubscribers(tx, typ) {
		return nil
	}
	b, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", typ, err)
	}
	ev := Event{ID: NewEventID(at), PageID: pageID, Type: typ, Data: string(b), OccurredAt: at}
	if err := tx.Create(&ev).Error; err != nil {
		return fmt.Errorf("write %s event: %w", typ, err)
	}
	if err := queueSubscriberFanout(tx, &ev); err != nil {
		return err
	}
	if !channels {
		return nil // for subscribers only
	}
	notified, err := fanOut(tx, &ev)
	if err != nil {
		return err
	}
	recordNotified(tx, notified)
	if len(notified) > 0 && tx.Dialector.Name() == "postgres" {
		// Delivered to listeners when the transaction commits, and not at
		// all if it rolls back: other replicas wake for the new deliveries.
		if err := tx.Exec("SELECT pg_notify(?, '')", DeliveriesChannel).Error; err != nil {
			return fmt.Errorf("notify %s: %w", DeliveriesChannel, err)
		}
	}
	return nil
}

// EventFilter narrows Events.
type EventFilter struct {
	Type  EventType
	After string // event id; only later events
	Limit int
}

// Events lists outbox rows oldest first.
func (s *Store) Events(ctx context.Context, f EventFilter) ([]Event, error) {
	q := s.conn(ctx).Order("id")
	if f.Type != "" {
		q = q.Where("type = ?", f.Type)
	}
	if f.After != "" {
		q = q.Where("id > ?", f.After)
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	var out []Event
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return out, nil
}
