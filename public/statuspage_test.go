package public_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/public"
)

func TestStatuspageIndicator(t *testing.T) {
	const (
		op    = models.StatusOperational
		maint = models.StatusUnderMaintenance
		deg   = models.StatusDegradedPerformance
		part  = models.StatusPartialOutage
		major = models.StatusMajorOutage
	)
	tests := []struct {
		name       string
		statuses   []models.ComponentStatus
		unresolved []models.Impact
		resolved   []models.Impact // in d.Incidents only: must not count
		active     int             // maintenance windows in progress
		indicator  string
		desc       string
	}{
		{name: "no components", indicator: "none", desc: "All Systems Operational"},
		{name: "no components, unresolved major incident", unresolved: []models.Impact{models.ImpactMajor},
			indicator: "major", desc: "Partial System Outage"},
		{name: "one operational", statuses: []models.ComponentStatus{op}, indicator: "none", desc: "All Systems Operational"},
		{name: "one under maintenance", statuses: []models.ComponentStatus{maint}, indicator: "maintenance", desc: "Service Under Maintenance"},
		{name: "one degraded is partially degraded", statuses: []models.ComponentStatus{deg}, indicator: "minor", desc: "Partially Degraded Service"},
		{name: "one partial outage", statuses: []models.ComponentStatus{part}, indicator: "major", desc: "Partial System Outage"},
		{name: "one major outage", statuses: []models.ComponentStatus{major}, indicator: "critical", desc: "Major System Outage"},
		{name: "every component major outage", statuses: []models.ComponentStatus{major, major, major}, indicator: "critical", desc: "Major System Outage"},
		{name: "some major outage", statuses: []models.ComponentStatus{op, major, deg}, indicator: "major", desc: "Partial System Outage"},
		{name: "every component partial outage", statuses: []models.ComponentStatus{part, part}, indicator: "major", desc: "Partial System Outage"},
		{name: "some partial outage", statuses: []models.ComponentStatus{op, part, deg, maint}, indicator: "minor", desc: "Minor Service Outage"},
		{name: "every component degraded", statuses: []models.ComponentStatus{deg, deg}, indicator: "minor", desc: "Degraded System Service"},
		{name: "some degraded", statuses: []models.ComponentStatus{op, deg}, indicator: "minor", desc: "Partially Degraded Service"},
		{name: "degraded beside maintenance is only partly degraded", statuses: []models.ComponentStatus{maint, deg}, indicator: "minor", desc: "Partially Degraded Service"},
		{name: "some under maintenance", statuses: []models.ComponentStatus{op, maint}, indicator: "maintenance", desc: "Service Under Maintenance"},
		{name: "every component under maintenance", statuses: []models.ComponentStatus{maint, maint}, indicator: "maintenance", desc: "Service Under Maintenance"},
		{name: "all operational", statuses: []models.ComponentStatus{op, op, op}, indicator: "none", desc: "All Systems Operational"},
		{name: "critical incident raises operational page", statuses: []models.ComponentStatus{op, op},
			unresolved: []models.Impact{models.ImpactMinor, models.ImpactCritical}, indicator: "critical", desc: "Major System Outage"},
		{name: "minor incident raises maintenance", statuses: []models.ComponentStatus{maint},
			unresolved: []models.Impact{models.ImpactMinor}, indicator: "minor", desc: "Minor Service Outage"},
		{name: "minor incident keeps degraded wording", statuses: []models.ComponentStatus{deg, deg},
			unresolved: []models.Impact{models.ImpactMinor}, indicator: "minor", desc: "Degraded System Service"},
		{name: "incident never lowers", statuses: []models.ComponentStatus{major, major},
			unresolved: []models.Impact{models.ImpactMinor}, indicator: "critical", desc: "Major System Outage"},
		{name: "impact none raises nothing", statuses: []models.ComponentStatus{op},
			unresolved: []models.Impact{models.ImpactNone}, indicator: "none", desc: "All Systems Operational"},
		{name: "window in progress, components operational", statuses: []models.ComponentStatus{op, op}, active: 1,
			indicator: "maintenance", desc: "Service Under Maintenance"},
		{name: "window in progress, no components", active: 1, indicator: "maintenance", desc: "Service Under Maintenance"},
		{name: "outage beats a window in progress", statuses: []models.ComponentStatus{op, deg}, active: 1,
			indicator: "minor", desc: "Partially Degraded Service"},
		{name: "critical incident beats a window in progress", statuses: []models.ComponentStatus{op}, active: 1,
			unresolved: []models.Impact{models.ImpactCritical}, indicator: "critical", desc: "Major System Outage"},
		{name: "resolved incidents do not count", statuses: []models.ComponentStatus{op},
			resolved: []models.Impact{models.ImpactCritical}, indicator: "none", desc: "All Systems Operational"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &public.Data{}
			for i, s := range tc.statuses {
				d.Components = append(d.Components, models.Component{ID: int64(i + 1), Name: fmt.Sprint("C", i), Visible: true, Status: s})
			}
			for i, impact := range tc.unresolved {
				inc := models.Incident{ID: int64(i + 1), Status: models.IncidentInvestigating, Impact: impact}
				d.Unresolved = append(d.Unresolved, inc)
				d.Incidents = append(d.Incidents, inc)
			}
			for i, impact := range tc.resolved {
				d.Incidents = append(d.Incidents, models.Incident{ID: int64(100 + i), Status: models.IncidentResolved, Impact: impact})
			}
			for i := range tc.active {
				d.Active = append(d.Active, models.Maintenance{ID: int64(i + 1), Status: models.MaintenanceInProgress})
			}
			indicator, desc := public.Indicator(d)
			if indicator != tc.indicator || desc != tc.desc {
				t.Fatalf("Indicator = %q, %q; want %q, %q", indicator, desc, tc.indicator, tc.desc)
			}
			// status.json and summary.json carry the same rollup.
			out := renderStatuspage(t, d)
			for _, name := range []string{"status.json", "summary.json"} {
				status := out[name]["status"].(map[string]any)
				if status["indicator"] != tc.indicator || status["description"] != tc.desc {
					t.Fatalf("%s status = %v", name, status)
				}
			}
		})
	}
}

