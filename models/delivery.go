package models

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"
	"gorm.io/gorm"
)

// DeliveriesChannel is the PostgreSQL NOTIFY channel announcing new
// deliveries to every replica.
const DeliveriesChannel = "herald_deliveries"

// DeliveryState is where a delivery stands.
type DeliveryState string

// The delivery states.
const (
	DeliveryPending   DeliveryState = "pending"
	DeliveryRetrying  DeliveryState = "retrying"
	DeliveryDelivered DeliveryState = "delivered"
	DeliveryFailed    DeliveryState = "failed"
	// DeliverySkipped is an event that happened while its channel was
	// disabled: recorded, never attempted until an admin sends it
	// (QueueSkippedDeliveries).
	DeliverySkipped DeliveryState = "skipped"
)

// DeliveryStates lists every state, for filters.
var DeliveryStates = []DeliveryState{DeliveryPending, DeliveryRetrying, DeliveryDelivered, DeliveryFailed, DeliverySkipped}

// Final reports whether no more attempts will be made on their own.
func (s DeliveryState) Final() bool {
	return s == DeliveryDelivered || s == DeliveryFailed || s == DeliverySkipped
}

// ErrLeaseLost means another worker took over a delivery whose lease ran
// out; the attempt's result was not recorded.
var ErrLeaseLost = errors.New("delivery lease lost")

// Delivery is one event (or test) to one channel: the unit of retries.
// Its ID is the X-Request-ID and webhook-id of every attempt.
type Delivery struct {
	ID             string
	PageID         int64
	ChannelID      int64
	EventID        *string
	EventType      EventType
	Test           bool
	TestData       string
	State          DeliveryState
	Attempts       int
	ScheduleBase   int
	DueAt          *int64 // Unix ms; nil once final
	LeaseUntil     int64  // Unix ms
	LeaseToken     string
	LastStatus     int
	LastError      string
	LastDurationMS int
	CreatedAt      time.Time
	UpdatedAt      time.Time
	CompletedAt    *time.Time
}

// TableName keeps gorm from guessing.
func (Delivery) TableName() string { return "deliveries" }

// Due is when the next attempt is due, or zero once final.
func (d *Delivery) Due() time.Time {
	if d.DueAt == nil {
		return time.Time{}
	}
	return time.UnixMilli(*d.DueAt).UTC()
}

// Round is how many attempts were made since the delivery was created or
// last replayed: the position in the retry schedule.
func (d *Delivery) Round() int { return d.Attempts - d.ScheduleBase }

// DeliveryAttempt is the log of one attempt.
type DeliveryAttempt struct {
	ID              int64
	DeliveryID      string
	Number          int
	StartedAt       time.Time
	DurationMS      int
	RequestURL      string
	RequestHeaders  string
	RequestBody     string
	ResponseStatus  int
	ResponseHeaders string
	ResponseBody    string
	ErrorClass      string
	Error           string
	Outcome         string
}

// NewDeliveryID returns "dlv_" and a ULID.
func NewDeliveryID(at time.Time) string {
	return "dlv_" + ulid.MustNew(ulid.Timestamp(at), ulid.DefaultEntropy()).String()
}

func newLeaseToken() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}

// ClaimOptions bound one claim.
type ClaimOptions struct {
	// Limit is the most deliveries claimed.
	Limit int
	// PerChannel is the most deliveries of one channel claimed.
	PerChannel int
	// Skip lists channels that already have enough work in this process.
	Skip []int64
	// Lease is how long the claim holds: longer than one attempt.
	Lease time.Duration
}

