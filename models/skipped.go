package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// Skipped deliveries. An event that happens while a channel is disabled
// is not dropped: fanOut records its delivery as skipped (not due, never
// claimed), with the event, so the delivery log shows what the channel
// missed. Re-enabling the channel sends nothing on its own — the outage
// may be long over, and a burst of stale notifications would be noise —
// but the admin can send all of them in one go, oldest event first.

// skippedReason is the log's note on a skipped delivery.
const skippedReason = "Not sent: the channel was disabled when this event happened."

// ErrChannelDisabled means the channel must be enabled first.
var ErrChannelDisabled = fmt.Errorf("the channel is disabled: %w", ErrConflict)

// auditSkipped is the audit snapshot of a send of skipped deliveries.
type auditSkipped struct {
	Skipped int `json:"skipped"`
	Queued  int `json:"queued"`
}

// SkippedCounts counts the skipped deliveries of each channel of a page
// that has any.
func (s *Store) SkippedCounts(ctx context.Context, pageID int64) (map[int64]int, error) {
	var rows []struct {
		ChannelID int64
		N         int
	}
	err := s.conn(ctx).Model(&Delivery{}).Select("channel_id, COUNT(*) AS n").
		Where("page_id = ? AND state = ?", pageID, DeliverySkipped).Group("channel_id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("count skipped deliveries of page %d: %w", pageID, err)
	}
	out := make(map[int64]int, len(rows))
	for _, r := range rows {
		out[r.ChannelID] = r.N
	}
	return out, nil
}

// QueueSkippedDeliveries queues every skipped delivery of channel id, to
// go out now in the order of their events, oldest first, and returns how
// many it queued. The channel must be enabled (else ErrChannelDisabled).
// Each keeps its id, the X-Request-ID its receiver de-duplicates by.
func (s *Store) QueueSkippedDeliveries(ctx context.Context, id int64) (int, error) {
	now := s.Now()
	queued := 0
	err := s.transact(ctx, func(tx *gorm.DB) error {
		var c Channel
		if err := tx.Select("id", "page_id", "name", "enabled").Where("subscriber_id IS NULL").First(&c, id).Error; err != nil {
			return notFound(err)
		}
		if !c.Enabled {
			return ErrChannelDisabled
		}
		var skipped int64
		if err := tx.Model(&Delivery{}).Where("channel_id = ? AND state = ?", id, DeliverySkipped).Count(&skipped).Error; err != nil {
			return err
		}
		if skipped == 0 {
			return nil
		}
		// Due dates one millisecond apart, in event order, ending now:
		// all are due at once, and a claim, which takes the earliest due
		// first, takes them oldest event first.
		res := tx.Exec(`UPDATE deliveries SET state = ?, due_at = ? + r.rn, schedule_base = deliveries.attempts,
  completed_at = NULL, last_error = '', lease_until = 0, lease_token = '', updated_at = ?
FROM (
  SELECT d.id, ROW_NUMBER() OVER (ORDER BY COALESCE(e.occurred_at, d.created_at), d.event_id, d.id) AS rn
  FROM deliveries d LEFT JOIN events e ON e.id = d.event_id
  WHERE d.channel_id = ? AND d.state = ?
) r
WHERE deliveries.id = r.id`, DeliveryPending, now.UnixMilli()-skipped, now, id, DeliverySkipped)
		if res.Error != nil {
			return res.Error
		}
		queued = int(res.RowsAffected)
		if err := notifyDeliveries(tx); err != nil {
			return err
		}
		return audit(ctx, tx, change{PageID: c.PageID, Action: "channel.send_skipped", ObjectType: AuditChannel,
			ObjectID: idString(c.ID), Summary: fmt.Sprintf("Sent the %d skipped %s of “%s”, oldest event first.",
				queued, plural(queued, "notification", "notifications"), c.Name),
			Before: auditSkipped{Skipped: int(skipped)}, After: auditSkipped{Queued: queued}})
	})
	if err != nil {
		return 0, fmt.Errorf("send skipped deliveries of channel %d: %w", id, err)
	}
	if queued > 0 {
		s.afterCommit(ctx, s.wake.Notify)
	}
	return queued, nil
}

// notifyDeliveries wakes the other replicas' workers when tx commits.
func notifyDeliveries(tx *gorm.DB) error {
	if tx.Dialector.Name() != "postgres" {
		return nil
	}
	if err := tx.Exec("SELECT pg_notify(?, '')", DeliveriesChannel).Error; err != nil {
		return fmt.Errorf("notify %s: %w", DeliveriesChannel, err)
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
