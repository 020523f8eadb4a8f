package models

import (
	"math"
	"time"

	"gorm.io/gorm"
)

// DefaultPartialWeight is how much of partial-outage time counts as down,
// as Statuspage counts it.
const DefaultPartialWeight = 0.3

// UptimeWindow is the span uptime figures cover.
const UptimeWindow = 90 * 24 * time.Hour

// Uptime sums a status history over a period.
type Uptime struct {
	Tracked     time.Duration // time with data, maintenance excluded
	Down        time.Duration // weighted down time
	Maintenance time.Duration
	Worst       ComponentStatus
	HasData     bool
}

// Percent is the uptime percentage, 100 when nothing was tracked.
func (u Uptime) Percent() float64 {
	if u.Tracked <= 0 {
		return 100
	}
	p := 100 * (1 - float64(u.Down)/float64(u.Tracked))
	return math.Round(p*100) / 100
}

// ComputeUptime walks history (oldest first) over [from, to). Before the
// first change there is no data; major outage counts fully down, partial
// outage counts partialWeight, maintenance is left out.
func ComputeUptime(history []StatusChange, from, to time.Time, partialWeight float64) Uptime {
	var u Uptime
	u.Worst = StatusOperational
	for i, ch := range history {
		start := ch.ChangedAt
		end := to
		if i+1 < len(history) {
			end = history[i+1].ChangedAt
		}
		if start.Before(from) {
			start = from
		}
		if end.After(to) {
			end = to
		}
		if !end.After(start) {
			continue
		}
		u.HasData = true
		d := end.Sub(start)
		if ch.NewStatus.Worse(u.Worst) {
			u.Worst = ch.NewStatus
		}
		switch ch.NewStatus {
		case StatusUnderMaintenance:
			u.Maintenance += d
			continue
		case StatusMajorOutage:
			u.Down += d
		case StatusPartialOutage:
			u.Down += time.Duration(float64(d) * partialWeight)
		}
		u.Tracked += d
	}
	return u
}

// uptimePercent is the 90-day uptime of a component up to now.
func (s *Store) uptimePercent(tx *gorm.DB, componentID int64, now time.Time) (float64, error) {
	var history []StatusChange
	if err := tx.Where("component_id = ?", componentID).Order("changed_at, id").Find(&history).Error; err != nil {
		return 0, err
	}
	return ComputeUptime(history, now.Add(-UptimeWindow), now, s.partialWeight).Percent(), nil
}