// ClaimDeliveries leases due deliveries of enabled channels, oldest first.
// On PostgreSQL rows locked by another replica's claim are skipped (FOR
// UPDATE SKIP LOCKED); SQLite has one writer, so the UPDATE is the claim.
// A leased delivery is not claimed again until its lease runs out.
func (s *Store) ClaimDeliveries(ctx context.Context, o ClaimOptions) ([]Delivery, error) {
	if o.Limit <= 0 {
		return nil, nil
	}
	if o.PerChannel <= 0 {
		o.PerChannel = o.Limit
	}
	now := s.Now().UnixMilli()
	token := newLeaseToken()
	skip := ""
	args := []any{now + o.Lease.Milliseconds(), token, now, now}
	if len(o.Skip) > 0 {
		skip = "AND d.channel_id NOT IN ?"
		args = append(args, o.Skip)
	}
	// The candidates are the oldest due rows, bounded so a deep backlog
	// costs no more to claim from than a shallow one; among them each
	// channel gets at most PerChannel.
	args = append(args, max(4*o.Limit, 200), o.PerChannel, now, now, o.Limit)
	lock := ""
	if s.engine == Postgres {
		lock = "FOR UPDATE SKIP LOCKED"
	}
	q := `UPDATE deliveries SET lease_until = ?, lease_token = ?
WHERE id IN (
  SELECT id FROM deliveries
  WHERE id IN (
    SELECT id FROM (
      SELECT cand.id, ROW_NUMBER() OVER (PARTITION BY cand.channel_id ORDER BY cand.due_at, cand.id) AS rn
      FROM (
        SELECT d.id, d.channel_id, d.due_at
        FROM deliveries d JOIN channels c ON c.id = d.channel_id AND c.enabled
        WHERE d.due_at <= ? AND d.lease_until < ? ` + skip + `
        ORDER BY d.due_at, d.id
        LIMIT ?
      ) cand
    ) ranked WHERE rn <= ?
  )
  AND due_at <= ? AND lease_until < ?
  ORDER BY due_at, id
  LIMIT ? ` + lock + `
)
RETURNING *`
	var out []Delivery
	err := s.conn(ctx).Raw(q, args...).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return out, nil
}

// AttemptResult is the outcome of one attempt, to record.
type AttemptResult struct {
	Attempt DeliveryAttempt
	// Refused are attempts made just before Attempt, in the same try: a
	// message Slack or Discord refused as invalid, before its plain
	// fallback (Attempt). They are logged first, with their own outcome,
	// and use no step of the retry schedule.
	Refused []DeliveryAttempt
	// State is delivered, retrying (with NextAt) or failed.
	State  DeliveryState
	NextAt time.Time
	// DisableChannel, when set, disables the channel at once with this
	// reason (the receiver said the webhook is gone).
	DisableChannel string
	// DisableAfter and DisableWindow: a channel whose last DisableAfter
	// events all failed, over at least DisableWindow, is disabled.
	DisableAfter  int
	DisableWindow time.Duration
}

// RecordAttempt logs an attempt and moves the delivery on, provided the
// caller still holds the lease it claimed (else ErrLeaseLost). A failed
// delivery counts against its channel's failure streak; a delivered one
// ends the streak.
func (s *Store) RecordAttempt(ctx context.Context, d *Delivery, r AttemptResult) error {
	now := s.Now()
	a := r.Attempt
	a.ID = 0
	a.DeliveryID = d.ID
	a.Outcome = string(r.State)
	err := s.conn(ctx).Transaction(func(tx *gorm.DB) error {
		upd := map[string]any{
			"state": r.State, "attempts": a.Number, "lease_until": 0, "lease_token": "",
			"last_status": a.ResponseStatus, "last_error": a.Error, "last_duration_ms": a.DurationMS,
			"updated_at": now,
		}
		if len(r.Refused) > 0 {
			upd["schedule_base"] = gorm.Expr("schedule_base + ?", len(r.Refused))
		}
		if r.State == DeliveryRetrying {
			upd["due_at"] = r.NextAt.UnixMilli()
		} else {
			upd["due_at"], upd["completed_at"] = nil, now
		}
		res := tx.Model(&Delivery{}).Where("id = ? AND lease_token = ?", d.ID, d.LeaseToken).Updates(upd)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrLeaseLost
		}
		for _, ra := range r.Refused {
			ra.ID, ra.DeliveryID = 0, d.ID
			if ra.Outcome == "" {
				ra.Outcome = string(DeliveryFailed)
			}
			if err := tx.Create(&ra).Error; err != nil {
				return err
			}
		}
		if err := tx.Create(&a).Error; err != nil {
			return err
		}
		return s.updateChannelHealth(ctx, tx, d, r, now)
	})
	if err != nil {
		return fmt.Errorf("record attempt %d of %s: %w", a.Number, d.ID, err)
	}
	d.State, d.Attempts, d.LeaseToken, d.LeaseUntil = r.State, a.Number, "", 0
	d.ScheduleBase += len(r.Refused)
	return nil
}

