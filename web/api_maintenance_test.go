package web_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

type maintenanceAPIJSON struct {
	ID                               string   `json:"id"`
	PageID                           string   `json:"page_id"`
	Name                             string   `json:"name"`
	Body                             string   `json:"body"`
	Status                           string   `json:"status"`
	ScheduledFor                     string   `json:"scheduled_for"`
	ScheduledUntil                   string   `json:"scheduled_until"`
	AutoTransitionToMaintenanceState bool     `json:"auto_transition_to_maintenance_state"`
	Components                       []string `json:"components"`
	StartedAt                        *string  `json:"started_at"`
	CompletedAt                      *string  `json:"completed_at"`
	Shortlink                        string   `json:"shortlink"`
	CreatedAt                        string   `json:"created_at"`
	UpdatedAt                        string   `json:"updated_at"`
}

// maintenanceTokens signs in and makes a token that writes maintenance,
// one that only reads and one with another write scope.
func maintenanceTokens(t *testing.T, s *webtest.Server) (c *webtest.Client, writer, reader, other string) {
	t.Helper()
	c = s.SetUp(t)
	_, writer = createToken(t, c, "Deploys", models.ScopeMaintenanceWrite)
	_, reader = createToken(t, c, "Dashboard", models.ScopeRead)
	_, other = createToken(t, c, "Alerting", models.ScopeIncidentsWrite)
	return c, writer, reader, other
}

// planMaintenance schedules a window straight in the store, starting at
// start for an hour; with a start in the past it is put in progress.
func planMaintenance(t *testing.T, s *webtest.Server, pageID int64, title string, start time.Time, comps ...int64) int64 {
	t.Helper()
	m, err := s.Store.ScheduleMaintenance(t.Context(), pageID, models.MaintenanceInput{Title: title, Message: "Planned.",
		ComponentIDs: comps, WindowStart: start, WindowEnd: start.Add(time.Hour), SetMaintenance: true})
	modelstest.Fatal(t, err, "schedule %s", title)
	if !start.After(time.Now()) {
		_, err := s.Store.RunMaintenanceTransitions(t.Context())
		modelstest.Fatal(t, err, "start %s", title)
	}
	return m.ID
}

func apiTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func TestAPIScheduleMaintenance(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, writer, reader, other := maintenanceTokens(t, s)
		db := addComponent(t, s, "Database", models.StatusOperational)
		api := addComponent(t, s, "API", models.StatusOperational)
		start := time.Now().UTC().Add(2 * time.Hour).Truncate(time.Second)
		end := start.Add(2 * time.Hour)

		before := eventCount(t, s)
		res := apiCall(t, s, writer, http.MethodPost, "/api/v1/maintenance", fmt.Sprintf(`{"scheduled_maintenance":{
			"name":" Database upgrade ","body":"Read-only for a while.","scheduled_for":"%s","scheduled_until":"%s",
			"components":["%d",%d,"%d"],"auto_transition_to_maintenance_state":true}}`,
			start.Format(time.RFC3339), end.In(time.FixedZone("PDT", -7*3600)).Format(time.RFC3339), api, db, api))
		m := decodeAPI[maintenanceAPIJSON](t, res, http.StatusCreated)
		if res.Location != "/api/v1/maintenance/"+m.ID || m.Name != "Database upgrade" || m.Body != "Read-only for a while." ||
			m.Status != "scheduled" || m.ScheduledFor != apiTime(start) || m.ScheduledUntil != apiTime(end) ||
			!m.AutoTransitionToMaintenanceState || !slices.Equal(m.Components, []string{itoa(db), itoa(api)}) ||
			m.StartedAt != nil || m.CompletedAt != nil || m.PageID != "1" || !strings.HasSuffix(m.Shortlink, "/maintenance/"+m.ID) ||
			!apiTimeRE.MatchString(m.CreatedAt) {
			t.Fatalf("scheduled %+v at %q", m, res.Location)
		}
		if evs := eventsAfter(t, s, before); len(evs) != 1 || evs[0] != models.EventMaintenanceScheduled {
			t.Fatalf("events %v, want maintenance.scheduled", evs)
		}

		// Bare fields; left out: no components, no automatic status.
		bare := decodeAPI[maintenanceAPIJSON](t, apiCall(t, s, writer, http.MethodPost, "/api/v1/maintenance", fmt.Sprintf(
			`{"name":"Reboot","scheduled_for":"%s","scheduled_until":"%s","deliver_notifications":true}`,
			start.Format(time.RFC3339), end.Format(time.RFC3339))), http.StatusCreated)
		if bare.AutoTransitionToMaintenanceState || len(bare.Components) != 0 || bare.Body != "" {
			t.Fatalf("defaults %+v", bare)
		}

		elsewhere, err := s.Store.CreateComponent(t.Context(), otherPage(t, s), models.ComponentInput{Name: "Theirs", Status: models.StatusOperational})
		modelstest.Fatal(t, err, "component of page 2")
		window := func(extra string) string {
			return fmt.Sprintf(`{"scheduled_maintenance":{"name":"x","scheduled_for":"%s","scheduled_until":"%s"%s}}`,
				start.Format(time.RFC3339), end.Format(time.RFC3339), extra)
		}
		const path = "/api/v1/maintenance"
		wantRefused(t, s, []refusedCall{
			{"malformed JSON", writer, "POST", path, `{"scheduled_maintenance":`, "", 400, "invalid_json", ""},
			{"not JSON", writer, "POST", path, `name=x`, "", 400, "invalid_json", ""},
			{"no content type", writer, "POST", path, window(""), "none", 415, "unsupported_media_type", ""},
			{"unknown field", writer, "POST", path, window(`,"scheduled_remind_prior":true`), "", 400, "unknown_field", "scheduled_remind_prior"},
			{"field beside the wrapper", writer, "POST", path, `{"scheduled_maintenance":{},"name":"x"}`, "", 400, "unknown_field", "name"},
			{"wrapper is a list", writer, "POST", path, `{"scheduled_maintenance":[]}`, "", 400, "invalid_type", "scheduled_maintenance"},
			{"name is a number", writer, "POST", path, `{"name":1}`, "", 400, "invalid_type", "name"},
			{"components is a map", writer, "POST", path, window(fmt.Sprintf(`,"components":{"%d":"under_maintenance"}`, db)), "", 400, "invalid_type", "components"},
			{"component id is not an id", writer, "POST", path, window(`,"components":["db"]`), "", 400, "invalid_type", "components"},
			{"flag is a string", writer, "POST", path, window(`,"auto_transition_to_maintenance_state":"yes"`), "", 400, "invalid_type", "auto_transition_to_maintenance_state"},
			{"scheduled_for is a number", writer, "POST", path, `{"name":"x","scheduled_for":1700000000}`, "", 400, "invalid_type", "scheduled_for"},
			{"missing name", writer, "POST", path, fmt.Sprintf(`{"scheduled_for":"%s","scheduled_until":"%s"}`, start.Format(time.RFC3339), end.Format(time.RFC3339)), "", 422, "validation_failed", "name"},
			{"missing scheduled_for", writer, "POST", path, fmt.Sprintf(`{"name":"x","scheduled_until":"%s"}`, end.Format(time.RFC3339)), "", 422, "validation_failed", "scheduled_for"},
			{"missing scheduled_until", writer, "POST", path, fmt.Sprintf(`{"name":"x","scheduled_for":"%s"}`, start.Format(time.RFC3339)), "", 422, "validation_failed", "scheduled_until"},
			{"not RFC 3339", writer, "POST", path, fmt.Sprintf(`{"name":"x","scheduled_for":"tomorrow 9am","scheduled_until":"%s"}`, end.Format(time.RFC3339)), "", 422, "validation_failed", "scheduled_for"},
			{"ends before it starts", writer, "POST", path, fmt.Sprintf(`{"name":"x","scheduled_for":"%s","scheduled_until":"%s"}`, end.Format(time.RFC3339), start.Format(time.RFC3339)), "", 422, "validation_failed", "scheduled_until"},
			{"already over", writer, "POST", path, fmt.Sprintf(`{"name":"x","scheduled_for":"%s","scheduled_until":"%s"}`, start.Add(-48*time.Hour).Format(time.RFC3339), start.Add(-47*time.Hour).Format(time.RFC3339)), "", 422, "validation_failed", "scheduled_until"},
			{"component that does not exist", writer, "POST", path, window(`,"components":["99999"]`), "", 422, "validation_failed", "components"},
			{"component of another page", writer, "POST", path, window(fmt.Sprintf(`,"components":[%d]`, elsewhere.ID)), "", 422, "validation_failed", "components"},
			{"no token", "", "POST", path, window(""), "", 401, "unauthorized", ""},
			{"read-only token", reader, "POST", path, window(""), "", 403, "forbidden", ""},
			{"incidents token", other, "POST", path, window(""), "", 403, "forbidden", ""},
		})
		res = apiCall(t, s, writer, http.MethodPost, path, `{}`)
		if len(res.Err.Fields) != 3 || !strings.Contains(res.Err.Fields["scheduled_for"], "RFC 3339") {
			t.Errorf("fields of an empty body: %v", res.Err.Fields)
		}
	})
}