func TestStatuspageEmptyPage(t *testing.T) {
	now := time.Date(2026, 1, 14, 12, 0, 0, 0, time.UTC)
	d := &public.Data{Page: models.Page{ID: 7, Name: "Empty"}, BaseURL: "https://status.example.com", Now: now}
	raw, err := public.StatuspageJSON(d)
	if err != nil {
		t.Fatal(err)
	}
	out := decodeStatuspage(t, raw)
	lists := map[string][]string{
		"summary.json":                         {"components", "incidents", "scheduled_maintenances"},
		"components.json":                      {"components"},
		"incidents.json":                       {"incidents"},
		"incidents/unresolved.json":            {"incidents"},
		"scheduled-maintenances.json":          {"scheduled_maintenances"},
		"scheduled-maintenances/upcoming.json": {"scheduled_maintenances"},
		"scheduled-maintenances/active.json":   {"scheduled_maintenances"},
	}
	for name, keys := range lists {
		for _, key := range keys {
			list, ok := out[name][key].([]any)
			if !ok || len(list) != 0 {
				t.Errorf("%s %s = %#v, want []", name, key, out[name][key])
			}
			if !strings.Contains(string(raw[name]), `"`+key+`":[]`) {
				t.Errorf("%s: %s is not literally []: %s", name, key, raw[name])
			}
		}
	}
	page := out["status.json"]["page"].(map[string]any)
	want := map[string]any{"id": "7", "name": "Empty", "url": "https://status.example.com/",
		"time_zone": "Etc/UTC", "updated_at": "2026-01-14T12:00:00.000Z"}
	for k, v := range want {
		if page[k] != v {
			t.Errorf("page.%s = %v, want %v", k, page[k], v)
		}
	}
	status := out["status.json"]["status"].(map[string]any)
	if status["indicator"] != "none" || status["description"] != "All Systems Operational" {
		t.Errorf("status = %v", status)
	}
}