func (s *Store) updateChannelHealth(ctx context.Context, tx *gorm.DB, d *Delivery, r AttemptResult, now time.Time) error {
	ch := tx.Model(&Channel{}).Where("id = ?", d.ChannelID)
	if r.DisableChannel != "" {
		res := ch.Where("enabled").Updates(map[string]any{"enabled": false,
			"disabled_reason": r.DisableChannel, "disabled_at": now, "updated_at": now})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		return auditAutoDisable(ctx, tx, d, r.DisableChannel)
	}
	if d.Test {
		return nil
	}
	switch r.State {
	case DeliveryDelivered:
		return ch.Where("failed_events > 0 OR failing_since IS NOT NULL").
			Updates(map[string]any{"failed_events": 0, "failing_since": nil}).Error
	case DeliveryFailed:
		err := ch.Updates(map[string]any{"failed_events": gorm.Expr("failed_events + 1"),
			"failing_since": gorm.Expr("COALESCE(failing_since, ?)", now)}).Error
		if err != nil || r.DisableAfter <= 0 {
			return err
		}
		reason := fmt.Sprintf("Disabled automatically: deliveries of the last %d events failed over more than %s. Check the receiver, then re-enable.",
			r.DisableAfter, shortDuration(r.DisableWindow))
		res := tx.Model(&Channel{}).
			Where("id = ? AND enabled AND failed_events >= ? AND failing_since <= ?", d.ChannelID, r.DisableAfter, now.Add(-r.DisableWindow)).
			Updates(map[string]any{"enabled": false, "disabled_reason": reason, "disabled_at": now, "updated_at": now})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		return auditAutoDisable(ctx, tx, d, reason)
	}
	return nil
}

// auditAutoDisable records that the delivery worker turned a channel off.
func auditAutoDisable(ctx context.Context, tx *gorm.DB, d *Delivery, reason string) error {
	var name string
	if err := tx.Model(&Channel{}).Where("id = ?", d.ChannelID).Select("name").Scan(&name).Error; err != nil {
		return err
	}
	return audit(WithActor(ctx, NotifierActor()), tx, change{PageID: d.PageID, Action: "channel.disable",
		ObjectType: AuditChannel, ObjectID: idString(d.ChannelID),
		Summary: fmt.Sprintf("Disabled channel “%s” after delivery %s failed.", name, d.ID),
		Before:  auditEnabled{Enabled: true}, After: auditEnabled{Enabled: false, DisabledReason: reason}})
}

// ReleaseDelivery gives up a claim without an attempt (on shutdown), so
// another worker can take it at once.
func (s *Store) ReleaseDelivery(ctx context.Context, d *Delivery) error {
	err := s.conn(ctx).Model(&Delivery{}).Where("id = ? AND lease_token = ?", d.ID, d.LeaseToken).
		Updates(map[string]any{"lease_until": 0, "lease_token": ""}).Error
	if err != nil {
		return fmt.Errorf("release delivery %s: %w", d.ID, err)
	}
	return nil
}

