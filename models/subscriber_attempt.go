package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// SubscriberDeliveryAttempt is the log of one attempt to send a
// subscriber's e-mail: what the SMTP server answered, with the address
// replaced by "[subscriber]".
type SubscriberDeliveryAttempt struct {
	ID                   int64
	SubscriberDeliveryID int64
	Number               int
	StartedAt            time.Time
	DurationMS           int
	Code                 int
	Reply                string
	Error                string
	Outcome              string
}

// TableName keeps gorm from guessing.
func (SubscriberDeliveryAttempt) TableName() string { return "subscriber_delivery_attempts" }

// MailResult is how one e-mail attempt ended.
type MailResult struct {
	// State is delivered, retrying (with NextAt), failed or skipped. A
	// skipped e-mail was not attempted: it logs no attempt.
	State  DeliveryState
	NextAt time.Time
	// Permanent marks a refusal the server called permanent (5xx): it
	// counts towards the subscriber's BounceAfter.
	Permanent bool
	// Code and Reply are the server's last answer; Error says what went
	// wrong. None may hold the subscriber's address.
	Code  int
	Reply string
	Error string
	// StartedAt and DurationMS time the attempt (zero StartedAt: now).
	StartedAt  time.Time
	DurationMS int
}

// MailOutcome is a claimed delivery and how its attempt ended.
type MailOutcome struct {
	Delivery *SubscriberDelivery
	Result   MailResult
}

// recordChunk bounds the ids of one set-based update (SQLite allows
// 32,766 parameters; PostgreSQL 65,535).
const recordChunk = 500

// RecordSubscriberAttempt records one attempt: see
// RecordSubscriberAttempts. It fails with ErrLeaseLost when the caller no
// longer holds the delivery's lease.
func (s *Store) RecordSubscriberAttempt(ctx context.Context, d *SubscriberDelivery, r MailResult) error {
	lost, err := s.RecordSubscriberAttempts(ctx, []MailOutcome{{Delivery: d, Result: r}})
	if err != nil {
		return err
	}
	if lost > 0 {
		return fmt.Errorf("record subscriber delivery %d: %w", d.ID, ErrLeaseLost)
	}
	return nil
}

