package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

type componentJSON struct {
	ID          string  `json:"id"`
	PageID      string  `json:"page_id"`
	GroupID     *string `json:"group_id"`
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Status      string  `json:"status"`
	Position    int     `json:"position"`
	Visible     bool    `json:"visible"`
	CreatedAt   string  `json:"created_at"`
	UpdatedAt   string  `json:"updated_at"`
}

type groupJSON struct {
	ID         string   `json:"id"`
	PageID     string   `json:"page_id"`
	Name       string   `json:"name"`
	Position   int      `json:"position"`
	Collapsed  bool     `json:"collapsed"`
	Components []string `json:"components"`
	CreatedAt  string   `json:"created_at"`
	UpdatedAt  string   `json:"updated_at"`
}

var apiTimeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

func decodeAPI[T any](t *testing.T, res apiResponse, status int) T {
	t.Helper()
	if res.Status != status {
		t.Fatalf("status %d, want %d\n%s", res.Status, status, res.Body)
	}
	var v T
	if err := json.Unmarshal([]byte(res.Body), &v); err != nil {
		t.Fatalf("decode %s: %v", res.Body, err)
	}
	return v
}

// rowCounts counts what a write could leave behind: components, groups,
// outbox events and audit rows.
type rowCounts struct{ components, groups, events, audit int }

func countRows(t *testing.T, s *webtest.Server) rowCounts {
	t.Helper()
	db, err := s.Store.SQLDB()
	modelstest.Fatal(t, err, "sql db")
	var n rowCounts
	for _, c := range []struct {
		table string
		into  *int
	}{{"components", &n.components}, {"component_groups", &n.groups}, {"events", &n.events}, {"audit_log", &n.audit}} {
		modelstest.Fatal(t, db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+c.table).Scan(c.into), "count %s", c.table)
	}
	return n
}

// apiSetUp signs in and creates a token with components:write.
func apiSetUp(t *testing.T, s *webtest.Server) (*webtest.Client, string) {
	t.Helper()
	c := s.SetUp(t)
	_, token := createToken(t, c, "Components bot", models.ScopeComponentsWrite)
	return c, token
}

