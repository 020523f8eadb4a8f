package models

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

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

// OutcomeRateLimited is the outcome of an attempt the receiver refused
// for its rate limit (429, or 503 with Retry-After). It is not a failure:
// it uses up no step of the retry schedule.
const OutcomeRateLimited = "rate_limited"

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

	// Serial is set by a claim that also holds the delivery's channel,
	// which sends one attempt at a time: recording or releasing the
	// delivery releases the channel.
	Serial bool `gorm:"-"`
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
	return "dlv_" + ids.next(at).String()
}

func newLeaseToken() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}

// SerialAfterPause is how long after a rate-limit pause ends a channel
// keeps sending one attempt at a time: its receiver has just shown a
// limit, so the backlog goes out in order, one request after the other.
const SerialAfterPause = time.Minute

// ReadyChannel is an enabled channel that may be sent to now (no
// rate-limit pause, no pacing hold) and has due deliveries.
type ReadyChannel struct {
	ID          int64
	Type        ChannelType
	PausedUntil int64 // Unix ms; the end of its last pause (0: never paused)
}

// Serial reports whether the channel sends one attempt at a time, across
// all replicas: Slack and Discord channels always (chat messages are read
// in order, and their limits are per webhook), any channel within
// SerialAfterPause of a rate-limit pause.
func (c ReadyChannel) Serial(now time.Time) bool {
	return c.Type == ChannelSlack || c.Type == ChannelDiscord ||
		(c.PausedUntil > 0 && now.UnixMilli() < c.PausedUntil+SerialAfterPause.Milliseconds())
}

// DueDelivery is a delivery that may be claimed now.
type DueDelivery struct {
	ID        string
	ChannelID int64
	DueAt     int64 // Unix ms
}

// readyChunk bounds the channels in one candidate query (SQLite allows
// 500 terms in a compound SELECT).
const readyChunk = 100

