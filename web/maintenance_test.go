package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// formTime formats t as a datetime-local value in UTC.
func formTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04") }

func maintenanceCount(t *testing.T, s *webtest.Server) int {
	t.Helper()
	list, err := s.Store.Maintenances(t.Context(), models.DefaultPageID, models.MaintenanceFilter{})
	modelstest.Fatal(t, err, "list maintenance")
	return len(list)
}

func loadMaintenance(t *testing.T, s *webtest.Server, id int64) *models.Maintenance {
	t.Helper()
	m, err := s.Store.Maintenance(t.Context(), id)
	modelstest.Fatal(t, err, "load maintenance %d", id)
	return m
}

// followFlash loads the page a redirect leads to and returns its body.
func followFlash(t *testing.T, c *webtest.Client, res webtest.Response) string {
	t.Helper()
	if res.Status != http.StatusSeeOther {
		t.Fatalf("status %d, want a redirect\n%s", res.Status, res.Body)
	}
	return c.Get(res.Location).Body
}

func TestMaintenanceScheduleEditCancel(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		db := addComponent(t, s, "Database", models.StatusOperational)
		api := addComponent(t, s, "API", models.StatusOperational)
		if res := c.Get("/admin/maintenance"); !strings.Contains(res.Body, "No maintenance scheduled.") {
			t.Fatal("empty maintenance list lacks its empty state")
		}
		if res := c.Get("/admin/maintenance/new"); !strings.Contains(res.Body, `name="set_maintenance" value="1" checked`) {
			t.Error("“Set components to Under maintenance” is not checked by default")
		}
		start := time.Now().UTC().Add(2 * time.Hour).Truncate(time.Minute)
		end := start.Add(2 * time.Hour)
		before := eventCount(t, s)
		res := c.Submit("/admin/maintenance/new", "/admin/maintenance", url.Values{
			"title": {"Database upgrade"}, "message": {"Expect **read-only** mode."},
			"component_ids": {itoa(db), itoa(api)}, "window_start": {formTime(start)}, "window_end": {formTime(end)},
			"set_maintenance": {"1"},
		})
		body := followFlash(t, c, res)
		if !strings.Contains(body, "Maintenance “Database upgrade” scheduled.") {
			t.Fatalf("no flash after scheduling:\n%s", body)
		}
		if evs := eventsAfter(t, s, before); len(evs) != 1 || evs[0] != models.EventMaintenanceScheduled {
			t.Errorf("events = %v, want maintenance.scheduled", evs)
		}
		list, err := s.Store.Maintenances(t.Context(), models.DefaultPageID, models.MaintenanceFilter{})
		modelstest.Fatal(t, err, "list")
		if len(list) != 1 {
			t.Fatalf("%d windows, want 1", len(list))
		}
		m := list[0]
		if !m.WindowStart.Equal(start) || !m.WindowEnd.Equal(end) || !m.SetMaintenance || len(m.Components) != 2 {
			t.Errorf("window = %s–%s set=%v components=%d, want %s–%s (UTC), set, 2", m.WindowStart, m.WindowEnd, m.SetMaintenance, len(m.Components), start, end)
		}

		anon := s.NewClient(t)
		public := anon.Get("/").Body
		wantInOrder(t, public, "Scheduled maintenance", "Database upgrade", "<time datetime=", "Database, API", "<strong>read-only</strong>")
		perma := anon.Get(fmt.Sprintf("/maintenance/%d", m.ID))
		if perma.Status != http.StatusOK || !strings.Contains(perma.Body, "Database upgrade") || perma.Header.Get("Set-Cookie") != "" {
			t.Fatalf("permalink: %d, want 200 without a cookie", perma.Status)
		}

		edit := fmt.Sprintf("/admin/maintenance/%d/edit", m.ID)
		form := c.Get(edit)
		if form.Status != http.StatusOK || !strings.Contains(form.Body, `value="`+formTime(start)+`"`) ||
			!strings.Contains(form.Body, `value="`+itoa(db)+`" checked`) {
			t.Fatalf("edit form: %d, want the saved window and components", form.Status)
		}
		res = c.Submit(edit, fmt.Sprintf("/admin/maintenance/%d", m.ID), url.Values{
			"title": {"Database upgrade (v16)"}, "component_ids": {itoa(db)},
			"window_start": {formTime(start)}, "window_end": {formTime(end.Add(time.Hour))},
		})
		if body := followFlash(t, c, res); !strings.Contains(body, "saved") {
			t.Fatal("no flash after editing")
		}
		got := loadMaintenance(t, s, m.ID)
		if got.Title != "Database upgrade (v16)" || got.SetMaintenance || len(got.Components) != 1 || !got.WindowEnd.Equal(end.Add(time.Hour)) {
			t.Errorf("after edit: %+v", got)
		}

		cancel := fmt.Sprintf("/admin/maintenance/%d/cancel", m.ID)
		if res := c.Get(cancel); res.Status != http.StatusOK || !strings.Contains(res.Body, "Cancel maintenance “Database upgrade (v16)”?") {
			t.Fatalf("cancel confirmation: %d", res.Status)
		}
		if body := followFlash(t, c, c.Submit(cancel, cancel, nil)); !strings.Contains(body, "cancelled") {
			t.Fatal("no flash after cancelling")
		}
		if got := loadMaintenance(t, s, m.ID); got.Status != models.MaintenanceCancelled {
			t.Fatalf("status %s after cancel", got.Status)
		}
		if strings.Contains(anon.Get("/").Body, "Scheduled maintenance") {
			t.Error("a cancelled window is still announced")
		}

		// A cancelled window can no longer be edited or cancelled.
		if body := followFlash(t, c, c.Get(edit)); !strings.Contains(body, "only scheduled maintenance can be edited") {
			t.Errorf("editing a cancelled window: no explanation\n%s", body)
		}
		res = c.Submit("/admin/maintenance", fmt.Sprintf("/admin/maintenance/%d", m.ID), url.Values{
			"title": {"Sneaky"}, "window_start": {formTime(start)}, "window_end": {formTime(end)},
		})
		if body := followFlash(t, c, res); !strings.Contains(body, "only scheduled maintenance can be edited") {
			t.Error("saving a cancelled window: no explanation")
		}
		if body := followFlash(t, c, c.Submit("/admin/maintenance", cancel, nil)); !strings.Contains(body, "can no longer be cancelled") {
			t.Error("cancelling twice: no explanation")
		}
		if got := loadMaintenance(t, s, m.ID); got.Title != "Database upgrade (v16)" {
			t.Errorf("a cancelled window was edited to %q", got.Title)
		}
	})
}

