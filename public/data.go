// Package public builds what visitors of the status page get: the HTML
// page, the Statuspage-compatible JSON, the feeds and the badges. All of
// it is rendered from one Data, read from the database in one go, into an
// in-memory snapshot that is rebuilt when something changes (SPEC §6).
package public

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldstatus/herald/models"
)

// RecentLimit is how many past incidents and maintenance windows the JSON
// lists (Statuspage: "the 50 most recent").
const RecentLimit = 50

// Data is a consistent read of everything public about one page.
type Data struct {
	Page models.Page
	// Ref is the page's slug and host name; BaseURL its public URL, no
	// trailing slash (see models.Store.PageBaseURL).
	Ref     models.PageRef
	BaseURL string
	Now     time.Time

	// Groups in position order, and the visible components, ungrouped
	// first, then by group and position.
	Groups     []models.Group
	Components []models.Component
	// Days is each visible component's 90-day bar, oldest day first;
	// Uptime its 90-day total.
	Days   map[int64][]models.DayUptime
	Uptime map[int64]models.Uptime

	// Unresolved incidents, and the RecentLimit most recent incidents of
	// any status (unresolved included), most recent first, with their
	// timelines.
	Unresolved []models.Incident
	Incidents  []models.Incident
	// Maintenance: in progress (soonest end first), upcoming (soonest
	// first), and the RecentLimit most recent of any status.
	Active       []models.Maintenance
	Upcoming     []models.Maintenance
	Maintenances []models.Maintenance
	// Calendar is what /maintenance.ics lists: windows scheduled or in
	// progress, and those completed or cancelled in the last
	// CalendarHorizon, soonest first.
	Calendar []models.Maintenance
}

// Load reads Data for a page at now.
func Load(ctx context.Context, store *models.Store, pageID int64, now time.Time) (*Data, error) {
	d := &Data{Now: now.UTC()}
	page, err := store.Page(ctx, pageID)
	if err != nil {
		return nil, err
	}
	ref, err := store.PageRef(ctx, pageID)
	if err != nil {
		return nil, err
	}
	d.Ref, d.BaseURL = ref, store.PageBaseURL(ref)
	d.Page = *page
	if d.Groups, err = store.Groups(ctx, pageID); err != nil {
		return nil, err
	}
	comps, err := store.Components(ctx, pageID)
	if err != nil {
		return nil, err
	}
	histories, err := store.StatusHistories(ctx, pageID, d.Now.AddDate(0, 0, -models.UptimeDays))
	if err != nil {
		return nil, err
	}
	d.Days = map[int64][]models.DayUptime{}
	d.Uptime = map[int64]models.Uptime{}
	for _, c := range comps {
		if !c.Visible {
			continue
		}
		d.Components = append(d.Components, c)
		days := models.DailyUptime(histories[c.ID], d.Now, models.UptimeDays, store.PartialWeight())
		d.Days[c.ID] = days
		d.Uptime[c.ID] = models.PeriodUptime(days)
	}
	if d.Unresolved, err = store.Incidents(ctx, pageID, models.IncidentFilter{Unresolved: true}); err != nil {
		return nil, err
	}
	if d.Incidents, err = store.Incidents(ctx, pageID, models.IncidentFilter{Limit: RecentLimit}); err != nil {
		return nil, err
	}
	if d.Active, err = store.Maintenances(ctx, pageID, models.MaintenanceFilter{Statuses: []models.MaintenanceStatus{models.MaintenanceInProgress}}); err != nil {
		return nil, err
	}
	if d.Upcoming, err = store.Maintenances(ctx, pageID, models.MaintenanceFilter{Statuses: []models.MaintenanceStatus{models.MaintenanceScheduled}}); err != nil {
		return nil, err
	}
	if d.Maintenances, err = store.Maintenances(ctx, pageID, models.MaintenanceFilter{Limit: RecentLimit}); err != nil {
		return nil, fmt.Errorf("load public data: %w", err)
	}
	if d.Calendar, err = store.CalendarMaintenances(ctx, pageID, d.Now.Add(-CalendarHorizon), calendarLimit); err != nil {
		return nil, fmt.Errorf("load public data: %w", err)
	}
	return d, nil
}

// Worst is the worst status among the visible components.
func (d *Data) Worst() models.ComponentStatus {
	statuses := make([]models.ComponentStatus, len(d.Components))
	for i, c := range d.Components {
		statuses[i] = c.Status
	}
	return models.WorstStatus(statuses...)
}

// visible reports whether the page shows the component with id.
func (d *Data) visible(id int64) bool {
	for _, c := range d.Components {
		if c.ID == id {
			return true
		}
	}
	return false
}
