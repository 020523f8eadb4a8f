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

// TestBrowserCorrectionScreenshots corrects an update through the real
// form in a browser, then renders the correction forms (blank, with an
// error) and the pages that mark the corrections, at phone and desktop
// widths, light and dark.
func TestBrowserCorrectionScreenshots(t *testing.T) {
	srv := webtest.Start(t, models.SQLite)
	p := browsertest.Open(t, srv.URL)
	dirs := screenshotDirs(t)
	seedStatusPage(t, srv)
	incidentID := seedIncidents(t, srv)
	inc, err := srv.Store.Incident(t.Context(), incidentID)
	modelstest.Fatal(t, err, "load incident")
	detail := fmt.Sprintf("/admin/incidents/%d", incidentID)
	updateEdit := fmt.Sprintf("%s/updates/%d/edit", detail, inc.Updates[1].ID)

	p.Go("/login")
	p.Fill("#f-email", webtest.AdminEmail)
	p.Fill("#f-password", webtest.AdminPassword)
	p.Click("main form button[type=submit]")
	wantPath(t, p, "/admin")

	p.Go(detail)
	p.Click(fmt.Sprintf(`a[href="%s"]`, updateEdit))
	wantPath(t, p, updateEdit)
	p.Fill("#f-message", "The cause is a failing database node (`db-7`); traffic moved to the replica.")
	p.Check("#f-notify")
	p.Click("form.form-card button.primary")
	wantPath(t, p, detail)
	wantText(t, p, ".flash-success", "Update corrected. No channels notified.")
	wantText(t, p, ".timeline", "edited")
	before := eventCount(t, srv)
	_, err = srv.Store.EditIncidentTitle(t.Context(), incidentID, models.IncidentTitleInput{Title: "Elevated error rates on the API and delayed webhooks"})
	modelstest.Fatal(t, err, "correct title")
	if eventCount(t, srv) != before {
		t.Error("a silent title correction fired an event")
	}

	shoot := screenshotter(t, p, dirs)
	shoot("admin-correct-title", func() { p.Go(detail + "/edit"); p.WaitVisible("#f-title") })
	shoot("admin-correct-update", func() { p.Go(updateEdit); p.WaitVisible("#f-message") })
	shoot("admin-correct-update-errors", func() {
		p.Go(updateEdit)
		p.Fill("#f-message", "")
		if status := p.Click("form.form-card button.primary"); status != http.StatusUnprocessableEntity {
			t.Errorf("empty correction: status %d, want 422", status)
		}
		p.WaitVisible("#e-message")
	})
	shoot("admin-incident-edited", func() { p.Go(detail); p.WaitVisible(".edited") })
	shoot("incident-permalink-edited", func() { p.Go(fmt.Sprintf("/incidents/%d", incidentID)); p.WaitVisible(".edited") })
	shoot("public-incident-edited", func() { p.Go("/"); p.WaitVisible(".incident .edited") })

	if problems := p.ConsoleProblems(); len(problems) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(problems, "\n"))
	}
}
