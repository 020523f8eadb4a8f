package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

var stylesheetHref = regexp.MustCompile(`<link rel="stylesheet" href="([^"]+)"`)

// TestAdminLooks checks, over real HTTP on both engines, the markup behind
// the admin's looks: one primary action on the dashboard, the styled actor
// search, a confirmation card without a band, plain cancel-maintenance
// buttons, audit cells that wrap, and accent changes shown by name with a
// swatch.
func TestAdminLooks(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		ctx := models.WithActor(t.Context(), models.TokenActor(7, "deploy-bot-01JEXAMPLE7Q3ZKXW5V9N2M4P6R8T0", "192.0.2.1"))
		comp, err := s.Store.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Status: models.StatusOperational, Visible: true})
		modelstest.Fatal(t, err, "create component")
		start := time.Now().Add(48 * time.Hour).Truncate(time.Minute)
		m, err := s.Store.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "Database upgrade", Message: "Planned.",
			ComponentIDs: []int64{comp.ID}, WindowStart: start, WindowEnd: start.Add(time.Hour)})
		modelstest.Fatal(t, err, "schedule maintenance")

		dash := c.Get("/admin")
		if dash.Status != http.StatusOK {
			t.Fatalf("GET /admin: %d", dash.Status)
		}
		if n := strings.Count(dash.Body, `class="button primary"`) + strings.Count(dash.Body, `class="button small primary"`); n != 1 {
			t.Errorf("the dashboard has %d primary buttons, want 1", n)
		}
		if !strings.Contains(dash.Body, `<a class="button primary" href="/admin/incidents/new">New incident</a>`) {
			t.Error("the dashboard's primary action is not New incident")
		}
		if !strings.Contains(dash.Body, "The one component is operational.") || strings.Contains(dash.Body, "All 1 components") {
			t.Error(`the dashboard does not say "The one component is operational."`)
		}
		if strings.Contains(dash.Body, "Manage components") {
			t.Error("the dashboard still offers Manage components as its action")
		}

		css := stylesheetHref.FindStringSubmatch(dash.Body)
		if css == nil {
			t.Fatal("no stylesheet link on the dashboard")
		}
		sheet := c.Get(css[1])
		for _, want := range []string{
			"input[type=search], input[type=datetime-local]", // the actor search styled as the other inputs
			".confirm-card { margin-top: 0; }",
			".confirm-card > p { margin: 0;",
			"flex-direction: row; flex-wrap: wrap;", // phone tabs wrap instead of scrolling away
			".audit-table .actor-name { display: block; overflow: hidden; text-overflow: ellipsis;",
		} {
			if !strings.Contains(sheet.Body, want) {
				t.Errorf("the stylesheet lacks %q", want)
			}
		}

		confirm := c.Get("/admin/components/" + strconv.FormatInt(comp.ID, 10) + "/delete")
		if !strings.Contains(confirm.Body, `<section class="card danger-zone confirm-card"><p>`) {
			t.Errorf("the delete confirmation is not a confirm-card starting with its text:\n%s", confirm.Body)
		}
		if !strings.Contains(confirm.Body, `">Cancel</a>`) {
			t.Error("the delete confirmation lost its Cancel link")
		}

		cancel := c.Get("/admin/maintenance/" + strconv.FormatInt(m.ID, 10) + "/cancel")
		for _, want := range []string{`<button type="submit" class="danger">Cancel this maintenance</button>`, `<a class="button" href="/admin/maintenance">Keep it</a>`} {
			if !strings.Contains(cancel.Body, want) {
				t.Errorf("the cancel-maintenance page lacks %q", want)
			}
		}
		if strings.Contains(cancel.Body, `>Cancel</a>`) || strings.Contains(cancel.Body, `>Cancel maintenance</button>`) {
			t.Error("the cancel-maintenance page still has the ambiguous buttons")
		}

		// The settings form changes the accent from the old default.
		if res := c.Submit("/admin/settings", "/admin/settings", settingsForm(url.Values{"accent_color": {"purple"}})); res.Status != http.StatusSeeOther {
			t.Fatalf("save settings: %d\n%s", res.Status, res.Body)
		}
		audit := c.Get("/admin/audit")
		for _, want := range []string{
			`<input type="search" id="q-actor" name="actor" value="" maxlength="254" placeholder="e-mail or token">`,
			`<span class="actor-name" title="deploy-bot-01JEXAMPLE7Q3ZKXW5V9N2M4P6R8T0">`,
			`<td class="action-cell"><code>maintenance.<wbr>schedule</code></td>`,
		} {
			if !strings.Contains(audit.Body, want) {
				t.Errorf("the audit log lacks %q", want)
			}
		}
		list, err := s.Store.AuditEntries(t.Context(), models.AuditFilter{Action: "page.update"})
		modelstest.Fatal(t, err, "audit entries")
		entry := c.Get("/admin/audit/" + strconv.FormatInt(list[0].ID, 10))
		for _, want := range []string{
			`<th scope="row"><code>accent_color</code></th><td class="change-before"><span class="swatch accent-blue" aria-hidden="true"></span> <span class="change-value">Blue</span></td>`,
			`<td class="change-after"><span class="swatch accent-purple" aria-hidden="true"></span> <span class="change-value">Purple</span></td>`,
			`&#34;accent_color&#34;: &#34;blue&#34;`, `&#34;accent_color&#34;: &#34;purple&#34;`,
		} {
			if !strings.Contains(entry.Body, want) {
				t.Errorf("the audit entry lacks %q", want)
			}
		}
		if strings.Contains(entry.Body, "#0969da") {
			t.Error("the audit entry shows the accent as #0969da")
		}
	})
}