func TestAPIComponentsCreateReadUpdateDelete(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, token := apiSetUp(t, s)
		g := decodeAPI[groupJSON](t, apiCall(t, s, token, http.MethodPost, "/api/v1/groups", `{"name":"Core"}`), http.StatusCreated)

		before := countRows(t, s)
		res := apiCall(t, s, token, http.MethodPost, "/api/v1/components",
			`{"name":" API ","description":"Public REST API","status":"degraded_performance","group_id":"`+g.ID+`"}`)
		comp := decodeAPI[componentJSON](t, res, http.StatusCreated)
		if res.Location != "/api/v1/components/"+comp.ID || comp.Name != "API" || comp.Description != "Public REST API" ||
			comp.Status != "degraded_performance" || !comp.Visible || comp.GroupID == nil || *comp.GroupID != g.ID ||
			comp.Position != 1 || comp.PageID != "1" || !apiTimeRE.MatchString(comp.CreatedAt) || !apiTimeRE.MatchString(comp.UpdatedAt) {
			t.Fatalf("created %+v at %q", comp, res.Location)
		}
		after := countRows(t, s)
		if after.components != before.components+1 || after.events != before.events+1 {
			t.Fatalf("create wrote %+v → %+v, want one component and one event", before, after)
		}
		evs, _ := s.Store.Events(t.Context(), models.EventFilter{Type: models.EventComponentCreated})
		if len(evs) != 1 || !strings.Contains(evs[0].Data, `"name":"API"`) {
			t.Fatalf("component.created events: %+v", evs)
		}

		// Defaults: operational, visible, no group.
		plain := decodeAPI[componentJSON](t, apiCall(t, s, token, http.MethodPost, "/api/v1/components", `{"name":"Website"}`), http.StatusCreated)
		if plain.Status != "operational" || !plain.Visible || plain.GroupID != nil || plain.Description != "" {
			t.Fatalf("defaults: %+v", plain)
		}

		list := decodeAPI[[]componentJSON](t, apiCall(t, s, token, http.MethodGet, "/api/v1/components", ""), http.StatusOK)
		if len(list) != 2 {
			t.Fatalf("list: %+v", list)
		}
		got := decodeAPI[componentJSON](t, apiCall(t, s, token, http.MethodGet, "/api/v1/components/"+comp.ID, ""), http.StatusOK)
		if !reflect.DeepEqual(got, comp) {
			t.Fatalf("GET %+v, want %+v", got, comp)
		}

		// PATCH changes only what is sent.
		n := countRows(t, s).events
		upd := decodeAPI[componentJSON](t, apiCall(t, s, token, http.MethodPatch, "/api/v1/components/"+comp.ID, `{"name":"API v2","visible":false}`), http.StatusOK)
		if upd.Name != "API v2" || upd.Visible || upd.Description != comp.Description || upd.Status != comp.Status || *upd.GroupID != g.ID {
			t.Fatalf("after PATCH name+visible: %+v", upd)
		}
		if types := eventsAfter(t, s, n); len(types) != 0 {
			t.Fatalf("renaming fired %v", types)
		}
		upd = decodeAPI[componentJSON](t, apiCall(t, s, token, http.MethodPatch, "/api/v1/components/"+comp.ID, `{"group_id":null,"description":""}`), http.StatusOK)
		if upd.GroupID != nil || upd.Description != "" || upd.Name != "API v2" {
			t.Fatalf("after PATCH group_id null: %+v", upd)
		}
		upd = decodeAPI[componentJSON](t, apiCall(t, s, token, http.MethodPatch, "/api/v1/components/"+comp.ID, `{"group_id":`+g.ID+`,"status":"major_outage"}`), http.StatusOK)
		if upd.GroupID == nil || *upd.GroupID != g.ID || upd.Status != "major_outage" {
			t.Fatalf("after PATCH group_id as number and status: %+v", upd)
		}
		if types := eventsAfter(t, s, n); len(types) != 1 || types[0] != models.EventComponentStatusChanged {
			t.Fatalf("status change fired %v", types)
		}
		same := decodeAPI[componentJSON](t, apiCall(t, s, token, http.MethodPatch, "/api/v1/components/"+comp.ID, `{}`), http.StatusOK)
		if same.Name != "API v2" || same.Status != "major_outage" {
			t.Fatalf("empty PATCH changed %+v", same)
		}

		g2 := decodeAPI[groupJSON](t, apiCall(t, s, token, http.MethodGet, "/api/v1/groups/"+g.ID, ""), http.StatusOK)
		if len(g2.Components) != 1 || g2.Components[0] != comp.ID {
			t.Fatalf("group components %v, want [%s]", g2.Components, comp.ID)
		}

		n = countRows(t, s).events
		res = apiCall(t, s, token, http.MethodDelete, "/api/v1/components/"+comp.ID, "")
		if res.Status != http.StatusNoContent || res.Body != "" {
			t.Fatalf("DELETE: %d %q", res.Status, res.Body)
		}
		if types := eventsAfter(t, s, n); len(types) != 1 || types[0] != models.EventComponentDeleted {
			t.Fatalf("delete fired %v", types)
		}
		wantAPIError(t, apiCall(t, s, token, http.MethodGet, "/api/v1/components/"+comp.ID, ""), http.StatusNotFound, "not_found", "")
		wantAPIError(t, apiCall(t, s, token, http.MethodDelete, "/api/v1/components/"+comp.ID, ""), http.StatusNotFound, "not_found", "")
	})
}

// The quick status change in the admin and a status PATCH through the API
// write the same event.
func TestAPIComponentStatusMatchesAdminQuickChange(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c, token := apiSetUp(t, s)
		viaUI := addComponent(t, s, "Website", models.StatusOperational)
		viaAPI := addComponent(t, s, "API", models.StatusOperational)

		n := eventCount(t, s)
		res := c.Submit("/admin/components", fmt.Sprintf("/admin/components/%d/status", viaUI), url.Values{"status": {"partial_outage"}})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("quick status change: %d", res.Status)
		}
		if r := apiCall(t, s, token, http.MethodPatch, fmt.Sprintf("/api/v1/components/%d", viaAPI), `{"status":"partial_outage"}`); r.Status != http.StatusOK {
			t.Fatalf("PATCH status: %d %s", r.Status, r.Body)
		}
		evs, err := s.Store.Events(t.Context(), models.EventFilter{})
		modelstest.Fatal(t, err, "events")
		evs = evs[n:]
		if len(evs) != 2 || evs[0].Type != models.EventComponentStatusChanged || evs[1].Type != evs[0].Type {
			t.Fatalf("events %+v, want two component.status_changed", evs)
		}
		var ui, api models.ComponentData
		modelstest.Fatal(t, json.Unmarshal([]byte(evs[0].Data), &ui), "decode UI event")
		modelstest.Fatal(t, json.Unmarshal([]byte(evs[1].Data), &api), "decode API event")
		if ui.ID != viaUI || api.ID != viaAPI || ui.Name != "Website" || api.Name != "API" {
			t.Fatalf("events name the wrong components: %+v %+v", ui, api)
		}
		ui.ID, ui.Name = api.ID, api.Name
		if ui != api {
			t.Fatalf("UI event %+v, API event %+v: want the same data", ui, api)
		}
		// Setting the status it already has changes nothing, as in the UI.
		if r := apiCall(t, s, token, http.MethodPatch, fmt.Sprintf("/api/v1/components/%d", viaAPI), `{"status":"partial_outage"}`); r.Status != http.StatusOK {
			t.Fatalf("PATCH same status: %d", r.Status)
		}
		if got := eventCount(t, s); got != n+2 {
			t.Fatalf("same status fired %d events", got-n-2)
		}
	})
}

