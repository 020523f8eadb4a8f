package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestAPIPageID: components and groups are listed and created on the
// page page_id names (default: the first page); an unknown or malformed
// page_id is 422; PATCH refuses page_id; the other page's objects never
// show in the first page's lists.
func TestAPIPageID(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		ctx := context.Background()
		s.SetUp(t)
		admin, err := s.Store.UserByEmail(ctx, webtest.AdminEmail)
		modelstest.Fatal(t, err, "admin")
		_, tok, err := s.Store.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: "all",
			Scopes: []models.Scope{models.ScopeComponentsWrite}}, admin.ID)
		modelstest.Fatal(t, err, "token")
		second, err := s.Store.CreatePage(ctx, models.PageNameInput{Name: "Internal", Slug: "internal"})
		modelstest.Fatal(t, err, "page")
		pid := fmt.Sprint(second.ID)

		for _, kind := range []struct{ path, body string }{
			{"/api/v1/groups", `{"name":"Staff tools","page_id":"` + pid + `"}`},
			{"/api/v1/components", `{"name":"Staff VPN","page_id":` + pid + `}`},
		} {
			res := apiCall(t, s, tok, http.MethodPost, kind.path, kind.body)
			var created map[string]any
			if res.Status != http.StatusCreated || json.Unmarshal([]byte(res.Body), &created) != nil || created["page_id"] != pid {
				t.Fatalf("POST %s on page %s: %d %s", kind.path, pid, res.Status, res.Body)
			}
			id := created["id"].(string)
			if res := apiCall(t, s, tok, http.MethodGet, kind.path+"/"+id, ""); res.Status != http.StatusOK {
				t.Errorf("GET %s/%s: %d", kind.path, id, res.Status)
			}
			if res := apiCall(t, s, tok, http.MethodPatch, kind.path+"/"+id, `{"page_id":"1"}`); res.Status != http.StatusUnprocessableEntity || res.Err.Field != "page_id" {
				t.Errorf("PATCH %s/%s with page_id: %d %s", kind.path, id, res.Status, res.Body)
			}
			if res := apiCall(t, s, tok, http.MethodGet, kind.path+"?page_id="+pid, ""); res.Status != http.StatusOK || !strings.Contains(res.Body, `"id":"`+id+`"`) {
				t.Errorf("GET %s?page_id=%s: %d %s", kind.path, pid, res.Status, res.Body)
			}
			for _, list := range []string{kind.path, kind.path + "?page_id=1"} {
				if res := apiCall(t, s, tok, http.MethodGet, list, ""); res.Status != http.StatusOK || strings.Contains(res.Body, "Staff") {
					t.Errorf("GET %s shows the other page's object: %d %s", list, res.Status, res.Body)
				}
			}
			for _, bad := range []string{"999", "0", "-1", "abc", "1%00", ""} {
				if res := apiCall(t, s, tok, http.MethodGet, kind.path+"?page_id="+bad, ""); res.Status != http.StatusUnprocessableEntity || res.Err.Field != "page_id" {
					t.Errorf("GET %s?page_id=%q: %d %s", kind.path, bad, res.Status, res.Body)
				}
			}
			if res := apiCall(t, s, tok, http.MethodPost, kind.path, `{"name":"X","page_id":"999"}`); res.Status != http.StatusUnprocessableEntity || res.Err.Field != "page_id" {
				t.Errorf("POST %s on page 999: %d %s", kind.path, res.Status, res.Body)
			}
			if res := apiCall(t, s, tok, http.MethodPost, kind.path, `{"name":"X","page_id":"x"}`); res.Status != http.StatusBadRequest && res.Status != http.StatusUnprocessableEntity {
				t.Errorf("POST %s with a malformed page_id: %d %s", kind.path, res.Status, res.Body)
			}
		}
		comps, err := s.Store.Components(ctx, second.ID)
		modelstest.Fatal(t, err, "components")
		groups, err := s.Store.Groups(ctx, second.ID)
		modelstest.Fatal(t, err, "groups")
		if len(comps) != 1 || len(groups) != 1 {
			t.Fatalf("second page holds %d components and %d groups, want 1 and 1", len(comps), len(groups))
		}
		// A group of another page is refused for a component.
		res := apiCall(t, s, tok, http.MethodPost, "/api/v1/components", fmt.Sprintf(`{"name":"Wrong","group_id":"%d"}`, groups[0].ID))
		if res.Status != http.StatusUnprocessableEntity {
			t.Errorf("component on the first page in the second page's group: %d %s", res.Status, res.Body)
		}
	})
}
