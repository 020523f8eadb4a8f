package web_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/browsertest"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestBrowserAuditLog reaches the audit log from the navigation, filters it
// with the form, opens an entry, and renders both screens at phone and
// desktop widths without horizontal scrolling.
func TestBrowserAuditLog(t *testing.T) {
	srv := webtest.Start(t, models.SQLite)
	p := browsertest.Open(t, srv.URL)
	dialogs := p.WatchDialogs()
	dirs := screenshotDirs(t)

	p.Go("/setup")
	p.Fill("#f-page_name", "Acme Status")
	p.Fill("#f-email", webtest.AdminEmail)
	p.Fill("#f-password", webtest.AdminPassword)
	p.Click("main form button[type=submit]")
	wantPath(t, p, "/admin/components")
	ctx := models.WithActor(t.Context(), models.UserActor(1, webtest.AdminEmail, "192.0.2.10"))
	for _, name := range []string{"API", "Payouts to connected accounts in more than forty countries"} {
		_, err := srv.Store.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: name, Status: models.StatusOperational, Visible: true})
		modelstest.Fatal(t, err, "create component %s", name)
	}
	_, err := srv.Store.CreateChannel(ctx, models.DefaultPageID, models.ChannelInput{Type: models.ChannelWebhook,
		Name: "Pager bridge with a rather long name", URL: "https://hooks.example.com/herald/incoming?token=abcdef", Enabled: true,
		HeadersText: "Authorization: Bearer secret-value"})
	modelstest.Fatal(t, err, "create channel")

	p.Click(`.sidebar a[href="/admin/audit"]`)
	wantPath(t, p, "/admin/audit")
	wantText(t, p, ".audit-table tbody", "Created Webhook channel “Pager bridge with a rather long name”.")
	wantText(t, p, ".audit-table tbody", "192.0.2.10")

	p.Choose("#q-action", "channel.create")
	p.Click(".filters button[type=submit]")
	if rows := browsertest.Eval[int](p, `document.querySelectorAll(".audit-table tbody tr").length`); rows != 1 {
		t.Fatalf("filtered to channel.create: %d rows, want 1", rows)
	}
	p.Click(".audit-table tbody tr .row-actions a")
	wantText(t, p, "h1", "channel.create")
	wantText(t, p, ".audit-after", "https://hooks.example.com/herald/incoming?token=••••")
	wantText(t, p, ".audit-after", "Authorization: ••••")
	entry := p.Path()

	for _, shot := range []struct{ name, path, sel string }{
		{"audit-log", "/admin/audit", ".audit-table"},
		{"audit-entry", entry, ".audit-after"},
	} {
		for _, width := range []int64{375, 1280} {
			for _, scheme := range []string{"light", "dark"} {
				p.Emulate(width, scheme)
				p.Go(shot.path)
				p.WaitVisible(shot.sel)
				file := fmt.Sprintf("%s-%d-%s.png", shot.name, width, scheme)
				if over := browsertest.Eval[int](p, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); over > 0 {
					t.Errorf("%s: page is %dpx wider than the screen", file, over)
				}
				png := p.Screenshot()
				for _, dir := range dirs {
					if err := os.WriteFile(filepath.Join(dir, file), png, 0o644); err != nil {
						t.Fatalf("save %s: %v", file, err)
					}
				}
			}
		}
	}
	assertNoDialogsOrConsoleErrors(t, p, dialogs())
}