// ReplayDelivery queues one more attempt of a delivery, now, with a fresh
// retry schedule. It fails with ErrConflict while an attempt is in flight.
func (s *Store) ReplayDelivery(ctx context.Context, id string) error {
	now := s.Now()
	err := s.transact(ctx, func(tx *gorm.DB) error {
		var d Delivery
		if err := tx.Where("id = ?", id).First(&d).Error; err != nil {
			return notFound(err)
		}
		res := tx.Model(&Delivery{}).
			Where("id = ? AND lease_until < ?", id, now.UnixMilli()).
			Updates(map[string]any{"state": DeliveryPending, "due_at": now.UnixMilli(),
				"schedule_base": gorm.Expr("attempts"), "completed_at": nil, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("an attempt is in flight: %w", ErrConflict)
		}
		var name string
		if err := tx.Model(&Channel{}).Where("id = ?", d.ChannelID).Select("name").Scan(&name).Error; err != nil {
			return err
		}
		return audit(ctx, tx, change{PageID: d.PageID, Action: "channel.replay", ObjectType: AuditChannel,
			ObjectID: idString(d.ChannelID), Summary: fmt.Sprintf("Replayed the %s delivery %s of “%s”.", d.EventType, d.ID, name),
			Before: auditDelivery{DeliveryID: d.ID, Event: d.EventType, State: string(d.State), Attempts: d.Attempts},
			After:  auditDelivery{DeliveryID: d.ID, Event: d.EventType, State: string(DeliveryPending), Attempts: d.Attempts}})
	})
	if err != nil {
		return fmt.Errorf("replay delivery %s: %w", id, err)
	}
	s.afterCommit(ctx, s.wake.Notify)
	return nil
}

// CreateTestDelivery records a test send of an event type to a channel,
// already claimed by the caller for lease, which makes the attempt at
// once. Should the process die first, a worker takes it when the lease
// runs out.
func (s *Store) CreateTestDelivery(ctx context.Context, c *Channel, typ EventType, data string, lease time.Duration) (*Delivery, error) {
	now := s.Now()
	due := now.UnixMilli()
	d := &Delivery{ID: NewDeliveryID(now), PageID: c.PageID, ChannelID: c.ID, EventType: typ, Test: true,
		TestData: data, State: DeliveryPending, DueAt: &due, LeaseUntil: now.Add(lease).UnixMilli(),
		LeaseToken: newLeaseToken(), CreatedAt: now, UpdatedAt: now}
	err := s.transact(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(d).Error; err != nil {
			return err
		}
		return audit(ctx, tx, change{PageID: c.PageID, Action: "channel.test", ObjectType: AuditChannel,
			ObjectID: idString(c.ID), Summary: fmt.Sprintf("Sent a test %s notification to “%s”.", typ, c.Name),
			After: auditDelivery{DeliveryID: d.ID, Event: typ}})
	})
	if err != nil {
		return nil, fmt.Errorf("create test delivery for channel %d: %w", c.ID, err)
	}
	return d, nil
}

// Delivery loads one delivery.
func (s *Store) Delivery(ctx context.Context, id string) (*Delivery, error) {
	var d Delivery
	if err := s.conn(ctx).Where("id = ?", id).First(&d).Error; err != nil {
		return nil, fmt.Errorf("load delivery %s: %w", id, notFound(err))
	}
	return &d, nil
}

// DeliveryAttempts lists a delivery's attempts, first first.
func (s *Store) DeliveryAttempts(ctx context.Context, deliveryID string) ([]DeliveryAttempt, error) {
	var out []DeliveryAttempt
	if err := s.conn(ctx).Where("delivery_id = ?", deliveryID).Order("number").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list attempts of %s: %w", deliveryID, err)
	}
	return out, nil
}

// DeliveryFilter narrows Deliveries.
type DeliveryFilter struct {
	ChannelID int64
	State     DeliveryState
	EventType EventType
	From, To  time.Time // created in [From, To)
	Limit     int
	Offset    int
}

