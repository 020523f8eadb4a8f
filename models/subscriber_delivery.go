package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// MailKind says what a subscriber delivery carries.
type MailKind string

// The mail kinds.
const (
	MailConfirm MailKind = "confirm"
	MailEvent   MailKind = "event"
)

// SubscriberEventTypes are the events subscribers receive.
var SubscriberEventTypes = []EventType{
	EventIncidentCreated, EventIncidentUpdated, EventIncidentResolved,
	EventMaintenanceScheduled, EventMaintenanceStarted, EventMaintenanceCompleted,
}

// SubscriberDelivery is one e-mail to one subscriber: a confirmation
// (EventID nil) or one event. At most one exists per (event, subscriber).
type SubscriberDelivery struct {
	ID           int64
	PageID       int64
	SubscriberID int64
	EventID      *string
	Kind         MailKind
	State        DeliveryState
	Attempts     int
	ScheduleBase int
	DueAt        *int64
	LeaseUntil   int64
	LeaseToken   string
	LastCode     int
	LastError    string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	CompletedAt  *time.Time
}

// TableName keeps gorm from guessing.
func (SubscriberDelivery) TableName() string { return "subscriber_deliveries" }

// Round is how many attempts were made since the delivery was created or
// last replayed: the position in the retry schedule.
func (d *SubscriberDelivery) Round() int { return d.Attempts - d.ScheduleBase }

// subscriberFanout is a row of subscriber_fanouts: an event whose
// subscriber deliveries are not all written yet.
type subscriberFanout struct {
	EventID   string `gorm:"primaryKey"`
	PageID    int64
	AfterID   int64
	CreatedAt time.Time
}

func (subscriberFanout) TableName() string { return "subscriber_fanouts" }

// queueSubscriberFanout marks ev, in the transaction that writes it, for
// the engine to expand into subscriber deliveries later: one row, however
// many subscribers there are.
// Nothing is queued for an event subscribers do not receive, or when the
// admin unticked "Notify subscribers" (quietSubscribers).
func queueSubscriberFanout(tx *gorm.DB, ev *Event) error {
	if !wantsSubscribers(tx, ev.Type) {
		return nil
	}
	if err := tx.Create(&subscriberFanout{EventID: ev.ID, PageID: ev.PageID, CreatedAt: ev.OccurredAt}).Error; err != nil {
		return fmt.Errorf("queue subscriber fan-out of %s: %w", ev.Type, err)
	}
	return nil
}

// wantsSubscribers reports whether an event of type typ written on tx is
// for visitor subscriptions.
func wantsSubscribers(tx *gorm.DB, typ EventType) bool {
	return !subscribersQuiet(tx) && slices.Contains(SubscriberEventTypes, typ)
}

// errFanoutMoved: another engine advanced the same fan-out first.
var errFanoutMoved = errors.New("fan-out advanced by another engine")

// FanOutSubscribers writes the deliveries of up to batch subscribers for
// the oldest event still to expand, and says whether more fan-out work may
// be left: a subscriber delivery (e-mail) for an e-mail subscriber, a
// delivery to its channel for a webhook subscriber. The cursor moves in
// the same transaction as the deliveries it covers, and (event,
// subscriber) and (event, channel) are unique, so a crash or a second
// engine can neither lose nor double a delivery: the losing transaction
// rolls back and the work is looked at again.
func (s *Store) FanOutSubscribers(ctx context.Context, batch int) (created int, more bool, err error) {
	lock := ""
	if s.engine == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	now := s.Now()
	err = s.conn(ctx).Transaction(func(tx *gorm.DB) error {
		// A write first: on SQLite it takes the write lock before reading
		// (a read-then-write transaction of another process would fail);
		// on PostgreSQL it holds the row, and a second engine skips it.
		var f subscriberFanout
		res := tx.Raw(`UPDATE subscriber_fanouts SET after_id = after_id WHERE event_id =
  (SELECT event_id FROM subscriber_fanouts ORDER BY event_id LIMIT 1` + lock + `) RETURNING *`).Scan(&f)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil
		}
		more = true
		var ev Event
		if err := tx.Where("id = ?", f.EventID).Take(&ev).Error; err != nil {
			return fmt.Errorf("event %s: %w", f.EventID, err)
		}
		comps, err := eventComponentIDs(tx, &ev)
		if err != nil {
			return err
		}
		if comps == nil {
			comps = []int64{0} // no component: only "all components" subscribers
		}
		var subs []struct {
			ID   int64
			Kind SubscriberKind
		}
		err = tx.Model(&Subscriber{}).Select("id, kind").
			Where("page_id = ? AND state = ? AND id > ? AND confirmed_at <= ?",
				f.PageID, SubscriberActive, f.AfterID, ev.OccurredAt).
			Where("all_components OR id IN (SELECT subscriber_id FROM subscriber_components WHERE component_id IN ?)", comps).
			Order("id").Limit(batch).Scan(&subs).Error
		if err != nil {
			return fmt.Errorf("subscribers of %s: %w", ev.ID, err)
		}
		// E-mail subscribers get a subscriber delivery; webhook ones a
		// delivery to their channel, which the engine sends like any.
		var ids, hooks []int64
		for _, sub := range subs {
			if sub.Kind == SubscriberWebhook {
				hooks = append(hooks, sub.ID)
			} else {
				ids = append(ids, sub.ID)
			}
		}
		due := now.UnixMilli()
		if created, err = webhookSubscriberDeliveries(tx, &ev, hooks, due); err != nil {
			return err
		}
		if len(ids) > 0 {
			res := tx.Exec(`INSERT INTO subscriber_deliveries
    (page_id, subscriber_id, event_id, kind, state, due_at, created_at, updated_at)
  SELECT page_id, id, ?, ?, ?, ?, ?, ? FROM subscribers WHERE id IN ?
  ON CONFLICT (event_id, subscriber_id) DO NOTHING`,
				ev.ID, MailEvent, DeliveryPending, due, now, now, ids)
			if res.Error != nil {
				return fmt.Errorf("deliveries of %s: %w", ev.ID, res.Error)
			}
			created += int(res.RowsAffected)
		}
		// Conditional on the cursor read: only one engine moves it.
		var moved *gorm.DB
		if len(subs) < batch {
			moved = tx.Where("event_id = ? AND after_id = ?", f.EventID, f.AfterID).Delete(&subscriberFanout{})
		} else {
			moved = tx.Model(&subscriberFanout{}).Where("event_id = ? AND after_id = ?", f.EventID, f.AfterID).
				Update("after_id", subs[len(subs)-1].ID)
		}
		if moved.Error != nil {
			return fmt.Errorf("move fan-out cursor of %s: %w", ev.ID, moved.Error)
		}
		if moved.RowsAffected == 0 {
			return errFanoutMoved
		}
		return nil
	})
	if errors.Is(err, errFanoutMoved) {
		return 0, true, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("fan out to subscribers: %w", err)
	}
	if created > 0 {
		s.afterCommit(ctx, s.wake.Notify)
	}
	return created, more, nil
}

