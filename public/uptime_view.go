package public

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldstatus/herald/models"
)

// The page's days, in the uptime bar and in the recent history, are UTC
// calendar days (SPEC §6.2); visitors' browsers localise times, not days.

const oneDay = 24 * time.Hour

// BarDay is one cell of a component's uptime bar, ready to show.
type BarDay struct {
	Date time.Time // midnight UTC
	// Status is the day's worst status, "" when there is no data (the
	// component did not exist yet).
	Status  models.ComponentStatus
	Percent string // "99.95%"; "" without data
	// Incidents are the titles of the incidents that touched the day,
	// oldest first.
	Incidents []string
}

// NoData reports whether the day has no recorded status.
func (b BarDay) NoData() bool { return b.Status == "" }

// Tooltip is the day in words, for the cell's title: the date, the uptime
// (with the worst status when not operational), and the incidents.
func (b BarDay) Tooltip() string {
	var sb strings.Builder
	sb.WriteString(b.Date.UTC().Format("Jan 2, 2006"))
	sb.WriteString("\n")
	if b.NoData() {
		sb.WriteString("No data")
	} else {
		sb.WriteString(b.Percent + " uptime")
		if b.Status != models.StatusOperational {
			sb.WriteString(" · " + b.Status.Label())
		}
	}
	for _, title := range b.Incidents {
		sb.WriteString("\n• " + title)
	}
	return sb.String()
}

// Bar is a component's uptime bar.
type Bar struct {
	Days    []BarDay // oldest first
	Percent string   // over all the days: "99.95%"; "" without data
}

// UptimeBars builds the bar of every visible component of d, from its
// daily uptime and the incidents of d (recent and unresolved).
func UptimeBars(d *Data) map[int64]Bar {
	incidents := pageIncidents(d)
	out := make(map[int64]Bar, len(d.Components))
	for _, c := range d.Components {
		out[c.ID] = uptimeBar(d.Days[c.ID], d.Uptime[c.ID], componentIncidents(incidents, c.ID), d.Now)
	}
	return out
}

// uptimeBar turns days into cells; incidents are those that may concern
// the component, oldest first.
func uptimeBar(days []models.DayUptime, total models.Uptime, incidents []*models.Incident, now time.Time) Bar {
	bar := Bar{Days: make([]BarDay, len(days))}
	if total.HasData {
		bar.Percent = PercentText(total)
	}
	for i, du := range days {
		cell := BarDay{Date: du.Date}
		if !du.NoData() {
			cell.Status = du.Uptime.Worst
			cell.Percent = PercentText(du.Uptime)
		}
		for _, inc := range incidents {
			if touchesDay(inc, du.Date, now) {
				cell.Incidents = append(cell.Incidents, inc.Title)
			}
		}
		bar.Days[i] = cell
	}
	return bar
}

// PercentText writes an uptime percentage: "100%", "99.95%", "87.5%".
// Any down time reads at most 99.99%, never a rounded-up 100%.
func PercentText(u models.Uptime) string {
	p := u.Percent()
	if u.Down > 0 && p >= 100 {
		p = 99.99
	}
	return strconv.FormatFloat(math.Max(p, 0), 'f', -1, 64) + "%"
}

// pageIncidents is d.Incidents with d.Unresolved, each once, oldest first.
func pageIncidents(d *Data) []*models.Incident {
	seen := map[int64]bool{}
	var out []*models.Incident
	for _, list := range [][]models.Incident{d.Incidents, d.Unresolved} {
		for i := range list {
			if inc := &list[i]; !seen[inc.ID] {
				seen[inc.ID] = true
				out = append(out, inc)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b *models.Incident) int {
		if c := a.StartedAt.Compare(b.StartedAt); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	return out
}

// componentIncidents keeps the incidents that name the component, and
// those that name no component at all (they concern the whole page).
func componentIncidents(all []*models.Incident, componentID int64) []*models.Incident {
	var out []*models.Incident
	for _, inc := range all {
		if len(inc.Components) == 0 || slices.ContainsFunc(inc.Components, func(c models.Component) bool { return c.ID == componentID }) {
			out = append(out, inc)
		}
	}
	return out
}

// touchesDay reports whether the incident, from its start to its
// resolution (or now, while unresolved), overlaps the UTC day starting at
// date. An incident resolved at midnight does not touch the next day.
func touchesDay(inc *models.Incident, date, now time.Time) bool {
	start, end := inc.StartedAt, now
	if inc.ResolvedAt != nil {
		end = *inc.ResolvedAt
	}
	dayEnd := date.Add(oneDay)
	if !start.Before(dayEnd) {
		return false
	}
	return end.After(date) || !start.Before(date)
}

// HistoryDay is one day of the page's recent history: the incidents that
// started that day and the completed maintenance windows that began that
// day, both newest first.
type HistoryDay struct {
	Date         time.Time // midnight UTC
	Incidents    []*models.Incident
	Maintenances []*models.Maintenance
}

// RecentHistory lists the last n UTC days up to d.Now, newest first, each
// with its incidents and completed maintenance (cancelled, scheduled and
// running windows are left out: they are not history, or are shown
// elsewhere).
func RecentHistory(d *Data, n int) []HistoryDay {
	today := midnight(d.Now)
	out := make([]HistoryDay, n)
	for i := range out {
		out[i].Date = today.AddDate(0, 0, -i)
	}
	// slot is the index of t's day in out, or -1.
	slot := func(t time.Time) int {
		i := int(today.Sub(midnight(t)) / oneDay)
		if i < 0 || i >= n {
			return -1
		}
		return i
	}
	for i := range d.Incidents { // most recent first already
		inc := &d.Incidents[i]
		if s := slot(inc.StartedAt); s >= 0 {
			out[s].Incidents = append(out[s].Incidents, inc)
		}
	}
	for i := range d.Maintenances { // most recent first already
		m := &d.Maintenances[i]
		if m.Status != models.MaintenanceCompleted {
			continue
		}
		if s := slot(m.WindowStart); s >= 0 {
			out[s].Maintenances = append(out[s].Maintenances, m)
		}
	}
	return out
}

func midnight(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