func TestMaintenanceInProgressEndsNow(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		db := addComponent(t, s, "Database", models.StatusDegradedPerformance)
		now := time.Now().UTC()
		m, err := s.Store.ScheduleMaintenance(t.Context(), models.DefaultPageID, models.MaintenanceInput{
			Title: "Failover drill", ComponentIDs: []int64{db}, WindowStart: now.Add(-time.Minute), WindowEnd: now.Add(time.Hour), SetMaintenance: true,
		})
		modelstest.Fatal(t, err, "schedule")
		_, err = s.Store.RunMaintenanceTransitions(t.Context())
		modelstest.Fatal(t, err, "start")
		if got := componentStatus(t, s, db); got != models.StatusUnderMaintenance {
			t.Fatalf("Database is %s during the window", got)
		}

		list := c.Get("/admin/maintenance").Body
		wantInOrder(t, list, "In progress and upcoming", "Failover drill", "In progress", "End now", "Past")
		if !strings.Contains(c.Get("/admin").Body, "Failover drill") {
			t.Error("dashboard does not show maintenance in progress")
		}
		public := s.NewClient(t).Get("/").Body
		wantInOrder(t, public, "Maintenance in progress", "Failover drill")

		edit := fmt.Sprintf("/admin/maintenance/%d/edit", m.ID)
		if body := followFlash(t, c, c.Get(edit)); !strings.Contains(body, "is in progress; only scheduled maintenance can be edited") {
			t.Error("editing a window in progress: no explanation")
		}
		if body := followFlash(t, c, c.Get(fmt.Sprintf("/admin/maintenance/%d/cancel", m.ID))); !strings.Contains(body, "only scheduled maintenance can be cancelled") {
			t.Error("cancelling a window in progress: no explanation")
		}

		before := eventCount(t, s)
		end := fmt.Sprintf("/admin/maintenance/%d/end", m.ID)
		if body := followFlash(t, c, c.Submit("/admin/maintenance", end, nil)); !strings.Contains(body, "Maintenance “Failover drill” ended.") {
			t.Fatalf("no flash after ending:\n%s", body)
		}
		if got := loadMaintenance(t, s, m.ID); got.Status != models.MaintenanceCompleted {
			t.Fatalf("status %s after End now", got.Status)
		}
		if got := componentStatus(t, s, db); got != models.StatusDegradedPerformance {
			t.Errorf("Database is %s after the window, want its earlier degraded_performance", got)
		}
		evs := eventsAfter(t, s, before)
		if countTypes(evs, models.EventMaintenanceCompleted) != 1 || countTypes(evs, models.EventComponentStatusChanged) != 1 {
			t.Errorf("events after End now = %v", evs)
		}
		if body := followFlash(t, c, c.Submit("/admin/maintenance", end, nil)); !strings.Contains(body, "can no longer be ended") {
			t.Error("ending twice: no explanation")
		}
		for _, path := range []string{"/admin/maintenance/abc/edit", "/admin/maintenance/99999/edit", "/admin/maintenance/0/cancel"} {
			if res := c.Get(path); res.Status != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", path, res.Status)
			}
		}
		for _, path := range []string{"/admin/maintenance/abc", "/admin/maintenance/99999/end", "/admin/maintenance/99999/cancel"} {
			if res := c.Submit("/admin/maintenance", path, nil); res.Status != http.StatusNotFound {
				t.Errorf("POST %s: %d, want 404", path, res.Status)
			}
		}
	})
}

