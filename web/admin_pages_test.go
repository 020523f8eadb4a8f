package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestAdminPagesAndSwitcher: an admin creates a second page (bad slugs
// refused with 422), is switched to it, adds a component and an incident
// there; back on the first page, its screens do not show them and their
// ids are 404; a viewer switches pages but cannot create one; deleting
// the page asks first and deletes everything only when told.
func TestAdminPagesAndSwitcher(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		ctx := context.Background()
		admin := s.SetUp(t)
		if res := admin.Get("/admin"); strings.Contains(res.Body, "Managing page") {
			t.Fatal("the page switcher shows with one page")
		}
		if res := admin.Get("/admin/pages"); res.Status != http.StatusOK || !strings.Contains(res.Body, "Status pages") || !strings.Contains(res.Body, `<code>/</code>`) {
			t.Fatalf("pages screen: %d\n%.500s", res.Status, res.Body)
		}
		for _, slug := range []string{"admin", "api", "s", "Upper", "café", strings.Repeat("a", 200), "a\x00b", "a\r\nb", "-x", ""} {
			res := admin.Submit("/admin/pages", "/admin/pages", url.Values{"name": {"Internal"}, "slug": {slug}})
			if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `id="f-slug"`) && !strings.Contains(res.Body, "slug") {
				t.Errorf("slug %q: %d, want 422 with the slug's error", slug, res.Status)
			}
		}
		if pages, _ := s.Store.Pages(ctx); len(pages) != 1 {
			t.Fatalf("%d pages after refusals", len(pages))
		}
		res := admin.Submit("/admin/pages", "/admin/pages", url.Values{"name": {"Internal"}, "slug": {"internal"}})
		if res.Status != http.StatusSeeOther || res.Location != "/admin" {
			t.Fatalf("create page: %d %s\n%.500s", res.Status, res.Location, res.Body)
		}
		res = admin.Submit("/admin/pages", "/admin/pages", url.Values{"name": {"Again"}, "slug": {"internal"}})
		if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "Another page already has this slug") {
			t.Fatalf("duplicate slug: %d", res.Status)
		}
		pages, err := s.Store.Pages(ctx)
		modelstest.Fatal(t, err, "pages")
		second := pages[1]
		// Now managing the new page: the switcher shows, with it chosen.
		dash := admin.Get("/admin")
		if !strings.Contains(dash.Body, "Managing page") || !strings.Contains(dash.Body, fmt.Sprintf(`<option value="%d" selected>Internal</option>`, second.ID)) {
			t.Fatalf("dashboard after creating a page has no switcher on it:\n%.2000s", dash.Body)
		}
		res = admin.Submit("/admin/components/new", "/admin/components", url.Values{"name": {"Staff VPN"}, "status": {"operational"}, "visible": {"1"}})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("create component on the second page: %d\n%.500s", res.Status, res.Body)
		}
		comps, err := s.Store.Components(ctx, second.ID)
		modelstest.Fatal(t, err, "components")
		if len(comps) != 1 || comps[0].Name != "Staff VPN" {
			t.Fatalf("second page's components = %+v", comps)
		}
		inc, err := s.Store.CreateIncident(ctx, second.ID, models.IncidentInput{Title: "VPN drops", Status: models.IncidentInvestigating, Message: "Looking."})
		modelstest.Fatal(t, err, "incident")
		if res := admin.Get("/admin/incidents"); !strings.Contains(res.Body, "VPN drops") {
			t.Fatal("the second page's incident is not on its incidents screen")
		}
		if res := admin.Get(fmt.Sprintf("/admin/components/%d/edit", comps[0].ID)); res.Status != http.StatusOK {
			t.Fatalf("own component: %d", res.Status)
		}
		// Back to the first page.
		res = admin.Submit("/admin", "/admin/pages/current", url.Values{"page_id": {fmt.Sprint(models.DefaultPageID)}})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("switch: %d\n%.300s", res.Status, res.Body)
		}
		for _, path := range []string{"/admin", "/admin/components", "/admin/incidents"} {
			if res := admin.Get(path); res.Status != http.StatusOK || strings.Contains(res.Body, "Staff VPN") || strings.Contains(res.Body, "VPN drops") {
				t.Errorf("%s on the first page: %d, shows the second page's objects", path, res.Status)
			}
		}
		for _, path := range []string{fmt.Sprintf("/admin/components/%d/edit", comps[0].ID), fmt.Sprintf("/admin/incidents/%d", inc.ID),
			fmt.Sprintf("/admin/components/%d/delete", comps[0].ID)} {
			if res := admin.Get(path); res.Status != http.StatusNotFound {
				t.Errorf("%s from the first page: %d, want 404", path, res.Status)
			}
		}
		res = admin.Submit("/admin", fmt.Sprintf("/admin/components/%d/delete", comps[0].ID), nil)
		if res.Status != http.StatusNotFound {
			t.Errorf("deleting the second page's component from the first: %d, want 404", res.Status)
		}
		if _, err := s.Store.Component(ctx, comps[0].ID); err != nil {
			t.Fatalf("component gone: %v", err)
		}
		// Unknown page ids are refused; a viewer switches but cannot create.
		if res := admin.Submit("/admin", "/admin/pages/current", url.Values{"page_id": {"999"}}); res.Status != http.StatusNotFound {
			t.Errorf("switch to a missing page: %d", res.Status)
		}
		_, viewer := s.AddUser(t, "viewer@example.com", models.RoleViewer)
		if res := viewer.Submit("/admin", "/admin/pages/current", url.Values{"page_id": {fmt.Sprint(second.ID)}}); res.Status != http.StatusSeeOther {
			t.Errorf("viewer switch: %d", res.Status)
		}
		if res := viewer.Get("/admin/components"); !strings.Contains(res.Body, "Staff VPN") {
			t.Error("viewer's switch did not take")
		}
		if res := viewer.Submit("/admin", "/admin/pages", url.Values{"name": {"X"}, "slug": {"x"}}); res.Status != http.StatusForbidden {
			t.Errorf("viewer creates a page: %d", res.Status)
		}
		// Rename, then delete: the first page cannot be, the second
		// only with everything on it.
		res = admin.Submit(fmt.Sprintf("/admin/pages/%d/edit", second.ID), fmt.Sprintf("/admin/pages/%d", second.ID), url.Values{"name": {"Staff"}, "slug": {"staff"}})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("rename: %d\n%.500s", res.Status, res.Body)
		}
		if res := admin.Get(fmt.Sprintf("/admin/pages/%d/delete", models.DefaultPageID)); res.Status != http.StatusNotFound {
			t.Errorf("delete step of the first page: %d", res.Status)
		}
		confirm := admin.Get(fmt.Sprintf("/admin/pages/%d/delete", second.ID))
		if !strings.Contains(confirm.Body, "1 component, 1 incident") || !strings.Contains(confirm.Body, "Delete the page and everything on it") {
			t.Fatalf("delete confirmation:\n%.3000s", confirm.Body)
		}
		res = admin.Submit("/admin/pages", fmt.Sprintf("/admin/pages/%d/delete", second.ID), nil)
		if res.Status != http.StatusConflict || !strings.Contains(res.Body, "still has 1 component, 1 incident") {
			t.Fatalf("delete without everything: %d", res.Status)
		}
		res = admin.Submit("/admin/pages", fmt.Sprintf("/admin/pages/%d/delete", second.ID), url.Values{"everything": {"1"}})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("delete everything: %d\n%.500s", res.Status, res.Body)
		}
		if _, err := s.Store.Component(ctx, comps[0].ID); err == nil {
			t.Fatal("component survived its page")
		}
		// The viewer's session managed the deleted page: back to the first.
		if res := viewer.Get("/admin"); res.Status != http.StatusOK || strings.Contains(res.Body, "Managing page") {
			t.Errorf("viewer after the page was deleted: %d", res.Status)
		}
		entries, err := s.Store.AuditEntries(ctx, models.AuditFilter{PageID: models.DefaultPageID, ObjectType: models.AuditPage})
		modelstest.Fatal(t, err, "audit")
		var actions []string
		for _, e := range entries {
			actions = append(actions, e.Action)
		}
		if got := strings.Join(actions, " "); !strings.Contains(got, "page.delete") || !strings.Contains(got, "page.create") {
			t.Errorf("audit actions %v", actions)
		}
	})
}
