package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/browsertest"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestBrowserIncidentFlow declares an incident whose message tries to run
// script, checks in a real browser that the public permalink runs none, then
// posts an update and resolves it through the admin.
func TestBrowserIncidentFlow(t *testing.T) {
	for _, e := range modelstest.Engines {
		t.Run(string(e), func(t *testing.T) {
			srv := webtest.Start(t, e)
			p := browsertest.Open(t, srv.URL)
			dialogs := p.WatchDialogs()

			p.Go("/setup")
			p.Fill("#f-page_name", "Acme Status")
			p.Fill("#f-email", webtest.AdminEmail)
			p.Fill("#f-password", webtest.AdminPassword)
			p.Click("main form button[type=submit]")
			wantPath(t, p, "/admin/components")
			api := addComponent(t, srv, "API", models.StatusOperational)

			p.Go("/admin")
			p.Click(`.sidebar a[href="/admin/incidents"]`)
			wantPath(t, p, "/admin/incidents")
			wantText(t, p, ".empty-state", "No incidents. Good.")
			p.Click(`.page-head a[href="/admin/incidents/new"]`)
			wantPath(t, p, "/admin/incidents/new")
			p.Fill("#f-title", "API errors")
			p.Type("#f-message", "Investigating <img src=x onerror=alert(1)> and [x](javascript:alert(1)) **now**")
			p.Choose(fmt.Sprintf("#f-component_%d", api), "Major outage")
			p.Click("form.form-card button.primary")
			wantText(t, p, ".flash-success", "Incident “API errors” published.")
			path := p.Path()
			id := strings.TrimPrefix(path, "/admin/incidents/")
			if id == path || id == "" {
				t.Fatalf("after creating, browser is at %s", path)
			}

			permalink := "/incidents/" + id
			if status := p.Go(permalink); status != 200 {
				t.Fatalf("GET %s: %d", permalink, status)
			}
			p.WaitVisible(".timeline .update")
			wantText(t, p, ".timeline .md", "now")
			if got := dialogs(); len(got) > 0 {
				t.Errorf("the permalink opened JavaScript dialogs: %v", got)
			}
			if bad := browsertest.Eval[[]string](p, `[...document.querySelectorAll("*")].flatMap(el =>
				[...el.attributes].filter(a => a.name.startsWith("on") || /^\s*javascript:/i.test(a.value)).map(a => el.tagName + " " + a.name))`); len(bad) > 0 {
				t.Errorf("the permalink carries script in attributes: %v", bad)
			}
			if n := browsertest.Eval[int](p, `document.querySelectorAll('[onerror], a[href^="javascript:" i], .md img, .md script').length`); n != 0 {
				t.Errorf("%d dangerous elements on the permalink", n)
			}

			p.Go(path)
			p.Check("#f-status-identified")
			p.Type("#f-message", "A bad deploy; rolling back.")
			p.Click("#post-update button.primary")
			wantPath(t, p, path)
			wantText(t, p, ".flash-success", "Update posted.")
			p.Type("#f-resolve_message", "Fixed.")
			p.Click("#resolve button.primary")
			wantPath(t, p, path)
			wantText(t, p, ".flash-success", "resolved")
			wantText(t, p, ".incident-meta", "Resolved")

			p.Go(permalink)
			p.WaitVisible(".timeline")
			got := browsertest.Eval[[]string](p, `[...document.querySelectorAll(".timeline .update-status")].map(e => e.textContent.trim())`)
			if strings.Join(got, ",") != "Resolved,Identified,Investigating" {
				t.Errorf("public timeline reads %v, want Resolved, Identified, Investigating", got)
			}
			assertNoDialogsOrConsoleErrors(t, p, dialogs())
		})
	}
}