// eventComponentIDs are the components the incident or maintenance of ev
// affects now.
func eventComponentIDs(tx *gorm.DB, ev *Event) ([]int64, error) {
	var subject struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal([]byte(ev.Data), &subject); err != nil {
		return nil, fmt.Errorf("decode %s: %w", ev.ID, err)
	}
	table, column := "incident_components", "incident_id"
	if strings.HasPrefix(string(ev.Type), "maintenance.") {
		table, column = "maintenance_components", "maintenance_id"
	}
	var ids []int64
	if err := tx.Table(table).Where(column+" = ?", subject.ID).Pluck("component_id", &ids).Error; err != nil {
		return nil, fmt.Errorf("components of %s: %w", ev.ID, err)
	}
	return ids, nil
}

// PendingSubscriberFanouts counts events not yet fully expanded.
func (s *Store) PendingSubscriberFanouts(ctx context.Context) (int64, error) {
	var n int64
	if err := s.conn(ctx).Model(&subscriberFanout{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count subscriber fan-outs: %w", err)
	}
	return n, nil
}

// ClaimSubscriberDeliveries leases up to most due subscriber deliveries,
// oldest due first, for lease.
func (s *Store) ClaimSubscriberDeliveries(ctx context.Context, most int, lease time.Duration) ([]SubscriberDelivery, error) {
	now := s.Now().UnixMilli()
	lock := ""
	if s.engine == Postgres {
		lock = "FOR UPDATE SKIP LOCKED"
	}
	var out []SubscriberDelivery
	err := s.conn(ctx).Raw(`UPDATE subscriber_deliveries SET lease_until = ?, lease_token = ? WHERE id IN (
  SELECT id FROM subscriber_deliveries WHERE due_at IS NOT NULL AND due_at <= ? AND lease_until < ?
  ORDER BY due_at, id LIMIT ? `+lock+`
) RETURNING *`, now+lease.Milliseconds(), newLeaseToken(), now, now, most).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("claim subscriber deliveries: %w", err)
	}
	slices.SortFunc(out, func(a, b SubscriberDelivery) int { return int(a.ID - b.ID) })
	return out, nil
}

// ExtendSubscriberLeases renews, for lease from now, the deliveries of one
// claim (lease token) that are not recorded yet: a batch is sent one
// message after another, and each lease needs to outlast only a few.
func (s *Store) ExtendSubscriberLeases(ctx context.Context, token string, lease time.Duration) error {
	if token == "" {
		return nil
	}
	until := s.Now().UnixMilli() + lease.Milliseconds()
	if err := s.conn(ctx).Model(&SubscriberDelivery{}).Where("lease_token = ?", token).
		Update("lease_until", until).Error; err != nil {
		return fmt.Errorf("extend subscriber delivery leases: %w", err)
	}
	return nil
}

// SubscriberMail is what one e-mail is made of.
type SubscriberMail struct {
	Delivery   SubscriberDelivery
	Subscriber Subscriber
	Page       Page
	// Event is nil for a confirmation.
	Event *Event
	// ConfirmURL (confirmations only), PreferencesURL and UnsubscribeURL
	// are the links the message carries.
	ConfirmURL, PreferencesURL, UnsubscribeURL string
}

