package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/browsertest"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestBrowserMaintenanceUpdateScreenshots extends the running window of
// seedIncidents through the real form, then renders the update form
// (in progress, scheduled, with an error), the list and the status page
// with the update, at phone and desktop widths, light and dark.
func TestBrowserMaintenanceUpdateScreenshots(t *testing.T) {
	srv := webtest.Start(t, models.SQLite)
	p := browsertest.Open(t, srv.URL)
	dirs := screenshotDirs(t)
	seedStatusPage(t, srv)
	seedIncidents(t, srv)
	list, err := srv.Store.Maintenances(t.Context(), models.DefaultPageID, models.MaintenanceFilter{})
	modelstest.Fatal(t, err, "maintenance")
	var running, upcoming int64
	for _, m := range list {
		switch m.Status {
		case models.MaintenanceInProgress:
			running = m.ID
		case models.MaintenanceScheduled:
			upcoming = m.ID
		}
	}
	runningForm := fmt.Sprintf("/admin/maintenance/%d/update", running)

	p.Go("/login")
	p.Fill("#f-email", webtest.AdminEmail)
	p.Fill("#f-password", webtest.AdminPassword)
	p.Click("main form button[type=submit]")
	wantPath(t, p, "/admin")

	p.Go("/admin/maintenance")
	p.Click(fmt.Sprintf(`a[href="%s"]`, runningForm))
	wantPath(t, p, runningForm)
	p.Type("#f-message", "The failover takes longer than planned; payments stay **slow** for another hour.")
	p.Click("form.form-card button.primary")
	wantPath(t, p, "/admin/maintenance")
	wantText(t, p, ".flash-success", "Update posted")
	m, err := srv.Store.Maintenance(t.Context(), running)
	modelstest.Fatal(t, err, "load")
	if len(m.Updates) != 1 {
		t.Fatalf("updates after the form: %d", len(m.Updates))
	}

	shoot := screenshotter(t, p, dirs)
	shoot("admin-maintenance-update-running", func() { p.Go(runningForm); p.WaitVisible("#f-window_end") })
	shoot("admin-maintenance-update-scheduled", func() { p.Go(fmt.Sprintf("/admin/maintenance/%d/update", upcoming)); p.WaitVisible("#f-message") })
	shoot("admin-maintenance-update-errors", func() {
		p.Go(runningForm)
		// A date input takes keys per segment; set the value as a person's typing would leave it.
		browsertest.Eval[string](p, `document.querySelector("#f-window_end").value = "2020-01-01T00:00"`)
		if status := p.Click("form.form-card button.primary"); status != http.StatusUnprocessableEntity {
			t.Errorf("end in the past: status %d, want 422", status)
		}
		p.WaitVisible("#e-window_end")
	})
	shoot("admin-maintenance-list-actions", func() { p.Go("/admin/maintenance"); p.WaitVisible("table") })
	shoot("public-maintenance-update", func() { p.Go("/"); p.WaitVisible(".maintenance-item .timeline") })

	if problems := p.ConsoleProblems(); len(problems) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(problems, "\n"))
	}
}