func TestAPIShowAndListMaintenance(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, _, reader, _ := maintenanceTokens(t, s)
		db := addComponent(t, s, "Database", models.StatusOperational)
		now := time.Now().UTC().Truncate(time.Second)
		var scheduled []string
		for i := range 12 {
			scheduled = append(scheduled, itoa(planMaintenance(t, s, models.DefaultPageID, fmt.Sprintf("Window %02d", i), now.Add(time.Duration(i+1)*time.Hour))))
		}
		running := planMaintenance(t, s, models.DefaultPageID, "Running", now.Add(-time.Minute), db)
		cancelled := planMaintenance(t, s, models.DefaultPageID, "Called off", now.Add(time.Hour))
		modelstest.Fatal(t, s.Store.CancelMaintenance(t.Context(), cancelled), "cancel")
		theirs := planMaintenance(t, s, otherPage(t, s), "Not yours", now.Add(time.Hour))

		m := decodeAPI[maintenanceAPIJSON](t, apiCall(t, s, reader, http.MethodGet, "/api/v1/maintenance/"+itoa(running), ""), http.StatusOK)
		if m.Status != "in_progress" || m.StartedAt == nil || !slices.Equal(m.Components, []string{itoa(db)}) {
			t.Fatalf("window in progress: %+v", m)
		}

		// Scheduled windows soonest first, walked five at a time.
		var got []string
		next, pages := "/api/v1/maintenance?status=scheduled&per_page=5", 0
		for next != "" && pages < 10 {
			res := apiCall(t, s, reader, http.MethodGet, next, "")
			for _, m := range decodeAPI[[]maintenanceAPIJSON](t, res, http.StatusOK) {
				got = append(got, m.ID)
			}
			if res.Header.Get("X-Total-Count") != "12" || !strings.Contains(res.Header.Get("Link"), "status=scheduled") {
				t.Fatalf("%s: total %q links %q", next, res.Header.Get("X-Total-Count"), res.Header.Get("Link"))
			}
			next = linkRels(t, res.Header.Get("Link"))["next"]
			pages++
		}
		if !slices.Equal(got, scheduled) || pages != 3 {
			t.Fatalf("walked %v in %d pages, want %v in 3", got, pages, scheduled)
		}

		res := apiCall(t, s, reader, http.MethodGet, "/api/v1/maintenance", "")
		all := decodeAPI[[]maintenanceAPIJSON](t, res, http.StatusOK)
		if len(all) != 14 || res.Header.Get("X-Total-Count") != "14" {
			t.Fatalf("all: %d windows, total %q", len(all), res.Header.Get("X-Total-Count"))
		}
		for _, tc := range []struct {
			status string
			want   []string
		}{{"in_progress", []string{itoa(running)}}, {"cancelled", []string{itoa(cancelled)}}, {"completed", nil}} {
			var ids []string
			for _, m := range decodeAPI[[]maintenanceAPIJSON](t, apiCall(t, s, reader, http.MethodGet, "/api/v1/maintenance?status="+tc.status, ""), http.StatusOK) {
				ids = append(ids, m.ID)
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("status=%s: %v, want %v", tc.status, ids, tc.want)
			}
		}

		wantRefused(t, s, []refusedCall{
			{"unknown status", reader, "GET", "/api/v1/maintenance?status=verifying", "", "", 400, "invalid_parameter", "status"},
			{"bad page", reader, "GET", "/api/v1/maintenance?page=-1", "", "", 400, "invalid_parameter", "page"},
			{"bad per_page", reader, "GET", "/api/v1/maintenance?per_page=1000", "", "", 400, "invalid_parameter", "per_page"},
			{"unknown parameter", reader, "GET", "/api/v1/maintenance?sort=asc", "", "", 400, "unknown_parameter", "sort"},
			{"list without a token", "", "GET", "/api/v1/maintenance", "", "", 401, "unauthorized", ""},
			{"missing", reader, "GET", "/api/v1/maintenance/99999", "", "", 404, "not_found", ""},
			{"non-numeric id", reader, "GET", "/api/v1/maintenance/next", "", "", 404, "not_found", ""},
			{"another page's", reader, "GET", "/api/v1/maintenance/" + itoa(theirs), "", "", 404, "not_found", ""},
			{"get without a token", "", "GET", "/api/v1/maintenance/" + itoa(running), "", "", 401, "unauthorized", ""},
		})
	})
}