// statuspageFixture is a page with every kind of row: ungrouped and grouped
// components, a group without visible components, an unresolved and a
// back-filled incident, and windows in every status.
func statuspageFixture() *public.Data {
	t0 := time.Date(2026, 1, 14, 12, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	ptr := func(t time.Time) *time.Time { return &t }
	id := func(v int64) *int64 { return &v }
	d := &public.Data{
		Page:    models.Page{ID: 1, Slug: "main", Name: "Acme", TimeZone: "Europe/Paris", UpdatedAt: at(-600)},
		BaseURL: "https://status.example.com",
		Now:     at(120),
		Groups: []models.Group{
			{ID: 1, Name: "Core", Position: 1, CreatedAt: at(-900), UpdatedAt: at(-900)},
			{ID: 2, Name: "Empty", Position: 2, CreatedAt: at(-900), UpdatedAt: at(-900)},
			{ID: 3, Name: "Edge", Position: 3, CreatedAt: at(-900), UpdatedAt: at(-900)},
		},
		Components: []models.Component{
			{ID: 10, Name: "Website", Description: "Marketing site", Position: 1, Visible: true, Status: models.StatusOperational, CreatedAt: at(-800), UpdatedAt: at(-800)},
			{ID: 11, GroupID: id(1), Name: "API", Position: 1, Visible: true, Status: models.StatusPartialOutage, CreatedAt: at(-800), UpdatedAt: at(5)},
			{ID: 12, GroupID: id(1), Name: "Database", Position: 3, Visible: true, Status: models.StatusDegradedPerformance, CreatedAt: at(-800), UpdatedAt: at(30)},
			{ID: 13, GroupID: id(3), Name: "CDN", Position: 2, Visible: true, Status: models.StatusUnderMaintenance, CreatedAt: at(-800), UpdatedAt: at(60)},
		},
		Days: map[int64][]models.DayUptime{
			11: {
				{Date: time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC)},
				{Date: time.Date(2026, 1, 13, 0, 0, 0, 0, time.UTC), Uptime: models.Uptime{HasData: true}},
				{Date: time.Date(2026, 1, 14, 0, 0, 0, 0, time.UTC), Uptime: models.Uptime{HasData: true}},
			},
		},
	}
	open := models.Incident{ID: 5, Title: "API errors", Status: models.IncidentIdentified, Impact: models.ImpactMajor,
		StartedAt: at(0), CreatedAt: at(0), UpdatedAt: at(30),
		Updates: []models.IncidentUpdate{
			{ID: 21, IncidentID: 5, Status: models.IncidentIdentified, Message: "Found it.\nFixing **now**.\r\nBye", CreatedAt: at(30),
				Components: []models.UpdateComponent{
					{ID: 1, UpdateID: 21, ComponentID: id(12), ComponentName: "Database", OldStatus: models.StatusOperational, NewStatus: models.StatusDegradedPerformance},
					{ID: 2, UpdateID: 21, ComponentID: id(99), ComponentName: "Secret backend", OldStatus: models.StatusOperational, NewStatus: models.StatusMajorOutage},
				}},
			{ID: 20, IncidentID: 5, Status: models.IncidentInvestigating, Message: "Looking.", CreatedAt: at(0),
				Components: []models.UpdateComponent{
					{ID: 3, UpdateID: 20, ComponentID: id(11), ComponentName: "API", OldStatus: models.StatusOperational, NewStatus: models.StatusPartialOutage},
				}},
		},
		// Hidden component 99 and a by-position order that differs from the page order.
		Components: []models.Component{{ID: 12, Name: "Database"}, {ID: 99, Name: "Secret backend"}, {ID: 11, Name: "API"}},
	}
	backfilled := models.Incident{ID: 4, Title: "Old outage", Status: models.IncidentResolved, Impact: models.ImpactMinor, Backfilled: true,
		Postmortem: "We learnt.", PostmortemAt: ptr(at(-1000)),
		StartedAt: at(-3000), ResolvedAt: ptr(at(-2900)), CreatedAt: at(-60), UpdatedAt: at(-60),
		Updates: []models.IncidentUpdate{{ID: 19, IncidentID: 4, Status: models.IncidentResolved, Message: "Was down.", CreatedAt: at(-2900)}},
	}
	d.Unresolved = []models.Incident{open}
	d.Incidents = []models.Incident{open, backfilled}

	upcoming := models.Maintenance{ID: 8, Title: "DB upgrade", Message: "Line one\nline two", Status: models.MaintenanceScheduled,
		WindowStart: at(600), WindowEnd: at(660), CreatedAt: at(10), UpdatedAt: at(10),
		Components: []models.Component{{ID: 12}}}
	active := models.Maintenance{ID: 7, Title: "CDN swap", Message: "Swapping.", Status: models.MaintenanceInProgress, SetMaintenance: true,
		WindowStart: at(60), WindowEnd: at(180), StartedAt: ptr(at(60)), CreatedAt: at(-100), UpdatedAt: at(60),
		Components: []models.Component{{ID: 13}},
		Updates: []models.MaintenanceUpdate{
			{ID: 32, MaintenanceID: 7, Status: models.MaintenanceInProgress, Message: "Half done.\nGoing on.", CreatedAt: at(90)},
			{ID: 31, MaintenanceID: 7, Status: models.MaintenanceScheduled, Message: "Starting soon.", CreatedAt: at(30)},
		}}
	done := models.Maintenance{ID: 6, Title: "Old work", Status: models.MaintenanceCompleted,
		WindowStart: at(-500), WindowEnd: at(-400), StartedAt: ptr(at(-500)), CompletedAt: ptr(at(-400)), CreatedAt: at(-700), UpdatedAt: at(-400)}
	cancelled := models.Maintenance{ID: 9, Title: "Never mind", Status: models.MaintenanceCancelled,
		WindowStart: at(900), WindowEnd: at(960), CreatedAt: at(20), UpdatedAt: at(90)}
	d.Active = []models.Maintenance{active}
	d.Upcoming = []models.Maintenance{upcoming, cancelled} // cancelled must be dropped even here
	d.Maintenances = []models.Maintenance{cancelled, upcoming, active, done}
	return d
}

func TestStatuspageStructure(t *testing.T) {
	out := renderStatuspage(t, statuspageFixture())
	for _, name := range public.StatuspageEndpoints {
		spCheckEndpoint(t, name, out[name])
	}
}

