package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

var overviewRowRE = regexp.MustCompile(`(?s)<tr id="overview-page-(\d+)">(.*?)</tr>`)

// overviewRows reads the all-pages dashboard: each page's row, by id.
func overviewRows(t *testing.T, body string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range overviewRowRE.FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// cell is the text after a cell's label in an overview row.
func cell(row, label string) string {
	_, rest, ok := strings.Cut(row, `<span class="cell-label">`+label+` </span>`)
	if !ok {
		return ""
	}
	text, _, _ := strings.Cut(rest, "</td>")
	return strings.TrimSpace(text)
}

// TestAllPagesDashboard: three pages in different states show their
// public banner's status and what needs attention; a user limited to
// some pages sees only theirs; the Manage button switches page; 50 more
// pages render quickly. /admin/audit/:id answers 404 for another page's
// entry.
func TestAllPagesDashboard(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		ctx := context.Background()
		admin := s.SetUp(t)
		if res := admin.Get("/admin"); strings.Contains(res.Body, "?pages=all") {
			t.Error("the All pages tab shows with one page")
		}
		failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
		t.Cleanup(failing.Close)

		// Page A: a visible component in a major outage, a hidden one
		// degraded, an open incident, a channel whose receiver fails.
		a := models.DefaultPageID
		_, err := s.Store.CreateComponent(ctx, a, models.ComponentInput{Name: "Core API", Visible: true, Status: models.StatusMajorOutage})
		modelstest.Fatal(t, err, "component")
		_, err = s.Store.CreateComponent(ctx, a, models.ComponentInput{Name: "Batch", Visible: false, Status: models.StatusDegradedPerformance})
		modelstest.Fatal(t, err, "hidden component")
		_, err = s.Store.CreateChannel(ctx, a, models.ChannelInput{Type: models.ChannelWebhook, Name: "Failing hook", URL: failing.URL, Enabled: true})
		modelstest.Fatal(t, err, "channel")
		_, err = s.Store.CreateIncident(ctx, a, models.IncidentInput{Title: "Errors", Status: models.IncidentInvestigating, Impact: models.Impact("minor"), Message: "Looking."})
		modelstest.Fatal(t, err, "incident")
		// Page B: all operational, one window in progress, one upcoming.
		bravo, err := s.Store.CreatePage(ctx, models.PageNameInput{Name: "Bravo", Slug: "bravo"})
		modelstest.Fatal(t, err, "page B")
		_, err = s.Store.CreateComponent(ctx, bravo.ID, models.ComponentInput{Name: "VPN", Visible: true, Status: models.StatusOperational})
		modelstest.Fatal(t, err, "component B")
		_, err = s.Store.ScheduleMaintenance(ctx, bravo.ID, models.MaintenanceInput{Title: "Now",
			WindowStart: time.Now().Add(-time.Minute), WindowEnd: time.Now().Add(time.Hour)})
		modelstest.Fatal(t, err, "window now")
		_, err = s.Store.ScheduleMaintenance(ctx, bravo.ID, models.MaintenanceInput{Title: "Later",
			WindowStart: time.Now().Add(24 * time.Hour), WindowEnd: time.Now().Add(25 * time.Hour)})
		modelstest.Fatal(t, err, "window later")
		_, err = s.Store.RunMaintenanceTransitions(ctx)
		modelstest.Fatal(t, err, "start the window")
		// Page C: operational, nothing going on. Page D: not the viewer's.
		charlie, err := s.Store.CreatePage(ctx, models.PageNameInput{Name: "Charlie", Slug: "charlie"})
		modelstest.Fatal(t, err, "page C")
		_, err = s.Store.CreateComponent(ctx, charlie.ID, models.ComponentInput{Name: "Docs", Visible: true, Status: models.StatusOperational})
		modelstest.Fatal(t, err, "component C")
		delta, err := s.Store.CreatePage(ctx, models.PageNameInput{Name: "Deltamark", Slug: "delta"})
		modelstest.Fatal(t, err, "page D")

		viewerUser, viewer := s.AddUser(t, "viewer@example.com", models.RoleViewer)
		_, err = s.Store.SetUserPages(ctx, viewerUser.ID, models.PageSet{PageIDs: []int64{a, bravo.ID, charlie.ID}})
		modelstest.Fatal(t, err, "limit the viewer")

		// The failing receiver keeps the incident's delivery queued.
		var rows map[string]string
		deadline := time.Now().Add(20 * time.Second)
		for {
			res := viewer.Get("/admin?pages=all")
			if res.Status != http.StatusOK {
				t.Fatalf("all pages: %d\n%.1000s", res.Status, res.Body)
			}
			if strings.Contains(res.Body, "Deltamark") || strings.Contains(res.Body, fmt.Sprintf("overview-page-%d", delta.ID)) {
				t.Fatal("a page the viewer may not see is on their all-pages dashboard")
			}
			rows = overviewRows(t, res.Body)
			if cell(rows["1"], "Queued notifications") != "0" || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if len(rows) != 3 {
			t.Fatalf("%d rows, want 3: %v", len(rows), rows)
		}
		for _, tc := range []struct {
			id                                             int64
			status, sentence                               string
			incidents, maintenance, notOperational, queued string
		}{
			{a, "st-major_outage", "Major System Outage", "1", "0 in progress, 0 upcoming", "2", "1"},
			{bravo.ID, "st-under_maintenance", "Service Under Maintenance", "0", "1 in progress, 1 upcoming", "0", "0"},
			{charlie.ID, "st-operational", "All Systems Operational", "0", "0 in progress, 0 upcoming", "0", "0"},
		} {
			row := rows[fmt.Sprint(tc.id)]
			if !strings.Contains(row, tc.status) || !strings.Contains(row, tc.sentence) {
				t.Errorf("page %d: want %s %q\n%s", tc.id, tc.status, tc.sentence, row)
			}
			for label, want := range map[string]string{"Open incidents": tc.incidents, "Maintenance": tc.maintenance,
				"Components not operational": tc.notOperational} {
				if got := cell(row, label); got != want {
					t.Errorf("page %d %s: %q, want %q", tc.id, label, got, want)
				}
			}
			if got := cell(row, "Queued notifications"); tc.queued == "0" && got != "0" || tc.queued != "0" && got == "0" {
				t.Errorf("page %d queued: %q, want %s", tc.id, got, tc.queued)
			}
		}
		// The public banner of page A says the same.
		if res := s.NewClient(t).Get("/"); !strings.Contains(res.Body, "Major") {
			t.Errorf("public banner of page A disagrees:\n%.500s", res.Body)
		}
		// Manage switches page, and the dashboard then shows it.
		res := viewer.Submit("/admin?pages=all", "/admin/pages/current", url.Values{"page_id": {fmt.Sprint(bravo.ID)}})
		if res.Status != http.StatusSeeOther || res.Location != "/admin" {
			t.Fatalf("manage page B: %d %s", res.Status, res.Location)
		}
		if res := viewer.Get("/admin"); !strings.Contains(res.Body, fmt.Sprintf(`<option value="%d" selected>Bravo</option>`, bravo.ID)) || !strings.Contains(res.Body, "?pages=all") {
			t.Error("dashboard after Manage is not page B's, or lacks the All pages tab")
		}

		// /admin/audit/:id of another page's entry: 404, even for an admin.
		entries, err := s.Store.AuditEntries(ctx, models.AuditFilter{PageID: bravo.ID, Limit: 1})
		modelstest.Fatal(t, err, "audit of B")
		firstEntries, err := s.Store.AuditEntries(ctx, models.AuditFilter{PageID: a, Limit: 1})
		modelstest.Fatal(t, err, "audit of A")
		if len(entries) != 1 || len(firstEntries) != 1 {
			t.Fatal("no audit entries to aim at")
		}
		for _, tc := range []struct {
			client  *webtest.Client
			entry   int64
			want    int
			comment string
		}{
			{viewer, entries[0].ID, http.StatusOK, "B's entry while managing B"},
			{viewer, firstEntries[0].ID, http.StatusNotFound, "A's entry while managing B"},
			{admin, entries[0].ID, http.StatusNotFound, "B's entry while managing A"},
			{admin, firstEntries[0].ID, http.StatusOK, "A's entry while managing A"},
		} {
			if res := tc.client.Get(fmt.Sprintf("/admin/audit/%d", tc.entry)); res.Status != tc.want {
				t.Errorf("%s: %d, want %d", tc.comment, res.Status, tc.want)
			}
		}
		deltaEntries, err := s.Store.AuditEntries(ctx, models.AuditFilter{PageID: delta.ID, Limit: 1})
		modelstest.Fatal(t, err, "audit of D")
		if len(deltaEntries) == 1 {
			if res := viewer.Get(fmt.Sprintf("/admin/audit/%d", deltaEntries[0].ID)); res.Status != http.StatusNotFound {
				t.Errorf("an entry of a page the viewer may not see: %d", res.Status)
			}
		}

		// 50 more pages: still one page, quickly.
		for i := range 50 {
			p, err := s.Store.CreatePage(ctx, models.PageNameInput{Name: fmt.Sprintf("Region %d", i), Slug: fmt.Sprintf("region-%d", i)})
			modelstest.Fatal(t, err, "page")
			_, err = s.Store.CreateComponent(ctx, p.ID, models.ComponentInput{Name: "API", Visible: true, Status: models.StatusPartialOutage})
			modelstest.Fatal(t, err, "component")
		}
		start := time.Now()
		res = admin.Get("/admin?pages=all")
		took := time.Since(start)
		if got := len(overviewRows(t, res.Body)); res.Status != http.StatusOK || got != 54 {
			t.Fatalf("all pages with 54 pages: %d, %d rows", res.Status, got)
		}
		if took > 2*time.Second {
			t.Errorf("all pages with 54 pages took %s", took)
		}
		t.Logf("all-pages dashboard with 54 pages: %s, %d KB", took, len(res.Body)/1024)
	})
}
