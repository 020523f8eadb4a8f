package public

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldstatus/herald/models"
)

// StatuspageEndpoints are the paths under /api/v2/, as keys of StatuspageJSON's result.
var StatuspageEndpoints = []string{"summary.json", "status.json", "components.json", "incidents.json",
	"incidents/unresolved.json", "scheduled-maintenances.json", "scheduled-maintenances/upcoming.json",
	"scheduled-maintenances/active.json"}

// statuspageTime is Statuspage's timestamp layout: ISO 8601, milliseconds,
// with offset (always Z here: we render in UTC).
const statuspageTime = "2006-01-02T15:04:05.000Z07:00"

// The shapes below follow STATUSPAGE-API.md §1 field by field. Typed
// structs fix which keys are present; pointers are the nullable fields.

type spPage struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	URL       string `json:"url"`
	TimeZone  string `json:"time_zone"`
	UpdatedAt string `json:"updated_at"`
}

type spComponent struct {
	ID                 string  `json:"id"`
	Name               string  `json:"name"`
	Status             string  `json:"status"`
	CreatedAt          string  `json:"created_at"`
	UpdatedAt          string  `json:"updated_at"`
	Position           int     `json:"position"`
	Description        *string `json:"description"`
	Showcase           bool    `json:"showcase"`
	StartDate          *string `json:"start_date"`
	GroupID            *string `json:"group_id"`
	PageID             string  `json:"page_id"`
	Group              bool    `json:"group"`
	OnlyShowIfDegraded bool    `json:"only_show_if_degraded"`
	// Components is only on group rows, which always have a child.
	Components []string `json:"components,omitempty"`
}

type spIncident struct {
	ID              string        `json:"id"`
	Name            string        `json:"name"`
	Status          string        `json:"status"`
	Impact          string        `json:"impact"`
	CreatedAt       string        `json:"created_at"`
	UpdatedAt       string        `json:"updated_at"`
	MonitoringAt    *string       `json:"monitoring_at"`
	ResolvedAt      *string       `json:"resolved_at"`
	StartedAt       string        `json:"started_at"`
	Shortlink       string        `json:"shortlink"`
	PageID          string        `json:"page_id"`
	IncidentUpdates []spUpdate    `json:"incident_updates"`
	Components      []spComponent `json:"components"`
}

type spMaintenance struct {
	spIncident
	ScheduledFor   string `json:"scheduled_for"`
	ScheduledUntil string `json:"scheduled_until"`
}

type spUpdate struct {
	ID         string `json:"id"`
	IncidentID string `json:"incident_id"`
	Status     string `json:"status"`
	Body       string `json:"body"`
	CreatedAt  string `json:"created_at"`
	UpdatedAt  string `json:"updated_at"`
	DisplayAt  string `json:"display_at"`
	// AffectedComponents is [] when the update set no component the page
	// shows, never null, so clients can range over it.
	AffectedComponents   []spAffected `json:"affected_components"`
	DeliverNotifications bool         `json:"deliver_notifications"`
	CustomTweet          *string      `json:"custom_tweet"`
	TweetID              *string      `json:"tweet_id"`
}

type spAffected struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	OldStatus string `json:"old_status"`
	NewStatus string `json:"new_status"`
}

type spStatus struct {
	Indicator   string `json:"indicator"`
	Description string `json:"description"`
}

type spPageStatus struct {
	Page   spPage   `json:"page"`
	Status spStatus `json:"status"`
}

type spComponents struct {
	Page       spPage        `json:"page"`
	Components []spComponent `json:"components"`
}

type spIncidents struct {
	Page      spPage       `json:"page"`
	Incidents []spIncident `json:"incidents"`
}

type spMaintenances struct {
	Page                  spPage          `json:"page"`
	ScheduledMaintenances []spMaintenance `json:"scheduled_maintenances"`
}

type spSummary struct {
	Page                  spPage          `json:"page"`
	Components            []spComponent   `json:"components"`
	Incidents             []spIncident    `json:"incidents"`
	ScheduledMaintenances []spMaintenance `json:"scheduled_maintenances"`
	Status                spStatus        `json:"status"`
}