func TestStatuspageContent(t *testing.T) {
	out := renderStatuspage(t, statuspageFixture())

	page := out["components.json"]["page"].(map[string]any)
	if page["id"] != "main" || page["url"] != "https://status.example.com/" || page["time_zone"] != "Europe/Paris" ||
		page["updated_at"] != "2026-01-14T13:30:00.000Z" { // the cancelled window's update, the latest time
		t.Errorf("page = %v", page)
	}

	t.Run("components", func(t *testing.T) {
		rows := spObjects(out["components.json"]["components"])
		got := []string{}
		for _, r := range rows {
			got = append(got, fmt.Sprintf("%v@%v<%v>", r["id"], r["position"], r["group_id"]))
		}
		want := []string{"10@1<<nil>>", "g1@2<<nil>>", "11@1<g1>", "12@2<g1>", "g3@3<<nil>>", "13@1<g3>"}
		if !slices.Equal(got, want) {
			t.Fatalf("rows = %v, want %v", got, want)
		}
		core := rows[1]
		if core["status"] != "partial_outage" || fmt.Sprint(core["components"]) != "[11 12]" ||
			core["updated_at"] != "2026-01-14T12:30:00.000Z" || core["showcase"] != false || core["start_date"] != nil {
			t.Errorf("group row = %v", core)
		}
		if rows[0]["description"] != "Marketing site" || rows[2]["description"] != nil {
			t.Errorf("descriptions: %v, %v", rows[0]["description"], rows[2]["description"])
		}
		if rows[2]["start_date"] != "2026-01-13" || rows[0]["start_date"] != nil {
			t.Errorf("start dates: %v, %v", rows[2]["start_date"], rows[0]["start_date"])
		}
		if !spEqualJSON(out["summary.json"]["components"], out["components.json"]["components"]) {
			t.Error("summary components differ from components.json")
		}
	})

	t.Run("incidents", func(t *testing.T) {
		all := spObjects(out["incidents.json"]["incidents"])
		if len(all) != 2 || all[0]["id"] != "5" || all[1]["id"] != "4" {
			t.Fatalf("incidents = %v", all)
		}
		open := all[0]
		if open["shortlink"] != "https://status.example.com/incidents/5" || open["impact"] != "major" || open["page_id"] != "main" {
			t.Errorf("incident = %v", open)
		}
		var comps []string
		for _, c := range spObjects(open["components"]) {
			comps = append(comps, c["id"].(string))
		}
		if !slices.Equal(comps, []string{"11", "12"}) {
			t.Errorf("incident components = %v, want page order without the hidden one", comps)
		}
		if !spEqualJSON(spObjects(open["components"])[0], spObjects(out["components.json"]["components"])[2]) {
			t.Error("incident component differs from its components.json row")
		}
		updates := spObjects(open["incident_updates"])
		if updates[0]["id"] != "21" || updates[0]["body"] != "Found it.\r\nFixing **now**.\r\nBye" ||
			updates[0]["display_at"] != updates[0]["created_at"] || updates[0]["deliver_notifications"] != true {
			t.Errorf("newest update = %v", updates[0])
		}
		affected := spObjects(updates[0]["affected_components"])
		if len(affected) != 1 || affected[0]["code"] != "12" || affected[0]["old_status"] != "operational" ||
			affected[0]["new_status"] != "degraded_performance" {
			t.Errorf("affected_components = %v (hidden component must not leak)", affected)
		}
		old := all[1]
		oldUpdate := spObjects(old["incident_updates"])[0]
		// Resolved with a published postmortem: Statuspage's postmortem status.
		if old["status"] != "postmortem" || old["created_at"] != "2026-01-12T10:00:00.000Z" ||
			oldUpdate["deliver_notifications"] != false || !spEqualJSON(oldUpdate["affected_components"], []any{}) {
			t.Errorf("back-filled incident = %v", old)
		}
		if !spEqualJSON(out["incidents/unresolved.json"]["incidents"], []any{open}) ||
			!spEqualJSON(out["summary.json"]["incidents"], []any{open}) {
			t.Error("unresolved lists differ from the open incident")
		}
	})

	t.Run("maintenance", func(t *testing.T) {
		ids := func(name string) []string {
			var out2 []string
			for _, m := range spObjects(out[name]["scheduled_maintenances"]) {
				out2 = append(out2, m["id"].(string))
			}
			return out2
		}
		for name, want := range map[string][]string{
			"scheduled-maintenances.json":          {"8", "7", "6"},
			"scheduled-maintenances/upcoming.json": {"8"},
			"scheduled-maintenances/active.json":   {"7"},
			"summary.json":                         {"7", "8"},
		} {
			if got := ids(name); !slices.Equal(got, want) {
				t.Errorf("%s ids = %v, want %v", name, got, want)
			}
		}
		all := spObjects(out["scheduled-maintenances.json"]["scheduled_maintenances"])
		wantUpdates := [][]string{{"8-scheduled"}, {"32", "7-in_progress", "31", "7-scheduled"}, {"6-completed", "6-in_progress", "6-scheduled"}}
		for i, m := range all {
			var got []string
			for _, u := range spObjects(m["incident_updates"]) {
				got = append(got, u["id"].(string))
				if u["incident_id"] != m["id"] {
					t.Errorf("update %v incident_id = %v", u["id"], u["incident_id"])
				}
			}
			if !slices.Equal(got, wantUpdates[i]) {
				t.Errorf("maintenance %v updates = %v, want %v", m["id"], got, wantUpdates[i])
			}
		}
		up := all[0]
		if up["scheduled_for"] != "2026-01-14T22:00:00.000Z" || up["scheduled_until"] != "2026-01-14T23:00:00.000Z" ||
			up["impact"] != "maintenance" || up["resolved_at"] != nil || up["started_at"] != up["scheduled_for"] ||
			spObjects(up["incident_updates"])[0]["body"] != "Line one\r\nline two" ||
			up["shortlink"] != "https://status.example.com/maintenance/8" {
			t.Errorf("upcoming = %v", up)
		}
		if c := spObjects(up["components"]); len(c) != 1 || c[0]["id"] != "12" || c[0]["name"] != "Database" {
			t.Errorf("upcoming components = %v", c)
		}
		done := all[2]
		if done["status"] != "completed" || done["resolved_at"] != "2026-01-14T05:20:00.000Z" || done["monitoring_at"] != nil {
			t.Errorf("completed = %v", done)
		}
	})
}

