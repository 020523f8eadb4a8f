package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// With the page in Europe/Berlin, the admin's date and time fields are
// read and shown in Berlin time, the zone named beside them: a time the
// clocks skip is a field error, a time they repeat is its first
// occurrence, and a form shown again after an error keeps what was typed.
func TestAdminTimesInPageZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatalf("tz database: %v", err)
	}
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		if res := c.Submit("/admin/settings", "/admin/settings", settingsForm(url.Values{"time_zone": {"Europe/Berlin"}})); res.Status != http.StatusSeeOther {
			t.Fatalf("settings: %d\n%s", res.Status, res.Body)
		}
		zone := "Europe/Berlin (UTC" + time.Now().In(berlin).Format("-07:00") + ")"

		// The new window's defaults are Berlin wall-clock times.
		start := time.Now().UTC().Truncate(time.Hour).Add(time.Hour)
		wantBody(t, c.Get("/admin/maintenance/new"), zone, `aria-describedby="z-window_start h-window_start"`,
			`value="`+start.In(berlin).Format("2006-01-02T15:04")+`"`)

		window := func(startAt, endAt string) url.Values {
			return url.Values{"title": {"Upgrade"}, "window_start": {startAt}, "window_end": {endAt}, "notify": {"0", "1"}}
		}
		cases := []struct {
			name, start, end string
			field, message   string
		}{
			{"skipped by the clocks", "2030-03-31T02:30", "2030-03-31T05:00", "window_start", "Mar 31, 2030 02:30 does not exist in Europe/Berlin"},
			{"malformed", "31/12/2030 10:00", "2031-01-01T10:00", "window_start", "Enter a date and time in Europe/Berlin, like 2026-01-14 12:00."},
			{"not a date at all", "2030-06-01T10:00", "soon\x00", "window_end", "Enter a date and time in Europe/Berlin"},
			{"before 1970", "1969-12-31T23:00", "2030-06-01T10:00", "window_start", "Enter a date between 1970 and 9999."},
		}
		for _, tc := range cases {
			before := eventCount(t, s)
			res := c.Submit("/admin/maintenance/new", "/admin/maintenance", window(tc.start, tc.end))
			if res.Status != http.StatusUnprocessableEntity {
				t.Fatalf("%s: status %d, want 422", tc.name, res.Status)
			}
			wantBody(t, res, `id="e-`+tc.field+`"`, tc.message, zone, `value="`+tc.start+`"`)
			if eventCount(t, s) != before {
				t.Errorf("%s: something was written", tc.name)
			}
		}

		// Summer and winter: the offset of the date itself counts. Oct 27,
		// 02:30 happens twice; the first (CEST, 00:30 UTC) is taken.
		res := c.Submit("/admin/maintenance/new", "/admin/maintenance", window("2030-07-01T10:00", "2030-10-27T02:30"))
		if res.Status != http.StatusSeeOther {
			t.Fatalf("schedule: %d\n%s", res.Status, res.Body)
		}
		ms, err := s.Store.Maintenances(t.Context(), models.DefaultPageID, models.MaintenanceFilter{})
		modelstest.Fatal(t, err, "maintenance")
		var m models.Maintenance
		for _, x := range ms {
			if x.Title == "Upgrade" {
				m = x
			}
		}
		if want := time.Date(2030, 7, 1, 8, 0, 0, 0, time.UTC); !m.WindowStart.Equal(want) {
			t.Errorf("start = %s, want %s", m.WindowStart.UTC(), want)
		}
		if want := time.Date(2030, 10, 27, 0, 30, 0, 0, time.UTC); !m.WindowEnd.Equal(want) {
			t.Errorf("end = %s, want %s (the first 02:30)", m.WindowEnd.UTC(), want)
		}
		// The edit form shows them in Berlin time again.
		wantBody(t, c.Get(fmt.Sprintf("/admin/maintenance/%d/edit", m.ID)), `value="2030-07-01T10:00"`, `value="2030-10-27T02:30"`, zone)

		// Back-fill: read in Berlin (winter, UTC+1).
		res = c.Submit("/admin/incidents/new", "/admin/incidents", url.Values{"title": {"Past"}, "message": {"Over."},
			"backfill": {"1"}, "started_at": {"2026-01-10T10:00"}, "resolved_at": {"2026-01-10T11:30"}})
		id := idFromLocation(t, res, "/admin/incidents/")
		inc, err := s.Store.Incident(t.Context(), id)
		modelstest.Fatal(t, err, "incident")
		if want := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC); !inc.StartedAt.Equal(want) || inc.ResolvedAt == nil ||
			!inc.ResolvedAt.Equal(want.Add(90*time.Minute)) {
			t.Errorf("back-fill %s – %v, want %s – +90 min", inc.StartedAt.UTC(), inc.ResolvedAt, want)
		}
		res = c.Submit("/admin/incidents/new", "/admin/incidents", url.Values{"title": {"Past"}, "message": {"Over."},
			"backfill": {"1"}, "started_at": {"2026-03-29T02:15"}, "resolved_at": {"2026-03-29T04:00"}})
		wantBody(t, res, `id="e-started_at"`, "does not exist in Europe/Berlin", `value="2026-03-29T02:15"`, zone)

		// Extending a running window: the field and the flash in Berlin time.
		running := planMaintenance(t, s, models.DefaultPageID, "Running", time.Now().UTC().Add(-time.Minute))
		path := fmt.Sprintf("/admin/maintenance/%d/update", running)
		loaded, err := s.Store.Maintenance(t.Context(), running)
		modelstest.Fatal(t, err, "running")
		wantBody(t, c.Get(path), `value="`+loaded.WindowEnd.In(berlin).Format("2006-01-02T15:04")+`"`, zone)
		newEnd := time.Now().Add(3 * time.Hour).Truncate(time.Minute).In(berlin)
		res = c.Submit(path, path, url.Values{"window_end": {newEnd.Format("2006-01-02T15:04")}})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("extend: %d\n%s", res.Status, res.Body)
		}
		wantBody(t, c.Get(res.Location), "now ends "+newEnd.Format("Jan 2, 15:04")+" (Europe/Berlin).")
		loaded, err = s.Store.Maintenance(t.Context(), running)
		modelstest.Fatal(t, err, "running")
		if !loaded.WindowEnd.Equal(newEnd) {
			t.Errorf("new end = %s, want %s", loaded.WindowEnd.UTC(), newEnd.UTC())
		}
		res = c.Submit(path, path, url.Values{"window_end": {"tomorrow"}})
		wantBody(t, res, `id="e-window_end"`, `value="tomorrow"`, zone)
	})
}