// SubscriptionConfirmPath, SubscriptionPreferencesPath and
// SubscriptionUnsubscribePath are the public paths of a subscriber's links
// (the unsubscribe one takes RFC 8058's one-click POST).
func SubscriptionConfirmPath(token string) string     { return "/subscriptions/confirm/" + token }
func SubscriptionPreferencesPath(token string) string { return "/subscriptions/" + token }
func SubscriptionUnsubscribePath(token string) string {
	return "/subscriptions/" + token + "/unsubscribe"
}

// SubscriberMails loads what the claimed deliveries need, in a few
// queries whatever their number. A delivery whose subscriber is gone (it
// unsubscribed meanwhile) has no entry.
func (s *Store) SubscriberMails(ctx context.Context, ds []SubscriberDelivery) ([]SubscriberMail, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	var subIDs []int64
	var eventIDs []string
	for _, d := range ds {
		subIDs = append(subIDs, d.SubscriberID)
		if d.EventID != nil {
			eventIDs = append(eventIDs, *d.EventID)
		}
	}
	var subs []Subscriber
	if err := s.conn(ctx).Where("id IN ?", subIDs).Find(&subs).Error; err != nil {
		return nil, fmt.Errorf("load subscribers: %w", err)
	}
	byID := make(map[int64]*Subscriber, len(subs))
	for i := range subs {
		byID[subs[i].ID] = &subs[i]
	}
	events, err := s.EventsByID(ctx, eventIDs)
	if err != nil {
		return nil, err
	}
	pages := map[int64]*Page{}
	// bases: the host of a page's subscription links, its own host name
	// when it has one (the /subscriptions/ paths answer on any host).
	bases := map[int64]string{}
	out := make([]SubscriberMail, 0, len(ds))
	for _, d := range ds {
		sub, ok := byID[d.SubscriberID]
		if !ok {
			continue
		}
		page, ok := pages[d.PageID]
		if !ok {
			page = &Page{}
			if err := s.conn(ctx).Where("id = ?", d.PageID).Take(page).Error; err != nil {
				return nil, fmt.Errorf("load page %d: %w", d.PageID, err)
			}
			pages[d.PageID] = page
			bases[d.PageID] = s.baseURL
			if r, err := pageRef(s.conn(ctx), d.PageID); err == nil && r.Domain != "" {
				bases[d.PageID] = "https://" + r.Domain
			}
		}
		base := bases[d.PageID]
		m := SubscriberMail{Delivery: d, Subscriber: *sub, Page: *page}
		manage, err := s.sealer.Open(sub.ManageTokenSealed)
		if err != nil {
			return nil, fmt.Errorf("open manage token of subscriber %d: %w", sub.ID, err)
		}
		m.PreferencesURL = base + SubscriptionPreferencesPath(manage)
		m.UnsubscribeURL = base + SubscriptionUnsubscribePath(manage)
		if d.Kind == MailConfirm && sub.ConfirmTokenSealed != "" {
			confirm, err := s.sealer.Open(sub.ConfirmTokenSealed)
			if err != nil {
				return nil, fmt.Errorf("open confirmation token of subscriber %d: %w", sub.ID, err)
			}
			m.ConfirmURL = base + SubscriptionConfirmPath(confirm)
		}
		if d.EventID != nil {
			ev, ok := events[*d.EventID]
			if !ok {
				continue // pruned
			}
			m.Event = &ev
		}
		out = append(out, m)
	}
	return out, nil
}

// SubscriberDeliveries lists a subscriber's deliveries, oldest first.
func (s *Store) SubscriberDeliveries(ctx context.Context, subscriberID int64) ([]SubscriberDelivery, error) {
	var out []SubscriberDelivery
	if err := s.conn(ctx).Where("subscriber_id = ?", subscriberID).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list deliveries of subscriber %d: %w", subscriberID, err)
	}
	return out, nil
}

// CountSubscriberDeliveries counts deliveries of an event (all events
// when eventID is empty) in a state (any when empty).
func (s *Store) CountSubscriberDeliveries(ctx context.Context, eventID string, state DeliveryState) (int64, error) {
	q := s.conn(ctx).Model(&SubscriberDelivery{})
	if eventID != "" {
		q = q.Where("event_id = ?", eventID)
	}
	if state != "" {
		q = q.Where("state = ?", state)
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count subscriber deliveries: %w", err)
	}
	return n, nil
}

// PruneSubscriberDeliveries deletes finished subscriber deliveries
// completed before cutoff, and with them their attempts (the foreign key
// cascades).
func (s *Store) PruneSubscriberDeliveries(ctx context.Context, cutoff time.Time) (int64, error) {
	res := s.conn(ctx).Where("due_at IS NULL AND completed_at < ?", cutoff).Delete(&SubscriberDelivery{})
	if res.Error != nil {
		return 0, fmt.Errorf("prune subscriber deliveries: %w", res.Error)
	}
	return res.RowsAffected, nil
}
