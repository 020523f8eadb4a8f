package web_test

import (
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// The admin extends an overrunning window and posts updates to it: the
// new end is stored and audited, the update shows on the status page, and
// channels hear of it only when "Notify channels" is ticked.
func TestAdminExtendsMaintenanceAndPostsUpdates(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		db := addComponent(t, s, "Database", models.StatusOperational)
		id := planMaintenance(t, s, models.DefaultPageID, "Failover drill", time.Now().UTC().Add(-time.Minute), db)
		scheduled := planMaintenance(t, s, models.DefaultPageID, "Later", time.Now().UTC().Add(5*time.Hour))
		path := "/admin/maintenance/" + itoa(id) + "/update"
		list := c.Get("/admin/maintenance")
		if !strings.Contains(list.Body, `href="`+path+`"`) || !strings.Contains(list.Body, "Update or extend") {
			t.Fatalf("list has no update link for the running window\n%s", list.Body)
		}
		form := c.Get(path)
		if form.Status != http.StatusOK || !strings.Contains(form.Body, `name="window_end"`) {
			t.Fatalf("update form of a running window: %d\n%s", form.Status, form.Body)
		}

		before := eventCount(t, s)
		newEnd := time.Now().UTC().Add(3 * time.Hour).Truncate(time.Minute)
		res := c.Submit(path, path, url.Values{"window_end": {newEnd.Format("2006-01-02T15:04")}, "message": {"The copy is **slower** than planned."}})
		if res.Status != http.StatusSeeOther || res.Location != "/admin/maintenance" {
			t.Fatalf("extend: %d → %q\n%s", res.Status, res.Location, res.Body)
		}
		if page := c.Get("/admin/maintenance"); !strings.Contains(page.Body, "now ends "+newEnd.Format("Jan 2, 15:04")+" UTC. No channels notified.") {
			t.Fatalf("no flash after extending\n%s", page.Body)
		}
		m, err := s.Store.Maintenance(t.Context(), id)
		modelstest.Fatal(t, err, "load")
		if !m.WindowEnd.Equal(newEnd) || m.Status != models.MaintenanceInProgress || len(m.Updates) != 1 {
			t.Fatalf("after extending: end %v status %s updates %d", m.WindowEnd, m.Status, len(m.Updates))
		}
		if a := lastAudit(t, s); a.Action != "maintenance.extend" || a.ActorName != webtest.AdminEmail {
			t.Fatalf("audit row %+v", a)
		}
		if n := eventCount(t, s); n != before {
			t.Fatalf("a silent extension fired %d events", n-before)
		}
		if home := s.NewClient(t).Get("/"); !strings.Contains(home.Body, "The copy is <strong>slower</strong> than planned.") {
			t.Fatalf("the status page does not show the maintenance update\n%s", home.Body)
		}

		// A scheduled window: an update, no end field, announced.
		spath := "/admin/maintenance/" + itoa(scheduled) + "/update"
		if form := c.Get(spath); strings.Contains(form.Body, `name="window_end"`) {
			t.Fatal("a scheduled window's update form offers to move its end")
		}
		res = c.Submit(spath, spath, url.Values{"message": {"On track."}, "notify": {"1"}})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("update scheduled: %d\n%s", res.Status, res.Body)
		}
		if evs := eventsAfter(t, s, before); len(evs) != 1 || evs[0] != models.EventMaintenanceUpdated {
			t.Fatalf("events %v, want one maintenance.updated", evs)
		}

		// Bad input: the form again with the error and what was typed; nothing written.
		done := planMaintenance(t, s, models.DefaultPageID, "Done", time.Now().UTC().Add(-time.Minute))
		modelstest.Fatal(t, s.Store.EndMaintenanceNow(t.Context(), done), "end")
		rows := tableRows(t, s)
		past := time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")
		res = c.Submit(path, path, url.Values{"window_end": {past}, "message": {"Kept text"}, "notify": {"1"}})
		if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `id="e-window_end"`) || !strings.Contains(res.Body, "Kept text") ||
			!strings.Contains(res.Body, `value="`+past+`"`) {
			t.Fatalf("end in the past: %d\n%s", res.Status, res.Body)
		}
		res = c.Submit(path, path, url.Values{"window_end": {"next tuesday"}})
		if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `id="e-window_end"`) {
			t.Fatalf("bad date: %d", res.Status)
		}
		for name, msg := range map[string]string{"NUL": "a\x00b", "too long": strings.Repeat("m", 50_001), "empty": " "} {
			res = c.Submit(spath, spath, url.Values{"message": {msg}})
			if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `id="e-message"`) {
				t.Errorf("%s message: %d", name, res.Status)
			}
		}
		dpath := "/admin/maintenance/" + itoa(done) + "/update"
		if got := c.Get(dpath); got.Status != http.StatusSeeOther {
			t.Errorf("update form of a completed window: %d, want a redirect", got.Status)
		}
		csrf := c.CSRF(spath)
		if got := c.Post(dpath, url.Values{"_csrf": {csrf}, "message": {"More."}}); got.Status != http.StatusSeeOther {
			t.Errorf("update of a completed window: %d, want a redirect with a flash", got.Status)
		}
		if page := c.Get("/admin/maintenance"); !strings.Contains(page.Body, "can no longer be updated") {
			t.Error("no flash after updating a completed window")
		}
		if got := c.Get("/admin/maintenance/99999/update"); got.Status != http.StatusNotFound {
			t.Errorf("unknown window: %d, want 404", got.Status)
		}
		if got := c.Post("/admin/maintenance/99999/update", url.Values{"_csrf": {csrf}, "message": {"x"}}); got.Status != http.StatusNotFound {
			t.Errorf("POST unknown window: %d, want 404", got.Status)
		}
		if after := tableRows(t, s); !maps.Equal(rows, after) {
			t.Fatalf("refused updates wrote rows: %v → %v", rows, after)
		}
		if m, _ := s.Store.Maintenance(t.Context(), id); !m.WindowEnd.Equal(newEnd) {
			t.Fatal("a refused extension moved the end")
		}
	})
}