// TestStatuspageFromStore builds a page through the models API on both
// engines and checks the JSON Load + StatuspageJSON make of it.
func TestStatuspageFromStore(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		pid := models.DefaultPageID
		core, err := s.CreateGroup(ctx, pid, models.GroupInput{Name: "Core"})
		modelstest.Fatal(t, err, "create group")
		_, err = s.CreateGroup(ctx, pid, models.GroupInput{Name: "Unused"})
		modelstest.Fatal(t, err, "create group")
		mk := func(name string, group *int64, visible bool) *models.Component {
			c, err := s.CreateComponent(ctx, pid, models.ComponentInput{Name: name, GroupID: group, Visible: visible, Status: models.StatusOperational})
			modelstest.Fatal(t, err, "create component %s", name)
			return c
		}
		website := mk("Website", nil, true)
		api := mk("API", &core.ID, true)
		db := mk("Database", &core.ID, true)
		hidden := mk("Internal", nil, false)

		inc, err := s.CreateIncident(ctx, pid, models.IncidentInput{Title: "API errors", Status: models.IncidentInvestigating,
			Message: "Errors on the API.", Components: map[int64]models.ComponentStatus{api.ID: models.StatusPartialOutage}})
		modelstest.Fatal(t, err, "create incident")
		_, err = s.PostIncidentUpdate(ctx, inc.ID, models.IncidentUpdateInput{Status: models.IncidentIdentified,
			Message: "Found the cause.\nRolling back.", Components: map[int64]models.ComponentStatus{
				db.ID: models.StatusDegradedPerformance, hidden.ID: models.StatusMajorOutage}})
		modelstest.Fatal(t, err, "post update")

		now := s.Now()
		upcoming, err := s.ScheduleMaintenance(ctx, pid, models.MaintenanceInput{Title: "DB upgrade", Message: "New version.",
			ComponentIDs: []int64{db.ID}, WindowStart: now.Add(24 * time.Hour), WindowEnd: now.Add(25 * time.Hour)})
		modelstest.Fatal(t, err, "schedule upcoming")
		active, err := s.ScheduleMaintenance(ctx, pid, models.MaintenanceInput{Title: "CDN swap", Message: "Swapping.",
			ComponentIDs: []int64{website.ID}, WindowStart: now.Add(-time.Minute), WindowEnd: now.Add(time.Hour), SetMaintenance: true})
		modelstest.Fatal(t, err, "schedule active")
		cancelled, err := s.ScheduleMaintenance(ctx, pid, models.MaintenanceInput{Title: "Never mind",
			WindowStart: now.Add(48 * time.Hour), WindowEnd: now.Add(49 * time.Hour)})
		modelstest.Fatal(t, err, "schedule cancelled")
		modelstest.Fatal(t, s.CancelMaintenance(ctx, cancelled.ID), "cancel")
		tr, err := s.RunMaintenanceTransitions(ctx)
		modelstest.Fatal(t, err, "transitions")
		if tr.Started != 1 {
			t.Fatalf("transitions = %+v", tr)
		}

		d, err := public.Load(ctx, s, pid, time.Now())
		modelstest.Fatal(t, err, "load")
		out := renderStatuspage(t, d)
		for _, name := range public.StatuspageEndpoints {
			spCheckEndpoint(t, name, out[name])
		}
		str := func(id int64) string { return fmt.Sprint(id) }
		gid := "g" + str(core.ID)

		if page := out["status.json"]["page"].(map[string]any); page["id"] != "main" || page["name"] != "Status" {
			t.Errorf("page = %v", page)
		}
		// Components: partial, degraded, under maintenance → "some partial"
		// (minor); the incident's derived impact (major) raises it.
		status := out["status.json"]["status"].(map[string]any)
		if status["indicator"] != "major" || status["description"] != "Partial System Outage" {
			t.Errorf("status = %v", status)
		}

		rows := spObjects(out["components.json"]["components"])
		var got []string
		for _, r := range rows {
			got = append(got, fmt.Sprintf("%v:%v", r["id"], r["status"]))
		}
		want := []string{str(website.ID) + ":under_maintenance", gid + ":partial_outage",
			str(api.ID) + ":partial_outage", str(db.ID) + ":degraded_performance"}
		if !slices.Equal(got, want) {
			t.Fatalf("components = %v, want %v", got, want)
		}
		if fmt.Sprint(rows[1]["components"]) != fmt.Sprintf("[%d %d]", api.ID, db.ID) || rows[2]["group_id"] != gid {
			t.Errorf("group row %v, child %v", rows[1], rows[2])
		}
		today := time.Now().UTC().Format(time.DateOnly)
		if rows[0]["start_date"] != today {
			t.Errorf("start_date = %v, want %s", rows[0]["start_date"], today)
		}

		incs := spObjects(out["incidents/unresolved.json"]["incidents"])
		if len(incs) != 1 || incs[0]["id"] != str(inc.ID) || incs[0]["status"] != "identified" || incs[0]["impact"] != "major" {
			t.Fatalf("unresolved = %v", incs)
		}
		var comps []string
		for _, c := range spObjects(incs[0]["components"]) {
			comps = append(comps, c["id"].(string))
		}
		if !slices.Equal(comps, []string{str(api.ID), str(db.ID)}) {
			t.Errorf("incident components = %v", comps)
		}
		updates := spObjects(incs[0]["incident_updates"])
		if len(updates) != 2 || updates[0]["status"] != "identified" || updates[1]["status"] != "investigating" ||
			updates[0]["body"] != "Found the cause.\r\nRolling back." {
			t.Fatalf("updates = %v", updates)
		}
		affected := spObjects(updates[0]["affected_components"])
		if len(affected) != 1 || affected[0]["code"] != str(db.ID) || affected[0]["name"] != "Database" ||
			affected[0]["old_status"] != "operational" || affected[0]["new_status"] != "degraded_performance" {
			t.Errorf("affected_components = %v", affected)
		}
		if strings.Contains(string(spMustJSON(t, out)), "Internal") {
			t.Error("hidden component leaked into the JSON")
		}

		ids := func(name string) string {
			var l []string
			for _, m := range spObjects(out[name]["scheduled_maintenances"]) {
				l = append(l, m["id"].(string)+":"+m["status"].(string))
			}
			return strings.Join(l, ",")
		}
		a, u := str(active.ID)+":in_progress", str(upcoming.ID)+":scheduled"
		for name, want := range map[string]string{
			"scheduled-maintenances/active.json":   a,
			"scheduled-maintenances/upcoming.json": u,
			"summary.json":                         a + "," + u,
		} {
			if got := ids(name); got != want {
				t.Errorf("%s = %s, want %s", name, got, want)
			}
		}
		if got := ids("scheduled-maintenances.json"); strings.Contains(got, str(cancelled.ID)+":") || !strings.Contains(got, a) || !strings.Contains(got, u) {
			t.Errorf("scheduled-maintenances.json = %s", got)
		}
		act := spObjects(out["scheduled-maintenances/active.json"]["scheduled_maintenances"])[0]
		if us := spObjects(act["incident_updates"]); len(us) != 2 || us[0]["status"] != "in_progress" || us[1]["status"] != "scheduled" {
			t.Errorf("active updates = %v", us)
		}
	})
}