func TestAPIUpdateMaintenance(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, writer, reader, other := maintenanceTokens(t, s)
		db := addComponent(t, s, "Database", models.StatusOperational)
		api := addComponent(t, s, "API", models.StatusOperational)
		start := time.Now().UTC().Add(3 * time.Hour).Truncate(time.Second)
		id := planMaintenance(t, s, models.DefaultPageID, "Upgrade", start, db)
		path := "/api/v1/maintenance/" + itoa(id)

		before := eventCount(t, s)
		m := decodeAPI[maintenanceAPIJSON](t, apiCall(t, s, writer, http.MethodPatch, path, fmt.Sprintf(
			`{"scheduled_maintenance":{"name":"Bigger upgrade","components":[%d,%d]}}`, db, api)), http.StatusOK)
		if m.Name != "Bigger upgrade" || m.Body != "Planned." || m.ScheduledFor != apiTime(start) || !m.AutoTransitionToMaintenanceState ||
			!slices.Equal(m.Components, []string{itoa(db), itoa(api)}) {
			t.Fatalf("after PATCH name+components: %+v", m)
		}
		later := start.Add(time.Hour)
		m = decodeAPI[maintenanceAPIJSON](t, apiCall(t, s, writer, http.MethodPatch, path, fmt.Sprintf(
			`{"scheduled_for":"%s","scheduled_until":"%s","auto_transition_to_maintenance_state":false,"body":"","components":[]}`,
			later.Format(time.RFC3339), later.Add(time.Hour).Format(time.RFC3339))), http.StatusOK)
		if m.ScheduledFor != apiTime(later) || m.AutoTransitionToMaintenanceState || m.Body != "" || len(m.Components) != 0 || m.Name != "Bigger upgrade" {
			t.Fatalf("after PATCH window: %+v", m)
		}
		if same := decodeAPI[maintenanceAPIJSON](t, apiCall(t, s, writer, http.MethodPatch, path, `{}`), http.StatusOK); same.Name != m.Name {
			t.Fatalf("empty PATCH: %+v", same)
		}
		if n := eventCount(t, s); n != before {
			t.Fatalf("editing fired %d events", n-before)
		}

		running := planMaintenance(t, s, models.DefaultPageID, "Running", time.Now().UTC().Add(-time.Minute))
		theirs := planMaintenance(t, s, otherPage(t, s), "Not yours", start)
		wantRefused(t, s, []refusedCall{
			{"in progress", writer, "PATCH", "/api/v1/maintenance/" + itoa(running), `{"name":"x"}`, "", 409, "conflict", ""},
			{"unknown field", writer, "PATCH", path, `{"status":"completed"}`, "", 400, "unknown_field", "status"},
			{"wrong type", writer, "PATCH", path, `{"scheduled_maintenance":{"components":"all"}}`, "", 400, "invalid_type", "components"},
			{"malformed JSON", writer, "PATCH", path, `{`, "", 400, "invalid_json", ""},
			{"blank name", writer, "PATCH", path, `{"name":" "}`, "", 422, "validation_failed", "name"},
			{"bad time", writer, "PATCH", path, `{"scheduled_until":"2030-13-01T00:00:00Z"}`, "", 422, "validation_failed", "scheduled_until"},
			{"end before start", writer, "PATCH", path, `{"scheduled_until":"` + start.Format(time.RFC3339) + `"}`, "", 422, "validation_failed", "scheduled_until"},
			{"component that does not exist", writer, "PATCH", path, `{"components":[424242]}`, "", 422, "validation_failed", "components"},
			{"missing", writer, "PATCH", "/api/v1/maintenance/99999", `{"name":"x"}`, "", 404, "not_found", ""},
			{"non-numeric id", writer, "PATCH", "/api/v1/maintenance/x", `{"name":"x"}`, "", 404, "not_found", ""},
			{"another page's", writer, "PATCH", "/api/v1/maintenance/" + itoa(theirs), `{"name":"x"}`, "", 404, "not_found", ""},
			{"no token", "", "PATCH", path, `{"name":"x"}`, "", 401, "unauthorized", ""},
			{"read-only token", reader, "PATCH", path, `{"name":"x"}`, "", 403, "forbidden", ""},
			{"incidents token", other, "PATCH", path, `{"name":"x"}`, "", 403, "forbidden", ""},
		})
		res := apiCall(t, s, writer, http.MethodPatch, "/api/v1/maintenance/"+itoa(running), `{}`)
		if res.Err.Message != "This maintenance is in progress; only scheduled maintenance can be edited." {
			t.Errorf("409 message %q", res.Err.Message)
		}
	})
}

