package web_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/web/browsertest"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestBrowserLimitUserToPage limits an operator to one page from the
// Users screen in a real browser, checks the Users table says so and the
// operator's switcher offers nothing else, and screenshots the user's
// pages form and the all-pages dashboard at phone and desktop widths,
// light and dark.
func TestBrowserLimitUserToPage(t *testing.T) {
	srv := webtest.Start(t, models.SQLite)
	p := browsertest.Open(t, srv.URL)
	dialogs := p.WatchDialogs()
	dirs := screenshotDirs(t)
	seedStatusPage(t, srv)
	ctx := t.Context()
	bravo, err := srv.Store.CreatePage(ctx, models.PageNameInput{Name: "Bravo internal tools", Slug: "bravo"})
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"EU West", "US East", "Asia Pacific"} {
		pg, err := srv.Store.CreatePage(ctx, models.PageNameInput{Name: name, Slug: fmt.Sprintf("region-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		status := []models.ComponentStatus{models.StatusOperational, models.StatusPartialOutage, models.StatusDegradedPerformance}[i]
		if _, err := srv.Store.CreateComponent(ctx, pg.ID, models.ComponentInput{Name: "API", Visible: true, Status: status}); err != nil {
			t.Fatal(err)
		}
		if i == 0 { // operational components: the window sets the banner
			if _, err := srv.Store.ScheduleMaintenance(ctx, pg.ID, models.MaintenanceInput{Title: "Upgrade",
				WindowStart: time.Now().Add(-time.Minute), WindowEnd: time.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			if _, err := srv.Store.RunMaintenanceTransitions(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := srv.Store.CreateComponent(ctx, bravo.ID, models.ComponentInput{Name: "Staff VPN", Visible: true, Status: models.StatusOperational}); err != nil {
		t.Fatal(err)
	}
	op, _ := srv.AddUser(t, "operator.on.one.page@example.com", models.RoleOperator)

	p.Go("/login")
	p.Fill("#f-email", webtest.AdminEmail)
	p.Fill("#f-password", webtest.AdminPassword)
	p.Click("main form button[type=submit]")
	wantPath(t, p, "/admin")
	p.Click(`.sidebar a[href="/admin/users"]`)
	wantPath(t, p, "/admin/users")
	p.Click(fmt.Sprintf(`#user-%d .user-pages a`, op.ID))
	wantPath(t, p, fmt.Sprintf("/admin/users/%d/pages", op.ID))
	p.Check("#f-pages-some")
	p.Check(fmt.Sprintf("#f-page-%d", bravo.ID))
	p.Click(".user-pages-form button.primary")
	wantPath(t, p, "/admin/users")
	wantText(t, p, ".flash", "may now see only: Bravo internal tools")
	wantText(t, p, fmt.Sprintf("#user-%d .user-pages", op.ID), "Bravo internal tools")

	shoot := screenshotter(t, p, dirs)
	shoot("user-pages", func() {
		p.Go(fmt.Sprintf("/admin/users/%d/pages", op.ID))
		p.WaitVisible(".user-pages-form")
	})
	shoot("users-with-pages", func() { p.Go("/admin/users"); p.WaitVisible(".users-table") })
	shoot("dashboard-all-pages", func() { p.Go("/admin?pages=all"); p.WaitVisible(".pages-overview") })
	wantText(t, p, ".pages-overview", "Partial System Outage")
	wantText(t, p, ".pages-overview", "Service Under Maintenance")
	shoot("dashboard-tabs", func() { p.Go("/admin"); p.WaitVisible(".dashboard-tabs") })

	// The operator now sees page B only: no switcher (one page), no tab.
	p.Click(".sidebar form[action='/logout'] button")
	p.Go("/login")
	p.Fill("#f-email", op.Email)
	p.Fill("#f-password", webtest.AdminPassword)
	p.Click("main form button[type=submit]")
	wantPath(t, p, "/admin")
	if n := browsertest.Eval[int](p, `document.querySelectorAll('#page-switcher, .dashboard-tabs').length`); n != 0 {
		t.Errorf("the operator limited to one page sees a switcher or tabs (%d)", n)
	}
	p.Go("/admin/components")
	wantText(t, p, "main", "Staff VPN")
	assertNoDialogsOrConsoleErrors(t, p, dialogs())
}