// RecordSubscriberAttempts moves claimed deliveries on and logs their
// attempts, in one transaction: delivered ones with one update per lease
// and a multi-row insert of their attempts, the others (rare: refusals,
// skips) one by one. Each row changes only while its lease token still
// matches; the deliveries whose lease was lost (another engine took them
// over) are left alone and counted in lost. Permanent failures in a row
// are counted on the subscriber; at BounceAfter it becomes bouncing and its
// other queued e-mails are skipped. A delivered e-mail ends the run.
func (s *Store) RecordSubscriberAttempts(ctx context.Context, outs []MailOutcome) (lost int, err error) {
	if len(outs) == 0 {
		return 0, nil
	}
	now := s.Now()
	recorded := make([]bool, len(outs))
	err = s.conn(ctx).Transaction(func(tx *gorm.DB) error {
		clear(recorded)
		if s.engine == Postgres {
			// Commit without waiting for the disk: the e-mails are out
			// already. Should PostgreSQL itself crash within the next
			// moment, the deliveries stay claimed and are sent again when
			// their lease runs out (at least once); should Herald crash,
			// nothing is lost.
			if err := tx.Exec("SET LOCAL synchronous_commit = off").Error; err != nil {
				return fmt.Errorf("relax commit: %w", err)
			}
		}
		var log []SubscriberDeliveryAttempt
		type group struct {
			token string
			code  int
		}
		delivered := map[group][]int{}
		for i, o := range outs {
			if o.Result.State == DeliveryDelivered {
				g := group{o.Delivery.LeaseToken, o.Result.Code}
				delivered[g] = append(delivered[g], i)
				continue
			}
			ok, a, err := recordOne(tx, o.Delivery, o.Result, now)
			if err != nil {
				return err
			}
			recorded[i] = ok
			if ok && a != nil {
				log = append(log, *a)
			}
		}
		for g, idx := range delivered {
			for start := 0; start < len(idx); start += recordChunk {
				part := idx[start:min(start+recordChunk, len(idx))]
				attempts, err := s.recordDelivered(tx, g.token, g.code, outs, part, now)
				if err != nil {
					return err
				}
				var subs []int64
				for _, i := range part {
					n, ok := attempts[outs[i].Delivery.ID]
					if !ok {
						continue
					}
					recorded[i] = true
					subs = append(subs, outs[i].Delivery.SubscriberID)
					log = append(log, attemptRow(outs[i].Delivery.ID, n, outs[i].Result, now))
				}
				if len(subs) > 0 {
					if err := tx.Model(&Subscriber{}).Where("id IN ? AND permanent_failures > 0", subs).
						Update("permanent_failures", 0).Error; err != nil {
						return fmt.Errorf("reset permanent failures: %w", err)
					}
				}
			}
		}
		if len(log) > 0 {
			if err := tx.CreateInBatches(log, recordChunk).Error; err != nil {
				return fmt.Errorf("log attempts: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("record %d subscriber deliveries: %w", len(outs), err)
	}
	for i, o := range outs {
		if !recorded[i] {
			lost++
			continue
		}
		d := o.Delivery
		if o.Result.State != DeliverySkipped {
			d.Attempts++
		}
		d.State, d.LeaseToken, d.LeaseUntil = o.Result.State, "", 0
	}
	return lost, nil
}

// recordDelivered marks delivered, in one statement, the deliveries
// outs[part] still held under token, and returns each one's attempt
// count afterwards.
func (s *Store) recordDelivered(tx *gorm.DB, token string, code int, outs []MailOutcome, part []int, now time.Time) (map[int64]int, error) {
	ids := make([]int64, len(part))
	for j, i := range part {
		ids[j] = outs[i].Delivery.ID
	}
	var rows []struct {
		ID       int64
		Attempts int
	}
	err := tx.Raw(`UPDATE subscriber_deliveries SET state = ?, attempts = attempts + 1, lease_until = 0, lease_token = '',
  last_code = ?, last_error = '', due_at = NULL, completed_at = ?, updated_at = ?
WHERE lease_token = ? AND id IN ? RETURNING id, attempts`,
		DeliveryDelivered, code, now, now, token, ids).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("mark %d e-mails delivered: %w", len(ids), err)
	}
	out := make(map[int64]int, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Attempts
	}
	return out, nil
}

// attemptRow is the log row of attempt number n of delivery id.
func attemptRow(id int64, n int, r MailResult, now time.Time) SubscriberDeliveryAttempt {
	at := r.StartedAt
	if at.IsZero() {
		at = now
	}
	return SubscriberDeliveryAttempt{SubscriberDeliveryID: id, Number: n, StartedAt: at, DurationMS: r.DurationMS,
		Code: r.Code, Reply: r.Reply, Error: r.Error, Outcome: string(r.State)}
}

// recordOne moves one delivery on, unless its lease is lost (false), and
// returns its attempt's log row (nil for a skip).
func recordOne(tx *gorm.DB, d *SubscriberDelivery, r MailResult, now time.Time) (bool, *SubscriberDeliveryAttempt, error) {
	attempts := d.Attempts
	if r.State != DeliverySkipped {
		attempts++
	}
	upd := map[string]any{"state": r.State, "attempts": attempts, "lease_until": 0, "lease_token": "",
		"last_code": r.Code, "last_error": r.Error, "updated_at": now}
	if r.State == DeliveryRetrying {
		upd["due_at"] = r.NextAt.UnixMilli()
	} else {
		upd["due_at"], upd["completed_at"] = nil, now
	}
	res := tx.Model(&SubscriberDelivery{}).Where("id = ? AND lease_token = ?", d.ID, d.LeaseToken).Updates(upd)
	if res.Error != nil {
		return false, nil, fmt.Errorf("record subscriber delivery %d: %w", d.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return false, nil, nil
	}
	if r.Permanent {
		if err := countPermanentFailure(tx, d, now); err != nil {
			return false, nil, fmt.Errorf("count permanent failure of subscriber %d: %w", d.SubscriberID, err)
		}
	}
	if r.State == DeliverySkipped {
		return true, nil, nil
	}
	a := attemptRow(d.ID, attempts, r, now)
	return true, &a, nil
}

// countPermanentFailure adds one to the subscriber's permanent failures;
// at BounceAfter it becomes bouncing and its queued e-mails are skipped
// (those claimed now are recorded by their own attempt).
func countPermanentFailure(tx *gorm.DB, d *SubscriberDelivery, now time.Time) error {
	if err := tx.Model(&Subscriber{}).Where("id = ?", d.SubscriberID).
		Update("permanent_failures", gorm.Expr("permanent_failures + 1")).Error; err != nil {
		return err
	}
	bounced := tx.Model(&Subscriber{}).Where("id = ? AND permanent_failures >= ? AND state = ?",
		d.SubscriberID, BounceAfter, SubscriberActive).Update("state", SubscriberBouncing)
	if bounced.Error != nil || bounced.RowsAffected == 0 {
		return bounced.Error
	}
	return tx.Model(&SubscriberDelivery{}).
		Where("subscriber_id = ? AND due_at IS NOT NULL AND id <> ? AND lease_token = ''", d.SubscriberID, d.ID).
		Updates(map[string]any{"state": DeliverySkipped, "due_at": nil, "completed_at": now, "updated_at": now,
			"last_error": "The address bounced: skipped."}).Error
}

// Why a subscriber e-mail cannot be replayed.
var (
	ErrSubscriberGone      = errors.New("the subscriber no longer exists (it unsubscribed or was removed)")
	ErrSubscriberBouncing  = errors.New("the subscriber's address is bouncing")
	ErrSubscriberPending   = errors.New("the subscriber has not confirmed the subscription")
	ErrSubscriberConfirmed = errors.New("the subscriber has confirmed the subscription already")
)

// ReplaySubscriberDelivery sends a subscriber's e-mail once more, now,
// with a fresh retry schedule: a final delivery goes back to pending, its
// attempts are kept and the next ones numbered on. It refuses a
// subscriber that is gone (ErrSubscriberGone), bouncing
// (ErrSubscriberBouncing), for an event not confirmed
// (ErrSubscriberPending), for a confirmation confirmed already
// (ErrSubscriberConfirmed); and fails with ErrConflict while an attempt is
// in flight. The replay is audited without the address.
func (s *Store) ReplaySubscriberDelivery(ctx context.Context, subscriberID, deliveryID int64) error {
	now := s.Now()
	err := s.transact(ctx, func(tx *gorm.DB) error {
		var sub Subscriber
		if err := tx.Where("id = ?", subscriberID).Take(&sub).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return ErrSubscriberGone
			}
			return err
		}
		var d SubscriberDelivery
		if err := tx.Where("id = ? AND subscriber_id = ?", deliveryID, subscriberID).Take(&d).Error; err != nil {
			return notFound(err)
		}
		switch {
		case sub.State == SubscriberBouncing:
			return ErrSubscriberBouncing
		case d.Kind == MailEvent && sub.State != SubscriberActive:
			return ErrSubscriberPending
		case d.Kind == MailConfirm && sub.State != SubscriberPending:
			return ErrSubscriberConfirmed
		}
		res := tx.Model(&SubscriberDelivery{}).
			Where("id = ? AND lease_until < ?", d.ID, now.UnixMilli()).
			Updates(map[string]any{"state": DeliveryPending, "due_at": now.UnixMilli(),
				"schedule_base": gorm.Expr("attempts"), "completed_at": nil, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("an attempt is in flight: %w", ErrConflict)
		}
		what := "confirmation e-mail"
		if d.Kind == MailEvent {
			what = "e-mail"
		}
		return audit(ctx, tx, change{PageID: d.PageID, Action: "subscriber.replay", ObjectType: AuditSubscriber,
			ObjectID: idString(sub.ID), Summary: fmt.Sprintf("Replayed %s %d to subscriber %d.", what, d.ID, sub.ID),
			Before: auditSubscriberDelivery{DeliveryID: d.ID, Kind: d.Kind, State: string(d.State), Attempts: d.Attempts},
			After:  auditSubscriberDelivery{DeliveryID: d.ID, Kind: d.Kind, State: string(DeliveryPending), Attempts: d.Attempts}})
	})
	if err != nil {
		return fmt.Errorf("replay subscriber delivery %d: %w", deliveryID, err)
	}
	s.afterCommit(ctx, s.wake.Notify)
	return nil
}

// auditSubscriberDelivery is what the audit log keeps of a subscriber's
// e-mail: no address.
type auditSubscriberDelivery struct {
	DeliveryID int64    `json:"delivery_id"`
	Kind       MailKind `json:"kind"`
	State      string   `json:"state,omitempty"`
	Attempts   int      `json:"attempts,omitempty"`
}

// SubscriberByID loads one subscriber with its components.
func (s *Store) SubscriberByID(ctx context.Context, id int64) (*Subscriber, error) {
	var sub Subscriber
	if err := s.conn(ctx).Where("id = ?", id).Take(&sub).Error; err != nil {
		return nil, fmt.Errorf("load subscriber %d: %w", id, notFound(err))
	}
	if !sub.AllComponents {
		if err := s.conn(ctx).Model(&subscriberComponent{}).Where("subscriber_id = ?", id).
			Order("component_id").Pluck("component_id", &sub.Components).Error; err != nil {
			return nil, fmt.Errorf("load components of subscriber %d: %w", id, err)
		}
	}
	return &sub, nil
}

// SubscriberDeliveryLog is one of a subscriber's e-mails with every
// attempt, first first.
type SubscriberDeliveryLog struct {
	Delivery SubscriberDelivery
	// EventType and EventTitle name the event (empty for a confirmation,
	// or once the event is pruned).
	EventType  EventType
	EventTitle string
	Log        []SubscriberDeliveryAttempt
}

// SubscriberDeliveryLogs lists a subscriber's most recent e-mails, newest
// first, at most limit, with their attempts; total counts them all.
func (s *Store) SubscriberDeliveryLogs(ctx context.Context, subscriberID int64, limit int) (out []SubscriberDeliveryLog, total int64, err error) {
	q := s.conn(ctx).Model(&SubscriberDelivery{}).Where("subscriber_id = ?", subscriberID)
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count deliveries of subscriber %d: %w", subscriberID, err)
	}
	var ds []SubscriberDelivery
	if err := s.conn(ctx).Where("subscriber_id = ?", subscriberID).Order("id DESC").Limit(limit).Find(&ds).Error; err != nil {
		return nil, 0, fmt.Errorf("list deliveries of subscriber %d: %w", subscriberID, err)
	}
	if len(ds) == 0 {
		return nil, total, nil
	}
	ids := make([]int64, len(ds))
	var eventIDs []string
	for i, d := range ds {
		ids[i] = d.ID
		if d.EventID != nil {
			eventIDs = append(eventIDs, *d.EventID)
		}
	}
	var attempts []SubscriberDeliveryAttempt
	if err := s.conn(ctx).Where("subscriber_delivery_id IN ?", ids).Order("subscriber_delivery_id, number").
		Find(&attempts).Error; err != nil {
		return nil, 0, fmt.Errorf("list attempts of subscriber %d: %w", subscriberID, err)
	}
	byDelivery := map[int64][]SubscriberDeliveryAttempt{}
	for _, a := range attempts {
		byDelivery[a.SubscriberDeliveryID] = append(byDelivery[a.SubscriberDeliveryID], a)
	}
	events, err := s.EventsByID(ctx, eventIDs)
	if err != nil {
		return nil, 0, err
	}
	out = make([]SubscriberDeliveryLog, len(ds))
	for i, d := range ds {
		out[i] = SubscriberDeliveryLog{Delivery: d, Log: byDelivery[d.ID]}
		if d.EventID == nil {
			continue
		}
		if ev, ok := events[*d.EventID]; ok {
			var subject struct {
				Title string `json:"title"`
			}
			_ = json.Unmarshal([]byte(ev.Data), &subject) // a title is a nicety: the type still names it
			out[i].EventType, out[i].EventTitle = ev.Type, subject.Title
		}
	}
	return out, total, nil
}
