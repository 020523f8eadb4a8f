package models

import (
	"context"
	"fmt"
	"time"
)

// UptimeDays is how many days the uptime bar shows.
const UptimeDays = 90

// DayUptime is one cell of the uptime bar: a UTC calendar day.
type DayUptime struct {
	Date   time.Time // midnight UTC
	Uptime Uptime
}

// NoData reports whether the component did not exist (or had no
// recorded status) on that day.
func (d DayUptime) NoData() bool { return !d.Uptime.HasData }

// DailyUptime splits history (oldest first) into the days UTC-aligned
// days ending with the day of now. Today counts up to now only.
func DailyUptime(history []StatusChange, now time.Time, days int, partialWeight float64) []DayUptime {
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	out := make([]DayUptime, days)
	for i := range days {
		from := today.AddDate(0, 0, i-days+1)
		to := from.AddDate(0, 0, 1)
		if to.After(now) {
			to = now
		}
		out[i] = DayUptime{Date: from, Uptime: ComputeUptime(history, from, to, partialWeight)}
	}
	return out
}

// PeriodUptime sums the days of a bar into one figure.
func PeriodUptime(days []DayUptime) Uptime {
	var u Uptime
	u.Worst = StatusOperational
	for _, d := range days {
		if !d.Uptime.HasData {
			continue
		}
		u.HasData = true
		u.Tracked += d.Uptime.Tracked
		u.Down += d.Uptime.Down
		u.Maintenance += d.Uptime.Maintenance
		if d.Uptime.Worst.Worse(u.Worst) {
			u.Worst = d.Uptime.Worst
		}
	}
	return u
}

// PartialWeight is the share of partial-outage time counted as down.
func (s *Store) PartialWeight() float64 { return s.partialWeight }

// StatusHistories returns, per component of the page, its status changes
// from since on, preceded by the last change before since (the status the
// period starts in). Oldest first.
func (s *Store) StatusHistories(ctx context.Context, pageID int64, since time.Time) (map[int64][]StatusChange, error) {
	var rows []StatusChange
	err := s.conn(ctx).Raw(`
SELECT h.* FROM component_status_changes h
JOIN components c ON c.id = h.component_id AND c.page_id = ?
WHERE h.changed_at >= ?
   OR h.id = (SELECT h2.id FROM component_status_changes h2
              WHERE h2.component_id = h.component_id AND h2.changed_at < ?
              ORDER BY h2.changed_at DESC, h2.id DESC LIMIT 1)
ORDER BY h.component_id, h.changed_at, h.id`, pageID, since.UTC(), since.UTC()).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("load status histories of page %d: %w", pageID, err)
	}
	out := map[int64][]StatusChange{}
	for _, r := range rows {
		out[r.ComponentID] = append(out[r.ComponentID], r)
	}
	return out, nil
}