func TestAPIComponentsRefuseBadInput(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, token := apiSetUp(t, s)
		existing := decodeAPI[componentJSON](t, apiCall(t, s, token, http.MethodPost, "/api/v1/components", `{"name":"API","description":"kept"}`), http.StatusCreated)
		item := "/api/v1/components/" + existing.ID
		huge := `{"name":"` + strings.Repeat("a", 1<<20) + `"}`
		cases := []struct {
			name        string
			method      string
			path        string
			contentType string
			body        io.Reader
			status      int
			code        string
			field       string
		}{
			{"unknown field", "POST", "/api/v1/components", "application/json", strings.NewReader(`{"name":"x","colour":"red"}`), 400, "unknown_field", "colour"},
			{"read-only field", "PATCH", item, "application/json", strings.NewReader(`{"id":"3"}`), 400, "unknown_field", "id"},
			{"name is a number", "POST", "/api/v1/components", "application/json", strings.NewReader(`{"name":5}`), 400, "invalid_type", "name"},
			{"visible is a string", "PATCH", item, "application/json", strings.NewReader(`{"visible":"yes"}`), 400, "invalid_type", "visible"},
			{"name is null", "PATCH", item, "application/json", strings.NewReader(`{"name":null}`), 400, "invalid_type", "name"},
			{"group id is not an id", "PATCH", item, "application/json", strings.NewReader(`{"group_id":"core"}`), 400, "invalid_type", "group_id"},
			{"group id is negative", "POST", "/api/v1/components", "application/json", strings.NewReader(`{"name":"x","group_id":-1}`), 400, "invalid_type", "group_id"},
			{"body is a list", "POST", "/api/v1/components", "application/json", strings.NewReader(`[{"name":"x"}]`), 400, "invalid_type", ""},
			{"malformed JSON", "POST", "/api/v1/components", "application/json", strings.NewReader(`{"name":`), 400, "invalid_json", ""},
			{"not JSON at all", "PATCH", item, "application/json", strings.NewReader(`name=x`), 400, "invalid_json", ""},
			{"two objects", "POST", "/api/v1/components", "application/json", strings.NewReader(`{"name":"a"}{"name":"b"}`), 400, "invalid_json", ""},
			{"empty body", "POST", "/api/v1/components", "application/json", nil, 400, "invalid_json", ""},
			{"form content type", "POST", "/api/v1/components", "application/x-www-form-urlencoded", strings.NewReader(`name=x`), 415, "unsupported_media_type", ""},
			{"no content type", "PATCH", item, "", strings.NewReader(`{"name":"x"}`), 415, "unsupported_media_type", ""},
			{"body over 1 MiB", "POST", "/api/v1/components", "application/json", strings.NewReader(huge), 413, "body_too_large", ""},
			{"body over 1 MiB, chunked", "PATCH", item, "application/json", io.MultiReader(strings.NewReader(huge)), 413, "body_too_large", ""},
			{"unknown status", "POST", "/api/v1/components", "application/json", strings.NewReader(`{"name":"x","status":"on_fire"}`), 422, "validation_failed", "status"},
			{"unknown status alone", "PATCH", item, "application/json", strings.NewReader(`{"status":"on_fire"}`), 422, "validation_failed", "status"},
			{"empty name", "PATCH", item, "application/json", strings.NewReader(`{"name":"  "}`), 422, "validation_failed", "name"},
			{"missing name", "POST", "/api/v1/components", "application/json", strings.NewReader(`{"status":"operational"}`), 422, "validation_failed", "name"},
			{"group that does not exist", "POST", "/api/v1/components", "application/json", strings.NewReader(`{"name":"x","group_id":"4242"}`), 422, "validation_failed", "group_id"},
			{"id that does not exist", "PATCH", "/api/v1/components/99999", "application/json", strings.NewReader(`{"name":"x"}`), 404, "not_found", ""},
			{"id that is not a number", "PATCH", "/api/v1/components/abc", "application/json", strings.NewReader(`{"name":"x"}`), 404, "not_found", ""},
			{"id too large", "GET", "/api/v1/components/99999999999999999999", "", nil, 404, "not_found", ""},
			{"get missing", "GET", "/api/v1/components/99999", "", nil, 404, "not_found", ""},
			{"get non-numeric", "GET", "/api/v1/components/abc", "", nil, 404, "not_found", ""},
			{"delete missing", "DELETE", "/api/v1/components/99999", "", nil, 404, "not_found", ""},
			{"delete non-numeric", "DELETE", "/api/v1/components/-3", "", nil, 404, "not_found", ""},
			{"path below an item", "GET", item + "/history", "", nil, 404, "not_found", ""},
			{"unknown endpoint", "GET", "/api/v1/widgets", "", nil, 404, "not_found", ""},
			{"wrong method", "PUT", item, "application/json", strings.NewReader(`{"name":"x"}`), 405, "method_not_allowed", ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := countRows(t, s)
				res := apiSend(t, s, token, tc.method, tc.path, tc.contentType, tc.body, nil)
				wantAPIError(t, res, tc.status, tc.code, tc.field)
				if after := countRows(t, s); after != before {
					t.Fatalf("refused request changed rows: %+v → %+v", before, after)
				}
				now := decodeAPI[componentJSON](t, apiCall(t, s, token, http.MethodGet, item, ""), http.StatusOK)
				if !reflect.DeepEqual(now, existing) {
					t.Fatalf("refused request changed the component: %+v", now)
				}
			})
		}

		// Messages name the problem for people.
		res := apiCall(t, s, token, http.MethodPost, "/api/v1/components", `{"name":"x","colour":"red"}`)
		if !strings.Contains(res.Err.Message, "“colour”") || !strings.Contains(res.Err.Message, "name, description, status, group_id, visible") {
			t.Errorf("unknown field message %q", res.Err.Message)
		}
		res = apiCall(t, s, token, http.MethodPost, "/api/v1/components", `{"name":5}`)
		if res.Err.Message != "“name” must be a string, not a number." {
			t.Errorf("type message %q", res.Err.Message)
		}
		res = apiCall(t, s, token, http.MethodPost, "/api/v1/components", `{"name":"x","status":"on_fire"}`)
		if !strings.Contains(res.Err.Message, "operational, degraded_performance") || res.Err.Fields["status"] == "" {
			t.Errorf("status message %q fields %v", res.Err.Message, res.Err.Fields)
		}
		res = apiCall(t, s, token, http.MethodPost, "/api/v1/components", `{"name":"","description":"`+strings.Repeat("d", 501)+`"}`)
		wantAPIError(t, res, 422, "validation_failed", "description")
		if len(res.Err.Fields) != 2 || res.Err.Fields["name"] != "Enter a name." {
			t.Errorf("all invalid fields: %v", res.Err.Fields)
		}
		res = apiSend(t, s, token, http.MethodPut, item, "application/json", strings.NewReader(`{}`), nil)
		if allow := res.Header.Get("Allow"); allow != "GET, PATCH, DELETE" {
			t.Errorf("405 Allow %q", allow)
		}
		// The big body is refused by size, not read to the end.
		big := bytes.NewReader([]byte(huge))
		res = apiSend(t, s, token, http.MethodPost, "/api/v1/groups", "application/json", big, nil)
		wantAPIError(t, res, 413, "body_too_large", "")
	})
}

