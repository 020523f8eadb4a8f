package web_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

func TestComponentFormRejectsBadInput(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		cases := []struct {
			name  string
			form  url.Values
			error string
			kept  string
		}{
			{"empty name", url.Values{"name": {""}, "description": {"kept desc"}, "status": {"operational"}}, "Enter a name.", "kept desc"},
			{"long name", url.Values{"name": {strings.Repeat("x", 101)}, "status": {"operational"}}, "at most 100", strings.Repeat("x", 101)},
			{"unknown status", url.Values{"name": {"API"}, "status": {"on_fire"}}, "Choose one of the listed statuses.", `value="API"`},
			{"unknown group", url.Values{"name": {"API"}, "status": {"operational"}, "group_id": {"4242"}}, "does not exist", `value="API"`},
			{"non-numeric group", url.Values{"name": {"API"}, "status": {"operational"}, "group_id": {"abc"}}, "Choose a group from the list.", `value="API"`},
			{"long description", url.Values{"name": {"API"}, "status": {"operational"}, "description": {strings.Repeat("d", 501)}}, "at most 500", `value="API"`},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := c.Submit("/admin/components/new", "/admin/components", tc.form)
				if res.Status != http.StatusUnprocessableEntity {
					t.Fatalf("status %d, want 422", res.Status)
				}
				if !strings.Contains(res.Body, tc.error) || !strings.Contains(res.Body, tc.kept) {
					t.Fatalf("body lacks error %q or kept %q", tc.error, tc.kept)
				}
			})
		}
		cs, err := s.Store.Components(t.Context(), models.DefaultPageID)
		modelstest.Fatal(t, err, "list")
		if len(cs) != 0 {
			t.Fatalf("bad input wrote %d components", len(cs))
		}
		for _, path := range []string{"/admin/components/abc/edit", "/admin/components/-1/edit", "/admin/components/99999/edit", "/admin/groups/x/edit"} {
			if res := c.Get(path); res.Status != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", path, res.Status)
			}
		}
		if res := c.Submit("/admin/components", "/admin/components/99999/delete", nil); res.Status != http.StatusNotFound {
			t.Errorf("delete missing component: %d, want 404", res.Status)
		}
	})
}

func TestOversizedBodyIsRefused(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		token := c.CSRF("/admin/components/new")
		body := "_csrf=" + token + "&status=operational&name=" + strings.Repeat("a", 2<<20)
		res := c.PostRaw("/admin/components", "application/x-www-form-urlencoded", bytes.NewBufferString(body))
		if res.Status != http.StatusRequestEntityTooLarge || !strings.Contains(res.Body, "larger than Herald accepts") {
			t.Fatalf("status %d, want 413 with a friendly page", res.Status)
		}
		cs, _ := s.Store.Components(t.Context(), models.DefaultPageID)
		if len(cs) != 0 {
			t.Fatal("oversized body wrote a component")
		}
	})
}