// DueDeliveries lists the channels ready to be sent to and, for each,
// its oldest due deliveries in event order (delivery ids are ULIDs of the
// event's time): at most room(c) of channel c, and never more than most.
// Asking per channel keeps a deep backlog on a few channels (a receiver
// that hangs, one that is rate limited) from hiding the due work of the
// others. The result is ordered by channel, then event.
func (s *Store) DueDeliveries(ctx context.Context, most int, room func(ReadyChannel) int) ([]ReadyChannel, []DueDelivery, error) {
	if s.engine == Postgres {
		return s.dueDeliveriesLateral(ctx, most, room)
	}
	now := s.Now().UnixMilli()
	var ready []ReadyChannel
	err := s.conn(ctx).Raw(`SELECT c.id, c.type, c.paused_until FROM channels c
WHERE c.enabled AND c.paused_until <= ? AND c.next_send_at <= ?
  AND EXISTS (SELECT 1 FROM deliveries d WHERE d.channel_id = c.id AND d.due_at IS NOT NULL AND d.due_at <= ? AND d.lease_until < ?)
ORDER BY c.id`, now, now, now, now).Scan(&ready).Error
	if err != nil {
		return nil, nil, fmt.Errorf("channels with due deliveries: %w", err)
	}
	var arms []string
	var args []any
	var out []DueDelivery
	flush := func() error {
		if len(arms) == 0 {
			return nil
		}
		var part []DueDelivery
		if err := s.conn(ctx).Raw(strings.Join(arms, "\nUNION ALL\n"), args...).Scan(&part).Error; err != nil {
			return fmt.Errorf("due deliveries: %w", err)
		}
		out = append(out, part...)
		arms, args = arms[:0], args[:0]
		return nil
	}
	for _, c := range ready {
		n := min(room(c), most)
		if n <= 0 {
			continue
		}
		arms = append(arms, fmt.Sprintf(`SELECT * FROM (SELECT id, channel_id, due_at FROM deliveries
WHERE channel_id = ? AND due_at IS NOT NULL AND due_at <= ? AND lease_until < ? ORDER BY id LIMIT ?) AS q%d`, len(arms)))
		args = append(args, c.ID, now, now, n)
		if len(arms) == readyChunk {
			if err := flush(); err != nil {
				return nil, nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, nil, err
	}
	slices.SortFunc(out, func(a, b DueDelivery) int {
		return cmp.Or(cmp.Compare(a.ChannelID, b.ChannelID), strings.Compare(a.ID, b.ID))
	})
	return ready, out, nil
}

// dueDeliveriesLateral is DueDeliveries in one PostgreSQL query.
func (s *Store) dueDeliveriesLateral(ctx context.Context, most int, room func(ReadyChannel) int) ([]ReadyChannel, []DueDelivery, error) {
	now := s.Now().UnixMilli()
	var rows []struct {
		ReadyChannel
		DeliveryID string
		DueAt      int64
	}
	err := s.conn(ctx).Raw(`SELECT c.id, c.type, c.paused_until, x.id AS delivery_id, x.due_at
FROM channels c CROSS JOIN LATERAL (
  SELECT d.id, d.due_at FROM deliveries d
  WHERE d.channel_id = c.id AND d.due_at IS NOT NULL AND d.due_at <= ? AND d.lease_until < ?
  ORDER BY d.id LIMIT ?) x
WHERE c.enabled AND c.paused_until <= ? AND c.next_send_at <= ?
ORDER BY c.id, x.id`, now, now, most, now, now).Scan(&rows).Error
	if err != nil {
		return nil, nil, fmt.Errorf("due deliveries: %w", err)
	}
	var ready []ReadyChannel
	var out []DueDelivery
	n := 0
	for _, r := range rows {
		if len(ready) == 0 || ready[len(ready)-1].ID != r.ID {
			ready = append(ready, r.ReadyChannel)
			n = room(r.ReadyChannel)
		}
		if n > 0 {
			out = append(out, DueDelivery{ID: r.DeliveryID, ChannelID: r.ID, DueAt: r.DueAt})
			n--
		}
	}
	return ready, out, nil
}

// ClaimOptions say what one claim takes.
type ClaimOptions struct {
	// IDs are deliveries to claim. Each is claimed if it is still due and
	// unleased and its channel is enabled and neither paused nor held.
	IDs []string
	// Serial are channels that send one attempt at a time. Each one that
	// is still ready is held (next_send_at) for the lease, so no other
	// worker or replica sends to it meanwhile, and its oldest due delivery
	// is claimed, marked Serial.
	Serial []int64
	// Limit, when IDs and Serial are empty, claims up to Limit due
	// deliveries, oldest due first, at most one of each serial channel.
	Limit int
	// Lease is how long the claim holds: longer than one attempt.
	Lease time.Duration
}

// ClaimDeliveries leases deliveries, in one transaction: the holds on
// serial channels first (on PostgreSQL rows another replica is claiming
// are skipped, FOR UPDATE SKIP LOCKED, and a channel another replica has
// just held fails the re-checked next_send_at), then the deliveries,
// each re-checked as due and unleased in the same UPDATE, so two workers
// never hold one delivery. A leased delivery is not claimed again until
// its lease runs out.
func (s *Store) ClaimDeliveries(ctx context.Context, o ClaimOptions) ([]Delivery, error) {
	if len(o.IDs) == 0 && len(o.Serial) == 0 && o.Limit > 0 {
		if err := s.claimOldest(ctx, &o); err != nil {
			return nil, err
		}
	}
	if len(o.IDs) == 0 && len(o.Serial) == 0 {
		return nil, nil
	}
	now := s.Now().UnixMilli()
	until := now + o.Lease.Milliseconds()
	token := newLeaseToken()
	lockChannels, lockDeliveries := "", ""
	if s.engine == Postgres {
		lockChannels, lockDeliveries = "FOR UPDATE SKIP LOCKED", "FOR UPDATE OF d SKIP LOCKED"
	}
	var out []Delivery
	claim := func(tx *gorm.DB) error {
		var held []int64
		if len(o.Serial) > 0 {
			err := tx.Raw(`UPDATE channels SET next_send_at = ? WHERE id IN (
  SELECT id FROM channels WHERE id IN ? AND enabled AND paused_until <= ? AND next_send_at <= ? `+lockChannels+`
) RETURNING id`, until, o.Serial, now, now).Scan(&held).Error
			if err != nil {
				return err
			}
		}
		var which []string
		var args []any
		if len(o.IDs) > 0 {
			which = append(which, "(d.id IN ? AND c.next_send_at <= ?)")
			args = append(args, o.IDs, now)
		}
		if len(held) > 0 {
			which = append(which, `d.id IN (SELECT (SELECT y.id FROM deliveries y
    WHERE y.channel_id = h.id AND y.due_at IS NOT NULL AND y.due_at <= ? AND y.lease_until < ? ORDER BY y.id LIMIT 1)
  FROM channels h WHERE h.id IN ?)`)
			args = append(args, now, now, held)
		}
		if len(which) == 0 {
			return nil
		}
		args = append([]any{until, token}, args...)
		args = append(args, now, now, now)
		err := tx.Raw(`UPDATE deliveries SET lease_until = ?, lease_token = ? WHERE id IN (
  SELECT d.id FROM deliveries d JOIN channels c ON c.id = d.channel_id
  WHERE (`+strings.Join(which, " OR ")+`)
    AND c.enabled AND c.paused_until <= ? AND d.due_at <= ? AND d.lease_until < ? `+lockDeliveries+`
) RETURNING *`, args...).Scan(&out).Error
		if err != nil {
			return err
		}
		var idle []int64
		for _, id := range held {
			claimed := false
			for i := range out {
				if out[i].ChannelID == id {
					out[i].Serial, claimed = true, true
				}
			}
			if !claimed {
				idle = append(idle, id)
			}
		}
		if len(idle) == 0 {
			return nil
		}
		// Held but nothing left to send (another worker was quicker).
		return tx.Exec("UPDATE channels SET next_send_at = 0 WHERE id IN ? AND next_send_at = ?", idle, until).Error
	}
	var err error
	if len(o.Serial) == 0 {
		err = claim(s.conn(ctx)) // one statement: no transaction needed
	} else {
		err = s.conn(ctx).Transaction(claim)
	}
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	slices.SortFunc(out, func(a, b Delivery) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// claimOldest fills o.IDs and o.Serial with up to o.Limit due deliveries,
// oldest due first.
func (s *Store) claimOldest(ctx context.Context, o *ClaimOptions) error {
	now := s.Now()
	ready, due, err := s.DueDeliveries(ctx, o.Limit, func(c ReadyChannel) int {
		if c.Serial(now) {
			return 1
		}
		return o.Limit
	})
	if err != nil {
		return err
	}
	serial := map[int64]bool{}
	for _, c := range ready {
		serial[c.ID] = c.Serial(now)
	}
	slices.SortFunc(due, func(a, b DueDelivery) int { return cmp.Or(cmp.Compare(a.DueAt, b.DueAt), strings.Compare(a.ID, b.ID)) })
	for _, d := range due[:min(len(due), o.Limit)] {
		if serial[d.ChannelID] {
			o.Serial = append(o.Serial, d.ChannelID)
		} else {
			o.IDs = append(o.IDs, d.ID)
		}
	}
	return nil
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
	// RateLimited marks a try the receiver refused for its rate limit
	// (State retrying): it is logged with outcome rate_limited and uses up
	// no step of the retry schedule.
	RateLimited bool
	// PauseUntil, when set, pauses the whole channel until then, on every
	// replica (a longer pause already in place stays).
	PauseUntil time.Time
	// NextSendAt, when set, is the earliest time of the channel's next
	// request (pacing). Recording a Serial delivery always sets it, which
	// releases the channel's hold (zero: free at once).
	NextSendAt time.Time
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
		base := len(r.Refused)
		if r.RateLimited && r.State == DeliveryRetrying {
			// The schedule's position is attempts - schedule_base: moving
			// both keeps it where it was.
			a.Outcome = OutcomeRateLimited
			base++
		}
		if base > 0 {
			upd["schedule_base"] = gorm.Expr("schedule_base + ?", base)
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
		if err := s.updateChannelHealth(ctx, tx, d, r, now); err != nil {
			return err
		}
		if err := activateVerified(tx, d, r, now); err != nil {
			return err
		}
		return updateChannelPace(tx, d, r)
	})
	if err != nil {
		return fmt.Errorf("record attempt %d of %s: %w", a.Number, d.ID, err)
	}
	d.State, d.Attempts, d.LeaseToken, d.LeaseUntil, d.Serial = r.State, a.Number, "", 0, false
	d.ScheduleBase += len(r.Refused)
	if r.RateLimited && r.State == DeliveryRetrying {
		d.ScheduleBase++
	}
	return nil
}

// updateChannelPace writes a rate-limit pause and the pacing of d's
// channel, and releases the channel's hold when d was claimed with one.
func updateChannelPace(tx *gorm.DB, d *Delivery, r AttemptResult) error {
	var sets []string
	var args []any
	if !r.PauseUntil.IsZero() {
		p := r.PauseUntil.UnixMilli()
		sets = append(sets, "paused_until = CASE WHEN paused_until < ? THEN ? ELSE paused_until END")
		args = append(args, p, p)
	}
	var next int64
	if !r.NextSendAt.IsZero() {
		next = r.NextSendAt.UnixMilli()
	}
	switch {
	case d.Serial:
		// Only this claim's own hold: should the lease have lapsed and
		// another worker have taken the channel, its hold stays.
		sets = append(sets, "next_send_at = CASE WHEN next_send_at = ? THEN ? ELSE next_send_at END")
		args = append(args, d.LeaseUntil, next)
	case next > 0:
		sets = append(sets, "next_send_at = CASE WHEN next_send_at < ? THEN ? ELSE next_send_at END")
		args = append(args, next, next)
	}
	if len(sets) == 0 {
		return nil
	}
	return tx.Exec("UPDATE channels SET "+strings.Join(sets, ", ")+" WHERE id = ?", append(args, d.ChannelID)...).Error
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
// A webhook subscriber's channel is none of the admin's: its subscriber
// becomes bouncing instead (skipped by the fan-out, shown to the admin
// among the subscribers).
func auditAutoDisable(ctx context.Context, tx *gorm.DB, d *Delivery, reason string) error {
	var c Channel
	if err := tx.Select("id, name, subscriber_id").Where("id = ?", d.ChannelID).Take(&c).Error; err != nil {
		return err
	}
	if c.SubscriberID != nil {
		return tx.Model(&Subscriber{}).Where("id = ? AND state = ?", *c.SubscriberID, SubscriberActive).
			Update("state", SubscriberBouncing).Error
	}
	name := c.Name
	return audit(WithActor(ctx, NotifierActor()), tx, change{PageID: d.PageID, Action: "channel.disable",
		ObjectType: AuditChannel, ObjectID: idString(d.ChannelID),
		Summary: fmt.Sprintf("Disabled channel “%s” after delivery %s failed.", name, d.ID),
		Before:  auditEnabled{Enabled: true}, After: auditEnabled{Enabled: false, DisabledReason: reason}})
}

// ReleaseDelivery gives up a claim without an attempt (on shutdown), so
// another worker can take it at once.
func (s *Store) ReleaseDelivery(ctx context.Context, d *Delivery) error {
	err := s.conn(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Delivery{}).Where("id = ? AND lease_token = ?", d.ID, d.LeaseToken).
			Updates(map[string]any{"lease_until": 0, "lease_token": ""})
		if res.Error != nil || res.RowsAffected == 0 || !d.Serial {
			return res.Error
		}
		return tx.Exec("UPDATE channels SET next_send_at = 0 WHERE id = ? AND next_send_at = ?", d.ChannelID, d.LeaseUntil).Error
	})
	if err != nil {
		return fmt.Errorf("release delivery %s: %w", d.ID, err)
	}
	return nil
}

// RateLimitedSince is when the delivery's current run of rate-limited
// tries began: its first attempt after the last one with another outcome.
// It is false when the last attempt was not rate limited.
func (s *Store) RateLimitedSince(ctx context.Context, deliveryID string) (time.Time, bool, error) {
	var first []DeliveryAttempt
	err := s.conn(ctx).Where(`delivery_id = ? AND number > COALESCE(
  (SELECT MAX(number) FROM delivery_attempts WHERE delivery_id = ? AND outcome <> ?), 0)`,
		deliveryID, deliveryID, OutcomeRateLimited).Order("number").Limit(1).Find(&first).Error
	if err != nil {
		return time.Time{}, false, fmt.Errorf("rate limits of %s: %w", deliveryID, err)
	}
	if len(first) == 0 {
		return time.Time{}, false, nil
	}
	return first[0].StartedAt, true, nil
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

// NextDue is when the earliest pending delivery of an enabled channel may
// be claimed (due, unleased, its channel neither paused nor held), leaving
// out the channels in skip, and false when there is none.
func (s *Store) NextDue(ctx context.Context, skip ...int64) (time.Time, bool, error) {
	greatest := "GREATEST"
	if s.engine == SQLite {
		greatest = "MAX" // with several arguments, SQLite's MAX is a scalar function
	}
	q := `SELECT MIN(` + greatest + `(d.due_at, d.lease_until, c.paused_until, c.next_send_at))
FROM deliveries d JOIN channels c ON c.id = d.channel_id AND c.enabled WHERE d.due_at IS NOT NULL`
	var args []any
	if len(skip) > 0 {
		q += " AND d.channel_id NOT IN ?"
		args = append(args, skip)
	}
	var due *int64
	err := s.conn(ctx).Raw(q, args...).Scan(&due).Error
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