// StatuspageJSON renders every /api/v2 endpoint for d.
func StatuspageJSON(d *Data) (map[string][]byte, error) {
	r := newStatuspageRenderer(d)
	indicator, description := Indicator(d)
	status := spStatus{Indicator: indicator, Description: description}
	unresolved := r.incidents(d.Unresolved)
	active, upcoming := r.maintenances(d.Active), r.maintenances(d.Upcoming)
	bodies := map[string]any{
		"summary.json": spSummary{Page: r.page, Components: r.components, Incidents: unresolved,
			ScheduledMaintenances: append(append([]spMaintenance{}, active...), upcoming...), Status: status},
		"status.json":                          spPageStatus{Page: r.page, Status: status},
		"components.json":                      spComponents{Page: r.page, Components: r.components},
		"incidents.json":                       spIncidents{Page: r.page, Incidents: r.incidents(d.Incidents)},
		"incidents/unresolved.json":            spIncidents{Page: r.page, Incidents: unresolved},
		"scheduled-maintenances.json":          spMaintenances{Page: r.page, ScheduledMaintenances: r.maintenances(d.Maintenances)},
		"scheduled-maintenances/upcoming.json": spMaintenances{Page: r.page, ScheduledMaintenances: upcoming},
		"scheduled-maintenances/active.json":   spMaintenances{Page: r.page, ScheduledMaintenances: active},
	}
	out := make(map[string][]byte, len(bodies))
	for _, name := range StatuspageEndpoints {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // served as application/json, never inlined in HTML
		if err := enc.Encode(bodies[name]); err != nil {
			return nil, fmt.Errorf("render /api/v2/%s of page %d: %w", name, d.Page.ID, err)
		}
		out[name] = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	return out, nil
}

// statuspageRenderer holds what every endpoint shares: the page block and
// the component rows, built once so incidents embed identical objects.
type statuspageRenderer struct {
	d          *Data
	pageID     string
	page       spPage
	components []spComponent
	leaves     map[int64]spComponent
	order      map[int64]int // component id → index in d.Components
}

func newStatuspageRenderer(d *Data) *statuspageRenderer {
	r := &statuspageRenderer{d: d, leaves: map[int64]spComponent{}, order: map[int64]int{}}
	r.pageID = d.Page.Slug
	if r.pageID == "" {
		r.pageID = strconv.FormatInt(d.Page.ID, 10)
	}
	tz := d.Page.TimeZone
	if tz == "" {
		tz = "Etc/UTC"
	}
	r.page = spPage{ID: r.pageID, Name: d.Page.Name, URL: d.BaseURL + "/", TimeZone: tz,
		UpdatedAt: spTime(r.pageUpdatedAt())}
	r.buildComponents()
	return r
}

// pageUpdatedAt is our rule for page.updated_at: the latest change to
// anything the page shows, or Now on a page where nothing has a time.
func (r *statuspageRenderer) pageUpdatedAt() time.Time {
	d := r.d
	latest := d.Page.UpdatedAt
	see := func(t time.Time) {
		if t.After(latest) {
			latest = t
		}
	}
	for _, g := range d.Groups {
		see(g.UpdatedAt)
	}
	for _, c := range d.Components {
		see(c.UpdatedAt)
	}
	for _, list := range [][]models.Incident{d.Unresolved, d.Incidents} {
		for _, inc := range list {
			see(inc.UpdatedAt)
		}
	}
	for _, list := range [][]models.Maintenance{d.Active, d.Upcoming, d.Maintenances} {
		for _, m := range list {
			see(m.UpdatedAt)
		}
	}
	if latest.IsZero() {
		return d.Now
	}
	return latest
}

// buildComponents lays out the flat array: ungrouped components first, then
// each group with visible components as a group row followed by its
// children, as Statuspage does. Positions are 1-based and dense within the
// parent; at the top level ungrouped components and group rows share one
// sequence (observed in real captures). Groups without visible components
// are left out. A component whose group is not in d.Groups counts as
// ungrouped.
func (r *statuspageRenderer) buildComponents() {
	d := r.d
	known := map[int64]bool{}
	for _, g := range d.Groups {
		known[g.ID] = true
	}
	children := map[int64][]models.Component{}
	var ungrouped []models.Component
	for i, c := range d.Components {
		r.order[c.ID] = i
		if c.GroupID != nil && known[*c.GroupID] {
			children[*c.GroupID] = append(children[*c.GroupID], c)
		} else {
			ungrouped = append(ungrouped, c)
		}
	}
	r.components = []spComponent{}
	top := 0
	for _, c := range ungrouped {
		top++
		r.addLeaf(c, top, nil)
	}
	for _, g := range d.Groups {
		kids := children[g.ID]
		if len(kids) == 0 {
			continue
		}
		top++
		groupID := "g" + strconv.FormatInt(g.ID, 10)
		row := spComponent{ID: groupID, Name: g.Name, CreatedAt: spTime(g.CreatedAt), Position: top,
			PageID: r.pageID, Group: true, Components: make([]string, len(kids))}
		// Our rule: a group row's status is the worst of its children and
		// its updated_at the latest of its own and its children's, since
		// the row changes whenever a child does. Like Statuspage's group
		// rows it has no uptime bar: showcase false, start_date null.
		statuses := make([]models.ComponentStatus, len(kids))
		updated := g.UpdatedAt
		for i, c := range kids {
			row.Components[i] = strconv.FormatInt(c.ID, 10)
			statuses[i] = c.Status
			if c.UpdatedAt.After(updated) {
				updated = c.UpdatedAt
			}
		}
		row.Status = string(models.WorstStatus(statuses...))
		row.UpdatedAt = spTime(updated)
		r.components = append(r.components, row)
		for i, c := range kids {
			r.addLeaf(c, i+1, &groupID)
		}
	}
}

func (r *statuspageRenderer) addLeaf(c models.Component, position int, groupID *string) {
	row := spComponent{ID: strconv.FormatInt(c.ID, 10), Name: c.Name, Status: string(c.Status),
		CreatedAt: spTime(c.CreatedAt), UpdatedAt: spTime(c.UpdatedAt), Position: position,
		Showcase: true, GroupID: groupID, PageID: r.pageID}
	if c.Description != "" {
		row.Description = &c.Description
	}
	// start_date: the first day of the uptime bar with data, so clients
	// know where real history begins.
	for _, day := range r.d.Days[c.ID] {
		if !day.NoData() {
			date := day.Date.UTC().Format(time.DateOnly)
			row.StartDate = &date
			break
		}
	}
	r.components = append(r.components, row)
	r.leaves[c.ID] = row
}

// affected returns the component objects of cs that the page shows, in page
// order; deleted and hidden components are left out.
func (r *statuspageRenderer) affected(cs []models.Component) []spComponent {
	out := []spComponent{}
	ids := make([]int64, 0, len(cs))
	for _, c := range cs {
		if _, ok := r.leaves[c.ID]; ok {
			ids = append(ids, c.ID)
		}
	}
	slices.SortStableFunc(ids, func(a, b int64) int { return cmp.Compare(r.order[a], r.order[b]) })
	for _, id := range ids {
		out = append(out, r.leaves[id])
	}
	return out
}

func (r *statuspageRenderer) incidents(list []models.Incident) []spIncident {
	out := make([]spIncident, 0, len(list))
	for _, inc := range list {
		out = append(out, r.incident(inc))
	}
	return out
}

func (r *statuspageRenderer) incident(inc models.Incident) spIncident {
	id := strconv.FormatInt(inc.ID, 10)
	impact := string(inc.Impact)
	if impact == "" {
		impact = string(models.ImpactNone)
	}
	// Our rule: a back-filled incident was created "at" its start, so
	// clients sorting by created_at place it where it happened.
	createdAt := inc.CreatedAt
	if inc.Backfilled {
		createdAt = inc.StartedAt
	}
	out := spIncident{ID: id, Name: inc.Title, Status: incidentStatus(inc), Impact: impact,
		CreatedAt: spTime(createdAt), UpdatedAt: spTime(inc.UpdatedAt),
		MonitoringAt: spTimePtr(inc.MonitoringAt), ResolvedAt: spTimePtr(inc.ResolvedAt),
		StartedAt: spTime(inc.StartedAt), Shortlink: r.d.BaseURL + "/incidents/" + id, PageID: r.pageID,
		IncidentUpdates: make([]spUpdate, 0, len(inc.Updates)), Components: r.affected(inc.Components)}
	// models hands updates newest first; keep that order.
	for _, u := range inc.Updates {
		at := spTime(u.CreatedAt)
		up := spUpdate{ID: strconv.FormatInt(u.ID, 10), IncidentID: id, Status: string(u.Status),
			Body: crlf(u.Message), CreatedAt: at, UpdatedAt: at, DisplayAt: at,
			AffectedComponents: []spAffected{}, DeliverNotifications: !inc.Backfilled}
		for _, uc := range u.Components {
			// Our rule: like incident.components, only components the page
			// shows are listed, so a hidden component's name never leaks;
			// a deleted one is left out too (we cannot tell it was public).
			if uc.ComponentID == nil {
				continue
			}
			if _, ok := r.leaves[*uc.ComponentID]; !ok {
				continue
			}
			up.AffectedComponents = append(up.AffectedComponents, spAffected{
				Code: strconv.FormatInt(*uc.ComponentID, 10), Name: uc.ComponentName,
				OldStatus: string(uc.OldStatus), NewStatus: string(uc.NewStatus)})
		}
		out.IncidentUpdates = append(out.IncidentUpdates, up)
	}
	return out
}

// incidentStatus is the incident's Statuspage status: postmortem once a
// resolved incident has a published postmortem, as Statuspage does. Our
// rule: an unresolved incident keeps its status even with a postmortem,
// so unresolved.json lists only investigating, identified and monitoring.
func incidentStatus(inc models.Incident) string {
	if inc.Status == models.IncidentResolved && inc.PostmortemAt != nil && strings.TrimSpace(inc.Postmortem) != "" {
		return "postmortem"
	}
	return string(inc.Status)
}

// Statuspage's own wording for the automatic maintenance transitions.
const (
	maintenanceStartedBody   = "Scheduled maintenance is currently in progress. We will provide updates as necessary."
	maintenanceCompletedBody = "The scheduled maintenance has been completed."
)

// maintenances renders windows as scheduled_maintenances. Our rule:
// cancelled windows are left out of every list, since Statuspage has no
// such status and a cancelled window never happened.
func (r *statuspageRenderer) maintenances(list []models.Maintenance) []spMaintenance {
	out := make([]spMaintenance, 0, len(list))
	for _, m := range list {
		if m.Status == models.MaintenanceCancelled {
			continue
		}
		out = append(out, r.maintenance(m))
	}
	return out
}

// maintenance renders one window. Its timeline merges the updates the
// admin posted (ids as stored) with entries synthesised from its times
// (ids "{id}-{status}"): scheduled at creation (with the message),
// in_progress when it started, completed when it ended; newest first, as
// Statuspage orders updates. A maintenance update sets no component
// status, so its affected_components is []. Our rules: started_at is when
// it really started, else the planned start; monitoring_at is null (we
// have no verifying step); resolved_at is the completion time.
func (r *statuspageRenderer) maintenance(m models.Maintenance) spMaintenance {
	id := strconv.FormatInt(m.ID, 10)
	startedAt := m.WindowStart
	if m.StartedAt != nil {
		startedAt = *m.StartedAt
	}
	type entry struct {
		at     time.Time
		rank   int // among equal times, the order of the steps (see below)
		update spUpdate
	}
	update := func(updateID, status string, at time.Time, body string) spUpdate {
		ts := spTime(at)
		return spUpdate{ID: updateID, IncidentID: id, Status: status, Body: body,
			CreatedAt: ts, UpdatedAt: ts, DisplayAt: ts, AffectedComponents: []spAffected{},
			DeliverNotifications: true}
	}
	// Among equal times: scheduled 0, updates posted while scheduled 1,
	// in_progress 2, updates posted while in progress 3, completed 4.
	entries := []entry{{m.CreatedAt, 0, update(id+"-scheduled", string(models.MaintenanceScheduled), m.CreatedAt, crlf(m.Message))}}
	if m.StartedAt != nil {
		entries = append(entries, entry{*m.StartedAt, 2, update(id+"-in_progress", string(models.MaintenanceInProgress),
			*m.StartedAt, maintenanceStartedBody)})
	}
	if m.CompletedAt != nil {
		entries = append(entries, entry{*m.CompletedAt, 4, update(id+"-completed", string(models.MaintenanceCompleted),
			*m.CompletedAt, maintenanceCompletedBody)})
	}
	for _, u := range m.Updates { // newest first from models
		rank := 1
		if u.Status == models.MaintenanceInProgress {
			rank = 3
		}
		entries = append(entries, entry{u.CreatedAt, rank, update(strconv.FormatInt(u.ID, 10), string(u.Status),
			u.CreatedAt, crlf(u.Message))})
	}
	// Newest first; among equal times the later step first. Stable, so
	// posted updates keep the models' order among themselves.
	slices.SortStableFunc(entries, func(a, b entry) int {
		return cmp.Or(b.at.Compare(a.at), cmp.Compare(b.rank, a.rank))
	})
	updates := make([]spUpdate, len(entries))
	for i, e := range entries {
		updates[i] = e.update
	}
	return spMaintenance{
		spIncident: spIncident{ID: id, Name: m.Title, Status: string(m.Status), Impact: "maintenance",
			CreatedAt: spTime(m.CreatedAt), UpdatedAt: spTime(m.UpdatedAt),
			ResolvedAt: spTimePtr(m.CompletedAt), StartedAt: spTime(startedAt),
			Shortlink: r.d.BaseURL + "/maintenance/" + id, PageID: r.pageID,
			IncidentUpdates: updates, Components: r.affected(m.Components)},
		ScheduledFor:   spTime(m.WindowStart),
		ScheduledUntil: spTime(m.WindowEnd),
	}
}

// Indicator is the page's overall status, indicator and description: the
// one rule the banner, the page badge, the favicon and /api/v2 all follow
// (STATUSPAGE-API.md §3 table, plus an unresolved incident's impact
// flooring the indicator, plus maintenance in progress shown as such).
//
// Our rules, where Statuspage documents nothing:
//   - The rollup looks at the visible components only; group rows are a
//     view of their children and do not count.
//   - With exactly one component, the documented single-component mapping
//     applies (degraded_performance → "Partially Degraded Service", not
//     the table's "Degraded System Service").
//   - With two or more, the first matching row of the §3 table applies.
//   - Then the worst impact among unresolved incidents raises the
//     indicator if it is worse (none < maintenance < minor < major <
//     critical), with the matching description: minor "Minor Service
//     Outage", major "Partial System Outage", critical "Major System
//     Outage". An incident with impact none raises nothing.
//   - Then, if nothing is wrong, a maintenance window in progress makes it
//     maintenance, "Service Under Maintenance", even when the window
//     leaves its components operational.
//   - No component and no such incident: none, "All Systems Operational".
func Indicator(d *Data) (indicator, description string) {
	statuses := make([]models.ComponentStatus, len(d.Components))
	for i, c := range d.Components {
		statuses[i] = c.Status
	}
	indicator, description = componentRollup(statuses)
	for _, inc := range d.Unresolved {
		if inc.Status == models.IncidentResolved {
			continue
		}
		impact := string(inc.Impact)
		if indicatorRank(impact) > indicatorRank(indicator) {
			indicator, description = impact, impactDescription[impact]
		}
	}
	if indicator == "none" && len(d.Active) > 0 {
		indicator, description = "maintenance", "Service Under Maintenance"
	}
	return indicator, description
}

// IndicatorStatus is the component status whose colour and icon show
// indicator: none operational, maintenance under_maintenance, minor
// degraded_performance, major partial_outage, critical major_outage.
func IndicatorStatus(indicator string) models.ComponentStatus {
	switch indicator {
	case "maintenance":
		return models.StatusUnderMaintenance
	case "minor":
		return models.StatusDegradedPerformance
	case "major":
		return models.StatusPartialOutage
	case "critical":
		return models.StatusMajorOutage
	}
	return models.StatusOperational
}

var impactDescription = map[string]string{
	"minor":    "Minor Service Outage",
	"major":    "Partial System Outage",
	"critical": "Major System Outage",
}

// indicatorRank orders indicators; maintenance is planned, so it ranks
// below any outage. Unknown values rank lowest and never raise anything.
func indicatorRank(indicator string) int {
	switch indicator {
	case "maintenance":
		return 1
	case "minor":
		return 2
	case "major":
		return 3
	case "critical":
		return 4
	}
	return 0
}

func componentRollup(statuses []models.ComponentStatus) (indicator, description string) {
	count := map[models.ComponentStatus]int{}
	for _, s := range statuses {
		count[s]++
	}
	n := len(statuses)
	if n == 1 {
		switch statuses[0] {
		case models.StatusMajorOutage:
			return "critical", "Major System Outage"
		case models.StatusPartialOutage:
			return "major", "Partial System Outage"
		case models.StatusDegradedPerformance:
			return "minor", "Partially Degraded Service"
		case models.StatusUnderMaintenance:
			return "maintenance", "Service Under Maintenance"
		}
		return "none", "All Systems Operational"
	}
	switch {
	case n > 0 && count[models.StatusMajorOutage] == n:
		return "critical", "Major System Outage"
	case count[models.StatusMajorOutage] > 0 || (n > 0 && count[models.StatusPartialOutage] == n):
		return "major", "Partial System Outage"
	case count[models.StatusPartialOutage] > 0:
		return "minor", "Minor Service Outage"
	case n > 0 && count[models.StatusDegradedPerformance] == n:
		return "minor", "Degraded System Service"
	case count[models.StatusDegradedPerformance] > 0:
		return "minor", "Partially Degraded Service"
	case count[models.StatusUnderMaintenance] > 0:
		return "maintenance", "Service Under Maintenance"
	}
	return "none", "All Systems Operational"
}

func spTime(t time.Time) string { return t.UTC().Format(statuspageTime) }

func spTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := spTime(*t)
	return &s
}

// crlf normalises line breaks to \r\n, as Statuspage bodies have them.
func crlf(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}