func TestAPIGroups(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, token := apiSetUp(t, s)
		res := apiCall(t, s, token, http.MethodPost, "/api/v1/groups", `{"name":"Core","collapsed":true}`)
		g := decodeAPI[groupJSON](t, res, http.StatusCreated)
		if res.Location != "/api/v1/groups/"+g.ID || g.Name != "Core" || !g.Collapsed || g.Position != 1 || g.Components == nil ||
			len(g.Components) != 0 || !apiTimeRE.MatchString(g.CreatedAt) {
			t.Fatalf("created %+v at %q (body %s)", g, res.Location, res.Body)
		}
		second := decodeAPI[groupJSON](t, apiCall(t, s, token, http.MethodPost, "/api/v1/groups", `{"name":"Edge"}`), http.StatusCreated)
		if second.Position != 2 || second.Collapsed {
			t.Fatalf("second group %+v", second)
		}
		comp := decodeAPI[componentJSON](t, apiCall(t, s, token, http.MethodPost, "/api/v1/components", `{"name":"API","group_id":"`+g.ID+`"}`), http.StatusCreated)

		list := decodeAPI[[]groupJSON](t, apiCall(t, s, token, http.MethodGet, "/api/v1/groups", ""), http.StatusOK)
		if len(list) != 2 || list[0].ID != g.ID || len(list[0].Components) != 1 || list[0].Components[0] != comp.ID {
			t.Fatalf("list %+v", list)
		}
		upd := decodeAPI[groupJSON](t, apiCall(t, s, token, http.MethodPatch, "/api/v1/groups/"+g.ID, `{"collapsed":false}`), http.StatusOK)
		if upd.Name != "Core" || upd.Collapsed || len(upd.Components) != 1 {
			t.Fatalf("after PATCH collapsed: %+v", upd)
		}
		upd = decodeAPI[groupJSON](t, apiCall(t, s, token, http.MethodPatch, "/api/v1/groups/"+g.ID, `{"name":"Core services"}`), http.StatusOK)
		if upd.Name != "Core services" || upd.Collapsed {
			t.Fatalf("after PATCH name: %+v", upd)
		}

		bad := []struct {
			name, method, path, body string
			status                   int
			code, field              string
		}{
			{"unknown field", "POST", "/api/v1/groups", `{"name":"x","components":["1"]}`, 400, "unknown_field", "components"},
			{"collapsed is a string", "PATCH", "/api/v1/groups/" + g.ID, `{"collapsed":"yes"}`, 400, "invalid_type", "collapsed"},
			{"name is null", "PATCH", "/api/v1/groups/" + g.ID, `{"name":null}`, 400, "invalid_type", "name"},
			{"malformed", "POST", "/api/v1/groups", `{"name"`, 400, "invalid_json", ""},
			{"missing name", "POST", "/api/v1/groups", `{}`, 422, "validation_failed", "name"},
			{"long name", "PATCH", "/api/v1/groups/" + g.ID, `{"name":"` + strings.Repeat("n", 101) + `"}`, 422, "validation_failed", "name"},
			{"missing group", "PATCH", "/api/v1/groups/99999", `{"name":"x"}`, 404, "not_found", ""},
			{"non-numeric id", "GET", "/api/v1/groups/core", "", 404, "not_found", ""},
			{"delete missing", "DELETE", "/api/v1/groups/99999", "", 404, "not_found", ""},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				before := countRows(t, s)
				wantAPIError(t, apiCall(t, s, token, tc.method, tc.path, tc.body), tc.status, tc.code, tc.field)
				if after := countRows(t, s); after != before {
					t.Fatalf("refused request changed rows: %+v → %+v", before, after)
				}
			})
		}
		if now := decodeAPI[groupJSON](t, apiCall(t, s, token, http.MethodGet, "/api/v1/groups/"+g.ID, ""), http.StatusOK); now.Name != "Core services" || now.Collapsed {
			t.Fatalf("refused requests changed the group: %+v", now)
		}

		res = apiCall(t, s, token, http.MethodDelete, "/api/v1/groups/"+g.ID, "")
		if res.Status != http.StatusNoContent {
			t.Fatalf("DELETE: %d", res.Status)
		}
		wantAPIError(t, apiCall(t, s, token, http.MethodGet, "/api/v1/groups/"+g.ID, ""), http.StatusNotFound, "not_found", "")
		left := decodeAPI[componentJSON](t, apiCall(t, s, token, http.MethodGet, "/api/v1/components/"+comp.ID, ""), http.StatusOK)
		if left.GroupID != nil {
			t.Fatalf("component of a deleted group: %+v, want ungrouped", left)
		}
	})
}