func (s *Store) deliveryQuery(ctx context.Context, f DeliveryFilter) *gorm.DB {
	q := s.conn(ctx).Model(&Delivery{})
	if f.ChannelID != 0 {
		q = q.Where("channel_id = ?", f.ChannelID)
	}
	if f.State != "" {
		q = q.Where("state = ?", f.State)
	}
	if f.EventType != "" {
		q = q.Where("event_type = ?", f.EventType)
	}
	if !f.From.IsZero() {
		q = q.Where("created_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("created_at < ?", f.To.UTC())
	}
	return q
}

// Deliveries lists deliveries newest first.
func (s *Store) Deliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error) {
	q := s.deliveryQuery(ctx, f).Order("created_at DESC, id DESC")
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	if f.Offset > 0 {
		q = q.Offset(f.Offset)
	}
	var out []Delivery
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return out, nil
}

// CountDeliveries counts what Deliveries would list without a limit.
func (s *Store) CountDeliveries(ctx context.Context, f DeliveryFilter) (int64, error) {
	var n int64
	if err := s.deliveryQuery(ctx, f).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count deliveries: %w", err)
	}
	return n, nil
}

// EventsByID loads events by id.
func (s *Store) EventsByID(ctx context.Context, ids []string) (map[string]Event, error) {
	out := make(map[string]Event, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var evs []Event
	if err := s.conn(ctx).Where("id IN ?", ids).Find(&evs).Error; err != nil {
		return nil, fmt.Errorf("load events: %w", err)
	}
	for _, e := range evs {
		out[e.ID] = e
	}
	return out, nil
}

// ChannelsByID loads channels by id, credentials opened.
func (s *Store) ChannelsByID(ctx context.Context, ids []int64) (map[int64]*Channel, error) {
	out := make(map[int64]*Channel, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var cs []Channel
	if err := s.conn(ctx).Where("id IN ?", ids).Find(&cs).Error; err != nil {
		return nil, fmt.Errorf("load channels: %w", err)
	}
	for i := range cs {
		s.open(&cs[i])
		out[cs[i].ID] = &cs[i]
	}
	return out, nil
}

// NextDue is when the earliest pending delivery of an enabled channel is
// due, and false when none is.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	var due *int64
	err := s.conn(ctx).Raw(`SELECT MIN(CASE WHEN d.lease_until > d.due_at THEN d.lease_until ELSE d.due_at END)
FROM deliveries d JOIN channels c ON c.id = d.channel_id AND c.enabled WHERE d.due_at IS NOT NULL`).Scan(&due).Error
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due delivery: %w", err)
	}
	if due == nil {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(*due).UTC(), true, nil
}

// QueueStats describe the delivery queue, for metrics and the dashboard.
type QueueStats struct {
	Due       int64         // deliveries due now
	OldestDue time.Duration // how long the oldest due delivery has waited
}

// DeliveryQueue reports the queue's depth and age.
func (s *Store) DeliveryQueue(ctx context.Context) (QueueStats, error) {
	now := s.Now().UnixMilli()
	var row struct {
		N      int64
		Oldest *int64
	}
	err := s.conn(ctx).Raw(`SELECT COUNT(*) AS n, MIN(d.due_at) AS oldest
FROM deliveries d JOIN channels c ON c.id = d.channel_id AND c.enabled WHERE d.due_at <= ?`, now).Scan(&row).Error
	if err != nil {
		return QueueStats{}, fmt.Errorf("delivery queue: %w", err)
	}
	st := QueueStats{Due: row.N}
	if row.Oldest != nil {
		st.OldestDue = time.Duration(now-*row.Oldest) * time.Millisecond
	}
	return st, nil
}

// PruneDeliveries deletes final deliveries, and their attempts, completed
// before cutoff, and returns how many it deleted.
func (s *Store) PruneDeliveries(ctx context.Context, cutoff time.Time) (int64, error) {
	res := s.conn(ctx).Where("due_at IS NULL AND completed_at < ?", cutoff.UTC()).Delete(&Delivery{})
	if res.Error != nil {
		return 0, fmt.Errorf("prune deliveries: %w", res.Error)
	}
	return res.RowsAffected, nil
}