func TestMaintenanceFormRejectsBadInput(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		db := addComponent(t, s, "Database", models.StatusOperational)
		start := time.Now().UTC().Add(time.Hour)
		valid := func(change func(url.Values)) url.Values {
			f := url.Values{"title": {"Kept title"}, "message": {"Kept message"}, "component_ids": {itoa(db)},
				"window_start": {formTime(start)}, "window_end": {formTime(start.Add(time.Hour))}}
			change(f)
			return f
		}
		cases := []struct {
			name  string
			form  url.Values
			field string
			error string
			kept  string
		}{
			{"empty title", valid(func(f url.Values) { f.Set("title", "") }), "title", "cannot be empty", "Kept message"},
			{"end before start", valid(func(f url.Values) { f.Set("window_end", formTime(start.Add(-30*time.Minute))) }), "window_end", "The end must be after the start.", `value="Kept title"`},
			{"window already over", valid(func(f url.Values) {
				f.Set("window_start", formTime(start.Add(-5*time.Hour)))
				f.Set("window_end", formTime(start.Add(-3*time.Hour)))
			}), "window_end", "back-fill an incident instead", `value="Kept title"`},
			{"unparsable start", valid(func(f url.Values) { f.Set("window_start", "next tuesday") }), "window_start", "Enter a date and time in UTC", `value="next tuesday"`},
			{"missing end", valid(func(f url.Values) { f.Del("window_end") }), "window_end", "Enter when the maintenance ends.", `value="Kept title"`},
			{"unknown component", valid(func(f url.Values) { f.Add("component_ids", "99999") }), "components", "does not exist", `value="Kept title"`},
			{"malformed component id", valid(func(f url.Values) { f.Add("component_ids", "db") }), "components", "Choose components from the list.", `value="Kept title"`},
			{"huge message", valid(func(f url.Values) { f.Set("message", strings.Repeat("m", 50_001)) }), "message", "at most 50000", `value="Kept title"`},
		}
		before := eventCount(t, s)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := c.Submit("/admin/maintenance/new", "/admin/maintenance", tc.form)
				if res.Status != http.StatusUnprocessableEntity {
					t.Fatalf("status %d, want 422", res.Status)
				}
				if !strings.Contains(res.Body, `id="e-`+tc.field+`"`) || !strings.Contains(res.Body, tc.error) {
					t.Fatalf("no error %q next to %s", tc.error, tc.field)
				}
				if !strings.Contains(res.Body, tc.kept) {
					t.Fatalf("typed value %q not kept", tc.kept)
				}
				if !strings.Contains(res.Body, `value="`+itoa(db)+`" checked`) {
					t.Fatal("component choice not kept")
				}
				if strings.Contains(res.Body, `name="set_maintenance" value="1" checked`) {
					t.Fatal("an unchecked “set maintenance” box came back checked")
				}
			})
		}
		if n := maintenanceCount(t, s); n != 0 {
			t.Fatalf("bad input wrote %d windows", n)
		}
		if n := eventCount(t, s); n != before {
			t.Fatalf("bad input wrote %d events", n-before)
		}
	})
}

func TestMaintenanceMarkupIsSanitised(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		db := addComponent(t, s, `<img src=x onerror=alert("db")>`, models.StatusOperational)
		start := time.Now().UTC().Add(time.Hour)
		res := c.Submit("/admin/maintenance/new", "/admin/maintenance", url.Values{
			"title": {`<script>alert(1)</script>`}, "message": {"<script>alert(2)</script> [x](javascript:alert(3)) <img src=x onerror=alert(4)>"},
			"component_ids": {itoa(db)}, "window_start": {formTime(start)}, "window_end": {formTime(start.Add(time.Hour))},
		})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("schedule: %d\n%s", res.Status, res.Body)
		}
		list, _ := s.Store.Maintenances(t.Context(), models.DefaultPageID, models.MaintenanceFilter{})
		anon := s.NewClient(t)
		pages := map[string]string{
			"admin list": c.Get("/admin/maintenance").Body,
			"edit form":  c.Get(fmt.Sprintf("/admin/maintenance/%d/edit", list[0].ID)).Body,
			"public":     anon.Get("/").Body,
			"permalink":  anon.Get(fmt.Sprintf("/maintenance/%d", list[0].ID)).Body,
		}
		for name, body := range pages {
			for _, bad := range []string{"<script>alert", "<img src=x", `href="javascript:`} {
				if strings.Contains(body, bad) {
					t.Errorf("%s contains live markup %q", name, bad)
				}
			}
			if m := liveHandler.FindString(body); m != "" {
				t.Errorf("%s has an event handler attribute: %q", name, m)
			}
			if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("%s does not show the title as text", name)
			}
		}
	})
}
