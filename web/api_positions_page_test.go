package web_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/web/webtest"
)

// badBody is a request the API must refuse without writing anything.
type badBody struct {
	name, method, path, body string
	status                   int
	code, field              string
}

// wantRefusedUnchanged sends each bad request and checks the error, that
// no row was written, and that read() still answers the same.
func wantRefusedUnchanged[T any](t *testing.T, s *webtest.Server, token string, cases []badBody, read func() T) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, state := countRows(t, s), read()
			wantAPIError(t, apiCall(t, s, token, tc.method, tc.path, tc.body), tc.status, tc.code, tc.field)
			if after := countRows(t, s); after != before {
				t.Fatalf("refused request changed rows: %+v → %+v", before, after)
			}
			if now := read(); !reflect.DeepEqual(now, state) {
				t.Fatalf("refused request changed\n%+v\ninto\n%+v", state, now)
			}
		})
	}
}

func TestAPIComponentsAndGroupsAcceptStatuspageWrapper(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, token := apiSetUp(t, s)
		res := apiCall(t, s, token, http.MethodPost, "/api/v1/groups", `{"group": {"name": "Core", "collapsed": true}}`)
		g := decodeAPI[groupJSON](t, res, http.StatusCreated)
		if g.Name != "Core" || !g.Collapsed {
			t.Fatalf("wrapped group create: %+v", g)
		}
		g = decodeAPI[groupJSON](t, apiCall(t, s, token, http.MethodPatch, "/api/v1/groups/"+g.ID, `{"group": {"name": "Core services"}}`), http.StatusOK)
		if g.Name != "Core services" || !g.Collapsed {
			t.Fatalf("wrapped group PATCH: %+v", g)
		}
		comp := decodeAPI[componentJSON](t, apiCall(t, s, token, http.MethodPost, "/api/v1/components",
			`{"component": {"name": "API", "description": "REST", "status": "major_outage", "group_id": "`+g.ID+`", "visible": false}}`), http.StatusCreated)
		if comp.Name != "API" || comp.Description != "REST" || comp.Status != "major_outage" || comp.Visible || comp.GroupID == nil || *comp.GroupID != g.ID {
			t.Fatalf("wrapped component create: %+v", comp)
		}
		// A status alone, wrapped, is the quick status change.
		n := countRows(t, s).events
		comp = decodeAPI[componentJSON](t, apiCall(t, s, token, http.MethodPatch, "/api/v1/components/"+comp.ID, `{"component": {"status": "operational"}}`), http.StatusOK)
		if comp.Status != "operational" || comp.Name != "API" || comp.Visible {
			t.Fatalf("wrapped status PATCH: %+v", comp)
		}
		if types := eventsAfter(t, s, n); len(types) != 1 || types[0] != models.EventComponentStatusChanged {
			t.Fatalf("wrapped status change fired %v", types)
		}
		comp = decodeAPI[componentJSON](t, apiCall(t, s, token, http.MethodPatch, "/api/v1/components/"+comp.ID, `{"component": {"name": "API v2", "group_id": null}}`), http.StatusOK)
		if comp.Name != "API v2" || comp.GroupID != nil {
			t.Fatalf("wrapped PATCH: %+v", comp)
		}

		item, gitem := "/api/v1/components/"+comp.ID, "/api/v1/groups/"+g.ID
		read := func() [2]string {
			return [2]string{apiCall(t, s, token, http.MethodGet, item, "").Body, apiCall(t, s, token, http.MethodGet, gitem, "").Body}
		}
		wantRefusedUnchanged(t, s, token, []badBody{
			{"field beside the wrapper", "POST", "/api/v1/components", `{"component": {"name": "x"}, "status": "operational"}`, 400, "unknown_field", "status"},
			{"wrapper is a string", "POST", "/api/v1/components", `{"component": "x"}`, 400, "invalid_type", "component"},
			{"wrapper is null", "PATCH", item, `{"component": null}`, 400, "invalid_type", "component"},
			{"wrapper is a list", "PATCH", item, `{"component": [{"name": "x"}]}`, 400, "invalid_type", "component"},
			{"unknown field inside", "POST", "/api/v1/components", `{"component": {"name": "x", "colour": "red"}}`, 400, "unknown_field", "colour"},
			{"wrong type inside", "PATCH", item, `{"component": {"visible": "no"}}`, 400, "invalid_type", "visible"},
			{"NUL inside", "POST", "/api/v1/components", `{"component": {"name": "a\u0000b"}}`, 422, "validation_failed", "name"},
			{"NUL inside, PATCH", "PATCH", item, `{"component": {"description": "\u0000"}}`, 422, "validation_failed", "description"},
			{"other resource's wrapper", "POST", "/api/v1/components", `{"group": {"name": "x"}}`, 400, "unknown_field", "group"},
			{"group wrapper with a sibling", "POST", "/api/v1/groups", `{"group": {"name": "x"}, "name": "y"}`, 400, "unknown_field", "name"},
			{"group wrapper is a number", "PATCH", gitem, `{"group": 5}`, 400, "invalid_type", "group"},
			{"unknown field inside the group", "PATCH", gitem, `{"group": {"components": ["1"]}}`, 400, "unknown_field", "components"},
			{"NUL in a group name", "POST", "/api/v1/groups", `{"group": {"name": "\u0000"}}`, 422, "validation_failed", "name"},
			{"component wrapper on groups", "POST", "/api/v1/groups", `{"component": {"name": "x"}}`, 400, "unknown_field", "component"},
		}, read)
	})
}