// TestBrowserIncidentScreenshots renders the incident and maintenance screens
// at phone and desktop widths, light and dark, fails when a page is wider
// than the screen, and keeps the PNGs in HERALD_SCREENSHOT_DIR when set.
func TestBrowserIncidentScreenshots(t *testing.T) {
	srv := webtest.Start(t, models.SQLite)
	p := browsertest.Open(t, srv.URL)
	dirs := screenshotDirs(t)
	seedStatusPage(t, srv)
	incidentID := seedIncidents(t, srv)

	p.Go("/login")
	p.Fill("#f-email", webtest.AdminEmail)
	p.Fill("#f-password", webtest.AdminPassword)
	p.Click("main form button[type=submit]")
	wantPath(t, p, "/admin")

	shoot := screenshotter(t, p, dirs)
	detail := fmt.Sprintf("/admin/incidents/%d", incidentID)
	shoot("public-incident", func() { p.Go("/"); p.WaitVisible(".incident") })
	shoot("incident-permalink", func() { p.Go(fmt.Sprintf("/incidents/%d", incidentID)); p.WaitVisible(".timeline") })
	shoot("admin-incident", func() { p.Go(detail); p.WaitVisible("#post-update") })
	shoot("admin-incidents", func() { p.Go("/admin/incidents"); p.WaitVisible("table") })
	shoot("admin-incident-new", func() { p.Go("/admin/incidents/new"); p.WaitVisible("#f-title") })
	shoot("admin-incident-new-errors", func() {
		p.Go("/admin/incidents/new")
		if status := p.Click("form.form-card button.primary"); status != 422 {
			t.Errorf("empty incident form: status %d, want 422", status)
		}
		p.WaitVisible("#e-title")
	})
	shoot("admin-maintenance", func() { p.Go("/admin/maintenance"); p.WaitVisible("table") })
	shoot("admin-maintenance-new", func() { p.Go("/admin/maintenance/new"); p.WaitVisible("#f-title") })
	shoot("dashboard-activity", func() { p.Go("/admin"); p.WaitVisible("#active-incidents") })

	if problems := p.ConsoleProblems(); len(problems) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(problems, "\n"))
	}
}

// overflowingJS names the outermost elements that reach past the right edge
// of the screen, to say what makes a page too wide.
const overflowingJS = `(() => {
	const w = document.documentElement.clientWidth;
	const out = [...document.querySelectorAll("body *")].filter(el => el.getBoundingClientRect().right > w + 1);
	return out.filter(el => !out.includes(el.parentElement)).slice(0, 5)
		.map(el => el.tagName.toLowerCase() + (el.className ? "." + String(el.className).split(" ").join(".") : ""));
})()`

// seedIncidents adds an active incident with three updates, a resolved one,
// and maintenance in progress and upcoming, on a page built by
// seedStatusPage. It returns the active incident's id.
func seedIncidents(t *testing.T, srv *webtest.Server) int64 {
	t.Helper()
	ctx := t.Context()
	comps, err := srv.Store.Components(ctx, models.DefaultPageID)
	modelstest.Fatal(t, err, "components")
	byName := map[string]int64{}
	for _, c := range comps {
		byName[c.Name] = c.ID
	}
	inc, err := srv.Store.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{
		Title: "Elevated error rates on the API and delayed webhooks for some customers", Status: models.IncidentInvestigating,
		Message:    "We are seeing **elevated 5xx rates** on the public API. Webhook deliveries may be delayed.",
		Components: map[int64]models.ComponentStatus{byName["API"]: models.StatusMajorOutage, byName["Dashboard"]: models.StatusDegradedPerformance},
	})
	modelstest.Fatal(t, err, "create incident")
	_, err = srv.Store.PostIncidentUpdate(ctx, inc.ID, models.IncidentUpdateInput{Status: models.IncidentIdentified,
		Message: "The cause is a failing database node.\n\n- Traffic moved to the replica\n- Writes are queued, not lost\n\nTrack `db-7` in [our runbook](https://example.com/runbook)."})
	modelstest.Fatal(t, err, "update")
	_, err = srv.Store.PostIncidentUpdate(ctx, inc.ID, models.IncidentUpdateInput{Status: models.IncidentMonitoring,
		Message:    "A fix is deployed; error rates are back to normal. We keep watching.",
		Components: map[int64]models.ComponentStatus{byName["API"]: models.StatusPartialOutage}})
	modelstest.Fatal(t, err, "update")

	old, err := srv.Store.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{
		Title: "Login page slow", Message: "Logged afterwards.", Backfill: true,
		StartedAt: time.Now().Add(-50 * time.Hour), ResolvedAt: time.Now().Add(-49 * time.Hour),
	})
	modelstest.Fatal(t, err, "back-fill")
	modelstest.Fatal(t, srv.Store.SetPostmortem(ctx, old.ID, "A cache expired at once."), "postmortem")

	now := time.Now().UTC()
	_, err = srv.Store.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{
		Title: "Card processing failover drill", Message: "Payments may take **a few seconds longer**.",
		ComponentIDs: []int64{byName["Card processing"]}, WindowStart: now.Add(-10 * time.Minute), WindowEnd: now.Add(time.Hour), SetMaintenance: true,
	})
	modelstest.Fatal(t, err, "maintenance now")
	_, err = srv.Store.RunMaintenanceTransitions(ctx)
	modelstest.Fatal(t, err, "start maintenance")
	_, err = srv.Store.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{
		Title: "Database upgrade", Message: "The dashboard will be read-only.",
		ComponentIDs: []int64{byName["Dashboard"], byName["Website"]}, WindowStart: now.Add(48 * time.Hour), WindowEnd: now.Add(50 * time.Hour), SetMaintenance: true,
	})
	modelstest.Fatal(t, err, "maintenance later")
	return inc.ID
}