// renderStatuspage renders d and decodes every endpoint.
func renderStatuspage(t *testing.T, d *public.Data) map[string]map[string]any {
	t.Helper()
	raw, err := public.StatuspageJSON(d)
	if err != nil {
		t.Fatalf("StatuspageJSON: %v", err)
	}
	return decodeStatuspage(t, raw)
}

func decodeStatuspage(t *testing.T, raw map[string][]byte) map[string]map[string]any {
	t.Helper()
	if len(raw) != len(public.StatuspageEndpoints) {
		t.Fatalf("got %d endpoints, want %d", len(raw), len(public.StatuspageEndpoints))
	}
	out := map[string]map[string]any{}
	for _, name := range public.StatuspageEndpoints {
		var v map[string]any
		if err := json.Unmarshal(raw[name], &v); err != nil {
			t.Fatalf("%s is not a JSON object: %v\n%s", name, err, raw[name])
		}
		out[name] = v
	}
	return out
}

// spKind is the JSON type (and, for strings, the format) a field must have.
type spKind int

const (
	spString spKind = iota
	spTime
	spTimeOrNull
	spDateOrNull
	spStringOrNull
	spNumber
	spBool
	spNull
	spArray
	spArrayOrNull
	spObject
)

var spMillis = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{2}:\d{2})$`)

// spCheckFields asserts obj has exactly the keys of spec, each of its kind.
func spCheckFields(t *testing.T, path string, v any, spec map[string]spKind) map[string]any {
	t.Helper()
	obj, ok := v.(map[string]any)
	if !ok {
		t.Errorf("%s: %T is not an object", path, v)
		return map[string]any{}
	}
	var got, want []string
	for k := range obj {
		got = append(got, k)
	}
	for k := range spec {
		want = append(want, k)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: keys %v, want %v", path, got, want)
	}
	for k, kd := range spec {
		val, present := obj[k]
		if !present {
			continue
		}
		if !spHasKind(val, kd) {
			t.Errorf("%s.%s = %#v: wrong type (kind %d)", path, k, val, kd)
		}
	}
	return obj
}

func spHasKind(v any, k spKind) bool {
	s, isString := v.(string)
	switch k {
	case spString:
		return isString
	case spTime:
		if !isString || !spMillis.MatchString(s) {
			return false
		}
		_, err := time.Parse(time.RFC3339, s)
		return err == nil
	case spTimeOrNull:
		return v == nil || spHasKind(v, spTime)
	case spDateOrNull:
		if v == nil {
			return true
		}
		_, err := time.Parse(time.DateOnly, s)
		return isString && err == nil
	case spStringOrNull:
		return v == nil || isString
	case spNumber:
		_, ok := v.(float64)
		return ok
	case spBool:
		_, ok := v.(bool)
		return ok
	case spNull:
		return v == nil
	case spArray:
		_, ok := v.([]any)
		return ok
	case spArrayOrNull:
		return v == nil || spHasKind(v, spArray)
	case spObject:
		_, ok := v.(map[string]any)
		return ok
	}
	return false
}

func spCheckEnum(t *testing.T, path string, v any, allowed ...string) {
	t.Helper()
	s, _ := v.(string)
	if !slices.Contains(allowed, s) {
		t.Errorf("%s = %#v, want one of %v", path, v, allowed)
	}
}

var spComponentStatuses = []string{"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"}

// spCheckEndpoint checks the whole body of one endpoint against
// STATUSPAGE-API.md §1–§2.
func spCheckEndpoint(t *testing.T, name string, body map[string]any) {
	t.Helper()
	spec := map[string]spKind{"page": spObject}
	switch name {
	case "summary.json":
		spec["components"], spec["incidents"], spec["scheduled_maintenances"], spec["status"] = spArray, spArray, spArray, spObject
	case "status.json":
		spec["status"] = spObject
	case "components.json":
		spec["components"] = spArray
	case "incidents.json", "incidents/unresolved.json":
		spec["incidents"] = spArray
	default:
		spec["scheduled_maintenances"] = spArray
	}
	spCheckFields(t, name, body, spec)
	page := spCheckFields(t, name+" page", body["page"], map[string]spKind{
		"id": spString, "name": spString, "url": spString, "time_zone": spString, "updated_at": spTime})
	pageID := page["id"]
	if st, ok := body["status"]; ok {
		s := spCheckFields(t, name+" status", st, map[string]spKind{"indicator": spString, "description": spString})
		spCheckEnum(t, name+" status.indicator", s["indicator"], "none", "minor", "major", "critical", "maintenance")
		spCheckEnum(t, name+" status.description", s["description"], "All Systems Operational", "Minor Service Outage",
			"Partial System Outage", "Major System Outage", "Degraded System Service", "Partially Degraded Service",
			"Service Under Maintenance")
	}
	if cs, ok := body["components"].([]any); ok {
		spCheckComponents(t, name+" components", cs, pageID, true)
	}
	if list, ok := body["incidents"].([]any); ok {
		for i, inc := range list {
			spCheckIncident(t, fmt.Sprintf("%s incidents[%d]", name, i), inc, pageID, false)
		}
		if name == "incidents/unresolved.json" || name == "summary.json" {
			for _, inc := range spObjects(list) {
				spCheckEnum(t, name+" unresolved status", inc["status"], "investigating", "identified", "monitoring")
			}
		}
	}
	if list, ok := body["scheduled_maintenances"].([]any); ok {
		for i, m := range list {
			spCheckIncident(t, fmt.Sprintf("%s scheduled_maintenances[%d]", name, i), m, pageID, true)
		}
		for _, m := range spObjects(list) {
			switch name {
			case "scheduled-maintenances/upcoming.json":
				spCheckEnum(t, name+" status", m["status"], "scheduled")
			case "scheduled-maintenances/active.json":
				spCheckEnum(t, name+" status", m["status"], "in_progress", "verifying")
			case "summary.json":
				spCheckEnum(t, name+" status", m["status"], "scheduled", "in_progress", "verifying")
			}
		}
	}
}

// spCheckComponents checks component spObjects; with flat, also that group
// rows list exactly the rows that name them as group_id.
func spCheckComponents(t *testing.T, path string, list []any, pageID any, flat bool) {
	t.Helper()
	children := map[any][]any{}
	var groups []map[string]any
	for i, v := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		spec := map[string]spKind{"id": spString, "name": spString, "status": spString, "created_at": spTime,
			"updated_at": spTime, "position": spNumber, "description": spStringOrNull, "showcase": spBool,
			"start_date": spDateOrNull, "group_id": spStringOrNull, "page_id": spString, "group": spBool,
			"only_show_if_degraded": spBool}
		obj, _ := v.(map[string]any)
		isGroup := obj["group"] == true
		if isGroup {
			spec["components"] = spArray
		}
		obj = spCheckFields(t, p, v, spec)
		spCheckEnum(t, p+".status", obj["status"], spComponentStatuses...)
		if obj["page_id"] != pageID {
			t.Errorf("%s.page_id = %v, want %v", p, obj["page_id"], pageID)
		}
		if pos, _ := obj["position"].(float64); pos < 1 || pos != float64(int(pos)) {
			t.Errorf("%s.position = %v, want an integer ≥ 1", p, obj["position"])
		}
		if isGroup {
			groups = append(groups, obj)
			if obj["group_id"] != nil {
				t.Errorf("%s: group row with group_id %v", p, obj["group_id"])
			}
			kids, _ := obj["components"].([]any)
			if len(kids) == 0 {
				t.Errorf("%s: group row without children", p)
			}
			for _, k := range kids {
				if _, ok := k.(string); !ok {
					t.Errorf("%s.components: id %#v is not a string", p, k)
				}
			}
		} else if obj["group_id"] != nil {
			children[obj["group_id"]] = append(children[obj["group_id"]], obj["id"])
		}
	}
	if !flat {
		return
	}
	for _, g := range groups {
		if fmt.Sprint(g["components"]) != fmt.Sprint(children[g["id"]]) {
			t.Errorf("%s: group %v lists %v, its children are %v", path, g["id"], g["components"], children[g["id"]])
		}
	}
}

func spCheckIncident(t *testing.T, path string, v any, pageID any, maintenance bool) {
	t.Helper()
	spec := map[string]spKind{"id": spString, "name": spString, "status": spString, "impact": spString,
		"created_at": spTime, "updated_at": spTime, "monitoring_at": spTimeOrNull, "resolved_at": spTimeOrNull,
		"started_at": spTime, "shortlink": spString, "page_id": spString, "incident_updates": spArray, "components": spArray}
	statuses := []string{"investigating", "identified", "monitoring", "resolved", "postmortem"}
	impacts := []string{"none", "minor", "major", "critical"}
	if maintenance {
		spec["scheduled_for"], spec["scheduled_until"] = spTime, spTime
		statuses = []string{"scheduled", "in_progress", "verifying", "completed"}
		impacts = append(impacts, "maintenance")
	}
	obj := spCheckFields(t, path, v, spec)
	spCheckEnum(t, path+".status", obj["status"], statuses...)
	spCheckEnum(t, path+".impact", obj["impact"], impacts...)
	if obj["page_id"] != pageID {
		t.Errorf("%s.page_id = %v, want %v", path, obj["page_id"], pageID)
	}
	if cs, ok := obj["components"].([]any); ok {
		spCheckComponents(t, path+".components", cs, pageID, false)
		for _, c := range spObjects(cs) {
			if c["group"] != false {
				t.Errorf("%s.components: group row %v", path, c["id"])
			}
		}
	}
	updates, _ := obj["incident_updates"].([]any)
	var prev time.Time
	for i, u := range updates {
		p := fmt.Sprintf("%s.incident_updates[%d]", path, i)
		up := spCheckFields(t, p, u, map[string]spKind{"id": spString, "incident_id": spString, "status": spString,
			"body": spString, "created_at": spTime, "updated_at": spTime, "display_at": spTime,
			"affected_components": spArray, "deliver_notifications": spBool, "custom_tweet": spNull, "tweet_id": spNull})
		spCheckEnum(t, p+".status", up["status"], statuses...)
		if up["incident_id"] != obj["id"] {
			t.Errorf("%s.incident_id = %v, want %v", p, up["incident_id"], obj["id"])
		}
		if body, _ := up["body"].(string); strings.Contains(strings.ReplaceAll(body, "\r\n", ""), "\n") {
			t.Errorf("%s.body has a bare \\n: %q", p, body)
		}
		created, _ := time.Parse(time.RFC3339, fmt.Sprint(up["created_at"]))
		if i > 0 && created.After(prev) {
			t.Errorf("%s: updates not newest first (%v after %v)", p, created, prev)
		}
		prev = created
		if ac, ok := up["affected_components"].([]any); ok {
			for j, a := range ac {
				ap := fmt.Sprintf("%s.affected_components[%d]", p, j)
				af := spCheckFields(t, ap, a, map[string]spKind{"code": spString, "name": spString, "old_status": spString, "new_status": spString})
				spCheckEnum(t, ap+".old_status", af["old_status"], spComponentStatuses...)
				spCheckEnum(t, ap+".new_status", af["new_status"], spComponentStatuses...)
			}
		}
	}
}

func spObjects(v any) []map[string]any {
	list, _ := v.([]any)
	out := make([]map[string]any, 0, len(list))
	for _, o := range list {
		m, _ := o.(map[string]any)
		out = append(out, m)
	}
	return out
}

func spEqualJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

func spMustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