func TestAPICancelMaintenance(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, writer, reader, other := maintenanceTokens(t, s)
		start := time.Now().UTC().Add(time.Hour)
		id := planMaintenance(t, s, models.DefaultPageID, "Upgrade", start)
		path := "/api/v1/maintenance/" + itoa(id) + "/cancel"

		before := tableRows(t, s)
		m := decodeAPI[maintenanceAPIJSON](t, apiCall(t, s, writer, http.MethodPost, path, ""), http.StatusOK)
		if m.Status != "cancelled" {
			t.Fatalf("after cancel: %+v", m)
		}
		if after := tableRows(t, s); after["events"] != before["events"] || after["audit_log"] != before["audit_log"]+1 {
			t.Fatalf("cancel wrote %v → %v", before, after)
		}
		second := planMaintenance(t, s, models.DefaultPageID, "Second", start)
		if m := decodeAPI[maintenanceAPIJSON](t, apiCall(t, s, writer, http.MethodPost, "/api/v1/maintenance/"+itoa(second)+"/cancel", `{}`), http.StatusOK); m.Status != "cancelled" {
			t.Fatalf("cancel with {}: %+v", m)
		}

		open := planMaintenance(t, s, models.DefaultPageID, "Open", start)
		openPath := "/api/v1/maintenance/" + itoa(open) + "/cancel"
		running := planMaintenance(t, s, models.DefaultPageID, "Running", time.Now().UTC().Add(-time.Minute))
		theirs := planMaintenance(t, s, otherPage(t, s), "Not yours", start)
		wantRefused(t, s, []refusedCall{
			{"already cancelled", writer, "POST", path, "", "", 409, "conflict", ""},
			{"in progress", writer, "POST", "/api/v1/maintenance/" + itoa(running) + "/cancel", "", "", 409, "conflict", ""},
			{"a field", writer, "POST", openPath, `{"reason":"x"}`, "", 400, "unknown_field", "reason"},
			{"malformed JSON", writer, "POST", openPath, `{"`, "", 400, "invalid_json", ""},
			{"not an object", writer, "POST", openPath, `"now"`, "", 400, "invalid_type", ""},
			{"missing", writer, "POST", "/api/v1/maintenance/99999/cancel", "", "", 404, "not_found", ""},
			{"non-numeric id", writer, "POST", "/api/v1/maintenance/abc/cancel", "", "", 404, "not_found", ""},
			{"another page's", writer, "POST", "/api/v1/maintenance/" + itoa(theirs) + "/cancel", "", "", 404, "not_found", ""},
			{"no token", "", "POST", openPath, "", "", 401, "unauthorized", ""},
			{"read-only token", reader, "POST", openPath, "", "", 403, "forbidden", ""},
			{"incidents token", other, "POST", openPath, "", "", 403, "forbidden", ""},
		})
		if got := loadMaintenance(t, s, open); got.Status != models.MaintenanceScheduled {
			t.Fatalf("refused cancels left %s", got.Status)
		}
	})
}