func TestComponentsAdminAndPublicPage(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		res := c.Submit("/admin/groups/new", "/admin/groups", url.Values{"name": {"Core services"}})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("create group: %d", res.Status)
		}
		groups, _ := s.Store.Groups(t.Context(), models.DefaultPageID)
		gid := fmt.Sprint(groups[0].ID)
		xss := `<img src=x onerror=alert(1)>`
		for _, f := range []url.Values{
			{"name": {"API"}, "group_id": {gid}, "status": {"operational"}, "visible": {"1"}},
			{"name": {xss}, "group_id": {gid}, "status": {"operational"}, "visible": {"1"}},
			{"name": {"Secret backend"}, "status": {"operational"}},
		} {
			if res := c.Submit("/admin/components/new", "/admin/components", f); res.Status != http.StatusSeeOther {
				t.Fatalf("create %s: %d\n%s", f.Get("name"), res.Status, res.Body)
			}
		}
		cs, _ := s.Store.Components(t.Context(), models.DefaultPageID)
		byName := map[string]models.Component{}
		for _, comp := range cs {
			byName[comp.Name] = comp
		}
		list := c.Get("/admin/components")
		if strings.Contains(list.Body, xss) || !strings.Contains(list.Body, "&lt;img src=x onerror=alert(1)&gt;") {
			t.Fatal("component name not escaped in the admin list")
		}
		if !strings.Contains(list.Body, "Component “API” created.") && !strings.Contains(list.Body, "created.") {
			t.Fatal("no flash after creating")
		}

		// Hidden components never reach the public page or its banner.
		secret := byName["Secret backend"]
		if res := c.Submit("/admin/components", fmt.Sprintf("/admin/components/%d/status", secret.ID), url.Values{"status": {"major_outage"}}); res.Status != http.StatusSeeOther {
			t.Fatalf("quick status: %d", res.Status)
		}
		pub := s.NewClient(t).Get("/")
		if strings.Contains(pub.Body, "Secret backend") || !strings.Contains(pub.Body, "All Systems Operational") {
			t.Fatal("hidden component shown or counted on the public page")
		}
		if strings.Contains(pub.Body, xss) {
			t.Fatal("XSS payload unescaped on the public page")
		}

		api := byName["API"]
		res = c.Submit("/admin/components", fmt.Sprintf("/admin/components/%d/status", api.ID), url.Values{"status": {"major_outage"}})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("quick status: %d", res.Status)
		}
		if res := c.Get("/admin/components"); !strings.Contains(res.Body, "“API” is now Major outage.") {
			t.Fatal("no flash after status change")
		}
		pub = s.NewClient(t).Get("/")
		if !strings.Contains(pub.Body, `<h2 id="banner-text">Partial System Outage</h2>`) { // one of several down
			t.Fatalf("banner does not say Partial System Outage:\n%s", pub.Body)
		}
		if pub.Header.Get("Set-Cookie") != "" {
			t.Fatal("public page sets a cookie")
		}
		hist, _ := s.Store.StatusChanges(t.Context(), api.ID)
		if len(hist) != 2 || hist[1].NewStatus != models.StatusMajorOutage || hist[1].Source != models.SourceManual {
			t.Fatalf("history = %+v", hist)
		}

		// An unknown status in the quick form changes nothing.
		c.Submit("/admin/components", fmt.Sprintf("/admin/components/%d/status", api.ID), url.Values{"status": {"bogus"}})
		if got, _ := s.Store.Component(t.Context(), api.ID); got.Status != models.StatusMajorOutage {
			t.Fatalf("bogus status changed the component to %s", got.Status)
		}

		// Edit keeps the history honest and can move and hide.
		res = c.Submit(fmt.Sprintf("/admin/components/%d/edit", api.ID), fmt.Sprintf("/admin/components/%d", api.ID),
			url.Values{"name": {"Public API"}, "status": {"operational"}, "group_id": {""}, "visible": {"1"}})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("edit: %d", res.Status)
		}
		got, _ := s.Store.Component(t.Context(), api.ID)
		if got.Name != "Public API" || got.GroupID != nil || got.Status != models.StatusOperational {
			t.Fatalf("after edit: %+v", got)
		}

		// Reorder and delete with confirmation.
		if res := c.Submit("/admin/components", fmt.Sprintf("/admin/components/%d/move", api.ID), url.Values{"direction": {"sideways"}}); res.Status != http.StatusBadRequest {
			t.Fatalf("bad direction: %d, want 400", res.Status)
		}
		if res := c.Get(fmt.Sprintf("/admin/components/%d/delete", api.ID)); !strings.Contains(res.Body, "Delete “Public API”?") {
			t.Fatal("no confirmation page before delete")
		}
		if res := c.Submit(fmt.Sprintf("/admin/components/%d/delete", api.ID), fmt.Sprintf("/admin/components/%d/delete", api.ID), nil); res.Status != http.StatusSeeOther {
			t.Fatalf("delete: %d", res.Status)
		}
		if _, err := s.Store.Component(t.Context(), api.ID); err == nil {
			t.Fatal("component still exists after delete")
		}
	})
}