// order lists component (or group) names in the API's order, by position.
func componentOrderOf(t *testing.T, s *webtest.Server, token string, groupID *string) []string {
	t.Helper()
	var out []string
	for _, c := range decodeAPI[[]componentJSON](t, apiCall(t, s, token, http.MethodGet, "/api/v1/components", ""), http.StatusOK) {
		if (c.GroupID == nil) == (groupID == nil) && (groupID == nil || *c.GroupID == *groupID) {
			if len(out) != c.Position-1 {
				t.Fatalf("%s at position %d after %v (%s)", c.Name, c.Position, out, apiCall(t, s, token, http.MethodGet, "/api/v1/components", "").Body)
			}
			out = append(out, c.Name)
		}
	}
	return out
}

func groupOrderOf(t *testing.T, s *webtest.Server, token string) []string {
	t.Helper()
	var out []string
	for i, g := range decodeAPI[[]groupJSON](t, apiCall(t, s, token, http.MethodGet, "/api/v1/groups", ""), http.StatusOK) {
		if g.Position != i+1 {
			t.Fatalf("group %s at position %d, listed %d", g.Name, g.Position, i+1)
		}
		out = append(out, g.Name)
	}
	return out
}

func TestAPIPositions(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, token := apiSetUp(t, s)
		ids := map[string]string{}
		for _, name := range []string{"A", "B", "C"} {
			ids[name] = decodeAPI[componentJSON](t, apiCall(t, s, token, http.MethodPost, "/api/v1/components", `{"name":"`+name+`"}`), http.StatusCreated).ID
		}
		want := func(got []string, want ...string) {
			t.Helper()
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("order %v, want %v", got, want)
			}
		}
		c := decodeAPI[componentJSON](t, apiCall(t, s, token, http.MethodPatch, "/api/v1/components/"+ids["C"], `{"position": 1}`), http.StatusOK)
		if c.Position != 1 || c.Name != "C" {
			t.Fatalf("after moving C first: %+v", c)
		}
		want(componentOrderOf(t, s, token, nil), "C", "A", "B")
		decodeAPI[componentJSON](t, apiCall(t, s, token, http.MethodPatch, "/api/v1/components/"+ids["C"], `{"component": {"position": 3}}`), http.StatusOK)
		want(componentOrderOf(t, s, token, nil), "A", "B", "C")
		// Created at a place: the others make room.
		d := decodeAPI[componentJSON](t, apiCall(t, s, token, http.MethodPost, "/api/v1/components", `{"name":"D","position":2}`), http.StatusCreated)
		if d.Position != 2 {
			t.Fatalf("created at 2: %+v", d)
		}
		want(componentOrderOf(t, s, token, nil), "A", "D", "B", "C")
		// Created last by default; position n+1 is last too.
		e := decodeAPI[componentJSON](t, apiCall(t, s, token, http.MethodPost, "/api/v1/components", `{"name":"E","position":5}`), http.StatusCreated)
		ids["D"], ids["E"] = d.ID, e.ID
		want(componentOrderOf(t, s, token, nil), "A", "D", "B", "C", "E")

		// Moving to a group at a place; the positions are the group's.
		g1 := decodeAPI[groupJSON](t, apiCall(t, s, token, http.MethodPost, "/api/v1/groups", `{"name":"G1"}`), http.StatusCreated)
		decodeAPI[componentJSON](t, apiCall(t, s, token, http.MethodPatch, "/api/v1/components/"+ids["A"], `{"group_id":"`+g1.ID+`"}`), http.StatusOK)
		decodeAPI[componentJSON](t, apiCall(t, s, token, http.MethodPatch, "/api/v1/components/"+ids["B"], `{"group_id":"`+g1.ID+`","position":1,"name":"B2"}`), http.StatusOK)
		want(componentOrderOf(t, s, token, &g1.ID), "B2", "A")
		want(componentOrderOf(t, s, token, nil), "D", "C", "E")

		// Groups.
		g2 := decodeAPI[groupJSON](t, apiCall(t, s, token, http.MethodPost, "/api/v1/groups", `{"group":{"name":"G2"}}`), http.StatusCreated)
		g0 := decodeAPI[groupJSON](t, apiCall(t, s, token, http.MethodPost, "/api/v1/groups", `{"name":"G0","position":1}`), http.StatusCreated)
		if g0.Position != 1 {
			t.Fatalf("group created first: %+v", g0)
		}
		want(groupOrderOf(t, s, token), "G0", "G1", "G2")
		moved := decodeAPI[groupJSON](t, apiCall(t, s, token, http.MethodPatch, "/api/v1/groups/"+g2.ID, `{"position":2}`), http.StatusOK)
		if moved.Position != 2 || moved.Name != "G2" {
			t.Fatalf("moved group: %+v", moved)
		}
		want(groupOrderOf(t, s, token), "G0", "G2", "G1")

		// The moves are in the audit log.
		moves, err := s.Store.AuditEntries(t.Context(), models.AuditFilter{PageID: models.DefaultPageID, Action: "component.move"})
		if err != nil || len(moves) < 3 {
			t.Fatalf("component.move audit entries: %v %v", moves, err)
		}
		if gm, err := s.Store.AuditEntries(t.Context(), models.AuditFilter{PageID: models.DefaultPageID, Action: "group.move", ObjectID: g2.ID}); err != nil || len(gm) != 1 ||
			!strings.Contains(gm[0].Before, `"position":3`) || !strings.Contains(gm[0].After, `"position":2`) {
			t.Fatalf("group.move audit entry: %+v %v", gm, err)
		}

		item, gitem := "/api/v1/components/"+ids["C"], "/api/v1/groups/"+g1.ID
		read := func() [2][]string {
			return [2][]string{componentOrderOf(t, s, token, nil), groupOrderOf(t, s, token)}
		}
		wantRefusedUnchanged(t, s, token, []badBody{
			{"position 0", "PATCH", item, `{"position":0}`, 422, "validation_failed", "position"},
			{"position negative", "PATCH", item, `{"position":-1}`, 422, "validation_failed", "position"},
			{"position past the end", "PATCH", item, `{"position":4}`, 422, "validation_failed", "position"},
			{"position past the end, with a rename", "PATCH", item, `{"name":"renamed","position":4}`, 422, "validation_failed", "position"},
			{"position past the end of the new group", "PATCH", item, `{"group_id":"` + g1.ID + `","position":4}`, 422, "validation_failed", "position"},
			{"position past the end, new component", "POST", "/api/v1/components", `{"name":"F","position":5}`, 422, "validation_failed", "position"},
			{"position huge", "PATCH", item, `{"position":9223372036854775807}`, 422, "validation_failed", "position"},
			{"position beyond int64", "PATCH", item, `{"position":99999999999999999999}`, 400, "invalid_type", "position"},
			{"position a string", "PATCH", item, `{"position":"1"}`, 400, "invalid_type", "position"},
			{"position a fraction", "POST", "/api/v1/components", `{"name":"F","position":1.5}`, 400, "invalid_type", "position"},
			{"position null", "PATCH", item, `{"component":{"position":null}}`, 400, "invalid_type", "position"},
			{"position true", "PATCH", item, `{"position":true}`, 400, "invalid_type", "position"},
			{"group position 0", "PATCH", gitem, `{"position":0}`, 422, "validation_failed", "position"},
			{"group position past the end", "PATCH", gitem, `{"group":{"position":4,"name":"x"}}`, 422, "validation_failed", "position"},
			{"new group past the end", "POST", "/api/v1/groups", `{"name":"G9","position":5}`, 422, "validation_failed", "position"},
			{"group position a string", "PATCH", gitem, `{"position":"2"}`, 400, "invalid_type", "position"},
			{"group position and a NUL", "PATCH", gitem, `{"name":"a\u0000","position":1}`, 422, "validation_failed", "name"},
		}, read)
		res := apiCall(t, s, token, http.MethodPatch, item, `{"position":4}`)
		if res.Err.Message != "Use a position from 1 to 3." {
			t.Errorf("out-of-range message %q", res.Err.Message)
		}

		// Deleting leaves no gap: the positions stay 1..n, so the next
		// move means what it says.
		if res := apiCall(t, s, token, http.MethodDelete, "/api/v1/components/"+ids["D"], ""); res.Status != http.StatusNoContent {
			t.Fatalf("DELETE D: %d", res.Status)
		}
		want(componentOrderOf(t, s, token, nil), "C", "E")
		if res := apiCall(t, s, token, http.MethodDelete, "/api/v1/groups/"+g0.ID, ""); res.Status != http.StatusNoContent {
			t.Fatalf("DELETE G0: %d", res.Status)
		}
		want(groupOrderOf(t, s, token), "G2", "G1")
		if res := apiCall(t, s, token, http.MethodDelete, "/api/v1/groups/"+g1.ID, ""); res.Status != http.StatusNoContent {
			t.Fatalf("DELETE G1: %d", res.Status)
		}
		if got := componentOrderOf(t, s, token, nil); len(got) != 4 {
			t.Fatalf("ungrouped after deleting G1: %v", got)
		}
		decodeAPI[componentJSON](t, apiCall(t, s, token, http.MethodPatch, "/api/v1/components/"+ids["E"], `{"position":1}`), http.StatusOK)
		if got := componentOrderOf(t, s, token, nil); got[0] != "E" {
			t.Fatalf("E moved first: %v", got)
		}
	})
}

type pageJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	LogoURL     string `json:"logo_url"`
	AccentColor string `json:"accent_color"`
	TimeZone    string `json:"time_zone"`
	URL         string `json:"url"`
	CreatedAt   string `json:"created_at"`
	UpdatedAt   string `json:"updated_at"`
}

func TestAPIPageSettings(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		_, reader := createToken(t, c, "Reader", models.ScopeRead)
		_, components := createToken(t, c, "Components", models.ScopeComponentsWrite)
		_, writer := createToken(t, c, "Page bot", models.ScopePageWrite)

		page := decodeAPI[pageJSON](t, apiCall(t, s, reader, http.MethodGet, "/api/v1/page", ""), http.StatusOK)
		if page.ID != "1" || page.Name == "" || page.AccentColor != "blue" || page.TimeZone == "" || !strings.HasPrefix(page.URL, "http") ||
			!apiTimeRE.MatchString(page.UpdatedAt) {
			t.Fatalf("GET /page: %+v", page)
		}
		if got := decodeAPI[pageJSON](t, apiCall(t, s, writer, http.MethodGet, "/api/v1/page", ""), http.StatusOK); got != page {
			t.Fatalf("page:write reads %+v, want %+v", got, page)
		}
		wantAPIError(t, apiCall(t, s, reader, http.MethodPatch, "/api/v1/page", `{"name":"x"}`), 403, "forbidden", "")
		wantAPIError(t, apiCall(t, s, components, http.MethodPatch, "/api/v1/page", `{"name":"x"}`), 403, "forbidden", "")
		wantAPIError(t, apiCall(t, s, "", http.MethodGet, "/api/v1/page", ""), 401, "unauthorized", "")

		audits := countRows(t, s).audit
		upd := decodeAPI[pageJSON](t, apiCall(t, s, writer, http.MethodPatch, "/api/v1/page",
			`{"page": {"name": " Acme Cloud ", "description": "Everything Acme runs.", "logo_url": "https://cdn.example.com/logo.svg",
			  "accent_color": "Purple", "time_zone": "Europe/Paris"}}`), http.StatusOK)
		if upd.Name != "Acme Cloud" || upd.Description != "Everything Acme runs." || upd.LogoURL != "https://cdn.example.com/logo.svg" ||
			upd.AccentColor != "purple" || upd.TimeZone != "Europe/Paris" || upd.CreatedAt != page.CreatedAt {
			t.Fatalf("after PATCH: %+v", upd)
		}
		entries, err := s.Store.AuditEntries(t.Context(), models.AuditFilter{PageID: models.DefaultPageID, Action: "page.update"})
		if err != nil || len(entries) == 0 || entries[0].ActorName != "Page bot" || !strings.Contains(entries[0].After, `"time_zone":"Europe/Paris"`) || countRows(t, s).audit != audits+1 {
			t.Fatalf("audit of the PATCH: %+v %v", entries, err)
		}
		// Bare fields; only those sent change; "" removes the logo.
		upd = decodeAPI[pageJSON](t, apiCall(t, s, writer, http.MethodPatch, "/api/v1/page", `{"logo_url": "", "time_zone": "UTC"}`), http.StatusOK)
		if upd.LogoURL != "" || upd.TimeZone != "UTC" || upd.Name != "Acme Cloud" || upd.AccentColor != "purple" {
			t.Fatalf("after bare PATCH: %+v", upd)
		}
		if got := decodeAPI[pageJSON](t, apiCall(t, s, reader, http.MethodGet, "/api/v1/page", ""), http.StatusOK); got != upd {
			t.Fatalf("GET after PATCH %+v, want %+v", got, upd)
		}
		// The public page follows.
		deadline := time.Now().Add(10 * time.Second)
		for {
			var sum struct {
				Page struct {
					Name string `json:"name"`
				} `json:"page"`
			}
			res := s.NewClient(t).Get("/api/v2/status.json")
			if err := json.Unmarshal([]byte(res.Body), &sum); err == nil && sum.Page.Name == "Acme Cloud" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("public status.json still shows %q: %s", sum.Page.Name, res.Body)
			}
			time.Sleep(50 * time.Millisecond)
		}

		read := func() pageJSON {
			return decodeAPI[pageJSON](t, apiCall(t, s, reader, http.MethodGet, "/api/v1/page", ""), http.StatusOK)
		}
		wantRefusedUnchanged(t, s, writer, []badBody{
			{"unknown field", "PATCH", "/api/v1/page", `{"name":"x","domain":"status.example.com"}`, 400, "unknown_field", "domain"},
			{"unknown field inside", "PATCH", "/api/v1/page", `{"page":{"colour":"red"}}`, 400, "unknown_field", "colour"},
			{"read-only field", "PATCH", "/api/v1/page", `{"id":"2"}`, 400, "unknown_field", "id"},
			{"field beside the wrapper", "PATCH", "/api/v1/page", `{"page":{"name":"x"},"time_zone":"UTC"}`, 400, "unknown_field", "time_zone"},
			{"wrapper is a string", "PATCH", "/api/v1/page", `{"page":"x"}`, 400, "invalid_type", "page"},
			{"name is a number", "PATCH", "/api/v1/page", `{"name":5}`, 400, "invalid_type", "name"},
			{"name is null", "PATCH", "/api/v1/page", `{"page":{"name":null}}`, 400, "invalid_type", "name"},
			{"accent is a list", "PATCH", "/api/v1/page", `{"accent_color":["blue"]}`, 400, "invalid_type", "accent_color"},
			{"body is a list", "PATCH", "/api/v1/page", `[{"name":"x"}]`, 400, "invalid_type", ""},
			{"malformed", "PATCH", "/api/v1/page", `{"name":`, 400, "invalid_json", ""},
			{"NUL in the name", "PATCH", "/api/v1/page", `{"name":"Acme\u0000"}`, 422, "validation_failed", "name"},
			{"NUL in the description", "PATCH", "/api/v1/page", `{"page":{"description":"a\u0000b"}}`, 422, "validation_failed", "description"},
			{"empty name", "PATCH", "/api/v1/page", `{"name":"  "}`, 422, "validation_failed", "name"},
			{"long description", "PATCH", "/api/v1/page", `{"description":"` + strings.Repeat("d", 501) + `"}`, 422, "validation_failed", "description"},
			{"http logo", "PATCH", "/api/v1/page", `{"logo_url":"http://cdn.example.com/logo.svg"}`, 422, "validation_failed", "logo_url"},
			{"unknown accent", "PATCH", "/api/v1/page", `{"accent_color":"#ff0000"}`, 422, "validation_failed", "accent_color"},
			{"unknown time zone", "PATCH", "/api/v1/page", `{"time_zone":"Mars/Olympus"}`, 422, "validation_failed", "time_zone"},
			{"Local time zone", "PATCH", "/api/v1/page", `{"time_zone":"Local"}`, 422, "validation_failed", "time_zone"},
			{"good name, bad zone", "PATCH", "/api/v1/page", `{"name":"New","time_zone":"nowhere"}`, 422, "validation_failed", "time_zone"},
			{"wrong method", "POST", "/api/v1/page", `{"name":"x"}`, 405, "method_not_allowed", ""},
		}, read)
		res := apiCall(t, s, writer, http.MethodPatch, "/api/v1/page", `{"accent_color":"magenta"}`)
		if !strings.Contains(res.Err.Message, "blue, purple") {
			t.Errorf("accent message %q", res.Err.Message)
		}
		// An empty object changes nothing and writes no audit entry.
		before := countRows(t, s)
		if got := decodeAPI[pageJSON](t, apiCall(t, s, writer, http.MethodPatch, "/api/v1/page", `{}`), http.StatusOK); got != read() {
			t.Fatalf("empty PATCH answered %+v", got)
		}
		if after := countRows(t, s); after != before {
			t.Fatalf("empty PATCH wrote rows: %+v → %+v", before, after)
		}
	})
}