func TestAPICompleteMaintenance(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, writer, reader, other := maintenanceTokens(t, s)
		db := addComponent(t, s, "Database", models.StatusDegradedPerformance)
		id := planMaintenance(t, s, models.DefaultPageID, "Failover drill", time.Now().UTC().Add(-time.Minute), db)
		if got := componentStatus(t, s, db); got != models.StatusUnderMaintenance {
			t.Fatalf("Database is %s during the window", got)
		}
		path := "/api/v1/maintenance/" + itoa(id) + "/complete"

		scheduled := planMaintenance(t, s, models.DefaultPageID, "Later", time.Now().UTC().Add(time.Hour))
		theirs := planMaintenance(t, s, otherPage(t, s), "Not yours", time.Now().UTC().Add(-time.Minute))
		wantRefused(t, s, []refusedCall{
			{"not started", writer, "POST", "/api/v1/maintenance/" + itoa(scheduled) + "/complete", "", "", 409, "conflict", ""},
			{"a field", writer, "POST", path, `{"at":"now"}`, "", 400, "unknown_field", "at"},
			{"missing", writer, "POST", "/api/v1/maintenance/99999/complete", "", "", 404, "not_found", ""},
			{"non-numeric id", writer, "POST", "/api/v1/maintenance/%20/complete", "", "", 404, "not_found", ""},
			{"another page's", writer, "POST", "/api/v1/maintenance/" + itoa(theirs) + "/complete", "", "", 404, "not_found", ""},
			{"no token", "", "POST", path, "", "", 401, "unauthorized", ""},
			{"read-only token", reader, "POST", path, "", "", 403, "forbidden", ""},
			{"incidents token", other, "POST", path, "", "", 403, "forbidden", ""},
		})

		before := eventCount(t, s)
		m := decodeAPI[maintenanceAPIJSON](t, apiCall(t, s, writer, http.MethodPost, path, ""), http.StatusOK)
		if m.Status != "completed" || m.CompletedAt == nil {
			t.Fatalf("after complete: %+v", m)
		}
		if got := componentStatus(t, s, db); got != models.StatusDegradedPerformance {
			t.Errorf("Database is %s after the window, want its earlier degraded_performance", got)
		}
		if evs := eventsAfter(t, s, before); countTypes(evs, models.EventMaintenanceCompleted) != 1 || countTypes(evs, models.EventComponentStatusChanged) != 1 {
			t.Errorf("events %v", evs)
		}
		res := apiCall(t, s, writer, http.MethodPost, path, "")
		wantAPIError(t, res, http.StatusConflict, "conflict", "")
		if res.Err.Message != "This maintenance is completed; only in-progress maintenance can be completed." {
			t.Errorf("409 message %q", res.Err.Message)
		}
	})
}

// A window scheduled through the API and one from the admin's form write
// the same event with the same data fields.
func TestAPIMaintenanceEventsMatchAdminForm(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c, writer, _, _ := maintenanceTokens(t, s)
		db := addComponent(t, s, "Database", models.StatusOperational)
		start := time.Now().UTC().Add(2 * time.Hour).Truncate(time.Minute)
		n := eventCount(t, s)
		res := c.Submit("/admin/maintenance/new", "/admin/maintenance", url.Values{
			"title": {"Upgrade"}, "message": {"Read-only."}, "component_ids": {itoa(db)},
			"window_start": {formTime(start)}, "window_end": {formTime(start.Add(time.Hour))}, "set_maintenance": {"1"},
		})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("admin schedule: %d", res.Status)
		}
		decodeAPI[maintenanceAPIJSON](t, apiCall(t, s, writer, http.MethodPost, "/api/v1/maintenance", fmt.Sprintf(
			`{"scheduled_maintenance":{"name":"Upgrade","body":"Read-only.","components":["%d"],"scheduled_for":"%s","scheduled_until":"%s","auto_transition_to_maintenance_state":true}}`,
			db, start.Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339))), http.StatusCreated)
		evs, err := s.Store.Events(t.Context(), models.EventFilter{})
		modelstest.Fatal(t, err, "events")
		evs = evs[n:]
		if len(evs) != 2 || evs[0].Type != models.EventMaintenanceScheduled || evs[1].Type != evs[0].Type {
			t.Fatalf("events %+v, want two maintenance.scheduled", evs)
		}
		var ui, api map[string]any
		modelstest.Fatal(t, json.Unmarshal([]byte(evs[0].Data), &ui), "decode")
		modelstest.Fatal(t, json.Unmarshal([]byte(evs[1].Data), &api), "decode")
		if !slices.Equal(slices.Sorted(maps.Keys(ui)), slices.Sorted(maps.Keys(api))) {
			t.Fatalf("keys: admin %v, API %v", slices.Sorted(maps.Keys(ui)), slices.Sorted(maps.Keys(api)))
		}
		delete(ui, "id")
		delete(ui, "url")
		delete(api, "id")
		delete(api, "url")
		if fmt.Sprint(ui) != fmt.Sprint(api) {
			t.Fatalf("data: admin %v, API %v", ui, api)
		}
	})
}
