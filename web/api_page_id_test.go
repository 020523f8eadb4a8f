package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestAPIPageID: components, groups, incidents, maintenance, channels and
// subscribers are listed and created on the page page_id names (default:
// the token's page); an unknown or malformed page_id, or another page
// than the token's, is 422; PATCH refuses page_id; the other page's
// objects never show through the first page's token.
func TestAPIPageID(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		ctx := context.Background()
		s.SetUp(t)
		admin, err := s.Store.UserByEmail(ctx, webtest.AdminEmail)
		modelstest.Fatal(t, err, "admin")
		second, err := s.Store.CreatePage(ctx, models.PageNameInput{Name: "Internal", Slug: "internal"})
		modelstest.Fatal(t, err, "page")
		pid := fmt.Sprint(second.ID)
		scopes := []models.Scope{models.ScopeComponentsWrite, models.ScopeIncidentsWrite, models.ScopeMaintenanceWrite,
			models.ScopeChannelsWrite, models.ScopeSubscribersWrite}
		_, tok, err := s.Store.CreateToken(ctx, second.ID, models.TokenInput{Name: "second", Scopes: scopes}, admin.ID)
		modelstest.Fatal(t, err, "token of the second page")
		_, firstTok, err := s.Store.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: "first", Scopes: scopes}, admin.ID)
		modelstest.Fatal(t, err, "token of the first page")

		start := time.Now().Add(48 * time.Hour).UTC()
		for _, kind := range []struct{ path, body, marker string }{
			{"/api/v1/groups", `{"name":"Staff tools","page_id":"` + pid + `"}`, "Staff"},
			{"/api/v1/components", `{"name":"Staff VPN","page_id":` + pid + `}`, "Staff"},
			{"/api/v1/incidents", `{"name":"Staff VPN drops","status":"investigating","body":"Looking.","page_id":"` + pid + `"}`, "Staff"},
			{"/api/v1/maintenance", `{"name":"Staff upgrade","body":"Upgrading.","scheduled_for":"` + start.Format(time.RFC3339) +
				`","scheduled_until":"` + start.Add(time.Hour).Format(time.RFC3339) + `","page_id":"` + pid + `"}`, "Staff"},
			{"/api/v1/channels", `{"type":"webhook","name":"Staff hook","url":"https://hooks.example.com/staff","page_id":"` + pid + `"}`, "Staff"},
			{"/api/v1/subscribers", `{"email":"staff-reader@example.com","page_id":"` + pid + `"}`, "staff-reader"},
		} {
			res := apiCall(t, s, tok, http.MethodPost, kind.path, kind.body)
			var created map[string]any
			if res.Status != http.StatusCreated || json.Unmarshal([]byte(res.Body), &created) != nil || created["page_id"] != pid && kind.path != "/api/v1/subscribers" {
				t.Fatalf("POST %s on page %s: %d %s", kind.path, pid, res.Status, res.Body)
			}
			id := created["id"].(string)
			if kind.path != "/api/v1/subscribers" {
				if res := apiCall(t, s, tok, http.MethodGet, kind.path+"/"+id, ""); res.Status != http.StatusOK {
					t.Errorf("GET %s/%s: %d", kind.path, id, res.Status)
				}
				// Objects do not move: 422 on page_id, or 400 where PATCH
				// takes no page_id at all.
				if res := apiCall(t, s, tok, http.MethodPatch, kind.path+"/"+id, `{"page_id":"1"}`); !(res.Status == http.StatusUnprocessableEntity && res.Err.Field == "page_id") && res.Status != http.StatusBadRequest {
					t.Errorf("PATCH %s/%s with page_id: %d %s", kind.path, id, res.Status, res.Body)
				}
			}
			for _, list := range []string{kind.path + "?page_id=" + pid, kind.path} {
				if res := apiCall(t, s, tok, http.MethodGet, list, ""); res.Status != http.StatusOK || !strings.Contains(res.Body, kind.marker) {
					t.Errorf("GET %s: %d %s", list, res.Status, res.Body)
				}
			}
			for _, list := range []string{kind.path, kind.path + "?page_id=1"} {
				if res := apiCall(t, s, firstTok, http.MethodGet, list, ""); res.Status != http.StatusOK || strings.Contains(res.Body, kind.marker) {
					t.Errorf("GET %s with the first page's token shows the other page's object: %d %s", list, res.Status, res.Body)
				}
			}
			if kind.path != "/api/v1/subscribers" {
				if res := apiCall(t, s, firstTok, http.MethodGet, kind.path+"/"+id, ""); res.Status != http.StatusNotFound {
					t.Errorf("GET %s/%s with the first page's token: %d", kind.path, id, res.Status)
				}
			}
			if res := apiCall(t, s, firstTok, http.MethodGet, kind.path+"?page_id="+pid, ""); res.Status != http.StatusUnprocessableEntity || res.Err.Field != "page_id" {
				t.Errorf("GET %s?page_id=%s with the first page's token: %d %s", kind.path, pid, res.Status, res.Body)
			}
			if res := apiCall(t, s, firstTok, http.MethodPost, kind.path, kind.body); res.Status != http.StatusUnprocessableEntity || res.Err.Field != "page_id" {
				t.Errorf("POST %s on the second page with the first page's token: %d %s", kind.path, res.Status, res.Body)
			}
			for _, bad := range []string{"999", "0", "-1", "abc", "1%00", ""} {
				if res := apiCall(t, s, tok, http.MethodGet, kind.path+"?page_id="+bad, ""); res.Status != http.StatusUnprocessableEntity || res.Err.Field != "page_id" {
					t.Errorf("GET %s?page_id=%q: %d %s", kind.path, bad, res.Status, res.Body)
				}
			}
			bad := strings.Replace(kind.body, `"page_id":"`+pid+`"`, `"page_id":"999"`, 1)
			bad = strings.Replace(bad, `"page_id":`+pid, `"page_id":999`, 1)
			if res := apiCall(t, s, tok, http.MethodPost, kind.path, bad); res.Status != http.StatusUnprocessableEntity || res.Err.Field != "page_id" {
				t.Errorf("POST %s on page 999: %d %s", kind.path, res.Status, res.Body)
			}
			if res := apiCall(t, s, tok, http.MethodPost, kind.path, `{"name":"X","page_id":"x"}`); res.Status != http.StatusBadRequest && res.Status != http.StatusUnprocessableEntity {
				t.Errorf("POST %s with a malformed page_id: %d %s", kind.path, res.Status, res.Body)
			}
		}
		subs, err := s.Store.Subscribers(ctx, models.SubscriberFilter{PageID: second.ID})
		modelstest.Fatal(t, err, "subscribers")
		if len(subs) != 1 {
			t.Fatalf("second page has %d subscribers, want 1", len(subs))
		}
		if res := apiCall(t, s, tok, http.MethodDelete, fmt.Sprintf("/api/v1/subscribers/%d", subs[0].ID), ""); res.Status != http.StatusNoContent {
			t.Errorf("delete the second page's subscriber: %d %s", res.Status, res.Body)
		}
		comps, err := s.Store.Components(ctx, second.ID)
		modelstest.Fatal(t, err, "components")
		groups, err := s.Store.Groups(ctx, second.ID)
		modelstest.Fatal(t, err, "groups")
		incs, err := s.Store.Incidents(ctx, second.ID, models.IncidentFilter{})
		modelstest.Fatal(t, err, "incidents")
		windows, err := s.Store.Maintenances(ctx, second.ID, models.MaintenanceFilter{})
		modelstest.Fatal(t, err, "maintenance")
		chans, err := s.Store.Channels(ctx, second.ID)
		modelstest.Fatal(t, err, "channels")
		if len(incs) != 1 || len(windows) != 1 || len(chans) != 1 {
			t.Fatalf("second page holds %d incidents, %d windows, %d channels, want 1 each", len(incs), len(windows), len(chans))
		}
		if len(comps) != 1 || len(groups) != 1 {
			t.Fatalf("second page holds %d components and %d groups, want 1 and 1", len(comps), len(groups))
		}
		// A group of another page is refused for a component.
		res := apiCall(t, s, firstTok, http.MethodPost, "/api/v1/components", fmt.Sprintf(`{"name":"Wrong","group_id":"%d"}`, groups[0].ID))
		if res.Status != http.StatusUnprocessableEntity {
			t.Errorf("component on the first page in the second page's group: %d %s", res.Status, res.Body)
		}
	})
}
