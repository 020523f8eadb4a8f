package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

type incidentAPIJSON struct {
	ID                    string                  `json:"id"`
	PageID                string                  `json:"page_id"`
	Name                  string                  `json:"name"`
	Status                string                  `json:"status"`
	Impact                string                  `json:"impact"`
	Backfilled            bool                    `json:"backfilled"`
	Components            []string                `json:"components"`
	IncidentUpdates       []incidentUpdateAPIJSON `json:"incident_updates"`
	PostmortemBody        *string                 `json:"postmortem_body"`
	PostmortemPublishedAt *string                 `json:"postmortem_published_at"`
	Shortlink             string                  `json:"shortlink"`
	StartedAt             string                  `json:"started_at"`
	MonitoringAt          *string                 `json:"monitoring_at"`
	ResolvedAt            *string                 `json:"resolved_at"`
	CreatedAt             string                  `json:"created_at"`
	UpdatedAt             string                  `json:"updated_at"`
}

type incidentUpdateAPIJSON struct {
	ID                 string `json:"id"`
	IncidentID         string `json:"incident_id"`
	Status             string `json:"status"`
	Body               string `json:"body"`
	CreatedAt          string `json:"created_at"`
	AffectedComponents []struct {
		Code      *string `json:"code"`
		Name      string  `json:"name"`
		OldStatus string  `json:"old_status"`
		NewStatus string  `json:"new_status"`
	} `json:"affected_components"`
}

// writeTables are the tables a write to incidents or maintenance can
// touch, the outbox and the audit log included.
var writeTables = []string{"incidents", "incident_updates", "incident_update_components", "incident_components",
	"maintenances", "maintenance_components", "maintenance_updates", "component_status_changes", "events", "deliveries", "audit_log"}

// tableRows counts the rows of writeTables.
func tableRows(t *testing.T, s *webtest.Server) map[string]int {
	t.Helper()
	db, err := s.Store.SQLDB()
	modelstest.Fatal(t, err, "sql db")
	out := map[string]int{}
	for _, table := range writeTables {
		var n int
		modelstest.Fatal(t, db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+table).Scan(&n), "count %s", table)
		out[table] = n
	}
	return out
}

// refusedCall is a request the API must refuse without writing anything.
type refusedCall struct {
	name         string
	token        string
	method, path string
	body         string
	contentType  string // default application/json when there is a body; "none" sends none
	status       int
	code, field  string
}

// wantRefused sends each call and checks its error and that no table
// changed.
func wantRefused(t *testing.T, s *webtest.Server, calls []refusedCall) {
	t.Helper()
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			before := tableRows(t, s)
			ct := tc.contentType
			switch {
			case ct == "none":
				ct = ""
			case ct == "" && tc.body != "":
				ct = "application/json"
			}
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			res := apiSend(t, s, tc.token, tc.method, tc.path, ct, body, nil)
			wantAPIError(t, res, tc.status, tc.code, tc.field)
			if after := tableRows(t, s); !maps.Equal(before, after) {
				t.Fatalf("refused request wrote rows: %v → %v", before, after)
			}
		})
	}
}

// incidentTokens signs in and makes three tokens: one that writes
// incidents, one that only reads, one with another write scope.
func incidentTokens(t *testing.T, s *webtest.Server) (c *webtest.Client, writer, reader, other string) {
	t.Helper()
	c = s.SetUp(t)
	_, writer = createToken(t, c, "Alerting", models.ScopeIncidentsWrite)
	_, reader = createToken(t, c, "Dashboard", models.ScopeRead)
	_, other = createToken(t, c, "Deploys", models.ScopeMaintenanceWrite)
	return c, writer, reader, other
}

// otherPage adds a second status page straight in the database and
// returns its id.
func otherPage(t *testing.T, s *webtest.Server) int64 {
	t.Helper()
	now := time.Now().UTC()
	execSQL(t, s, "INSERT INTO pages (slug, name, created_at, updated_at) VALUES (?, ?, ?, ?)", "other", "Other", now, now)
	db, err := s.Store.SQLDB()
	modelstest.Fatal(t, err, "sql db")
	var id int64
	modelstest.Fatal(t, db.QueryRowContext(t.Context(), placeholders(s, "SELECT id FROM pages WHERE slug = ?"), "other").Scan(&id), "page id")
	return id
}

// openIncident opens an incident straight in the store.
func openIncident(t *testing.T, s *webtest.Server, pageID int64, title string, set map[int64]models.ComponentStatus) int64 {
	t.Helper()
	inc, err := s.Store.CreateIncident(t.Context(), pageID, models.IncidentInput{Title: title,
		Status: models.IncidentInvestigating, Message: "Looking into it.", Components: set})
	modelstest.Fatal(t, err, "open incident %s", title)
	return inc.ID
}

var linkRE = regexp.MustCompile(`<([^>]+)>;\s*rel="([a-z]+)"`)

// linkRels parses a Link header into rel → URL.
func linkRels(t *testing.T, header string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range linkRE.FindAllStringSubmatch(header, -1) {
		out[m[2]] = m[1]
	}
	if len(out) == 0 {
		t.Fatalf("Link header %q has no links", header)
	}
	return out
}

func TestAPICreateIncident(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, writer, reader, other := incidentTokens(t, s)
		api := addComponent(t, s, "API", models.StatusOperational)
		web := addComponent(t, s, "Website", models.StatusOperational)

		before := eventCount(t, s)
		res := apiCall(t, s, writer, http.MethodPost, "/api/v1/incidents", fmt.Sprintf(`{"incident": {
			"name": " Elevated API errors ", "body": "We see **errors**.", "components": {"%d": "major_outage"},
			"deliver_notifications": true}}`, api))
		inc := decodeAPI[incidentAPIJSON](t, res, http.StatusCreated)
		if res.Location != "/api/v1/incidents/"+inc.ID || inc.Name != "Elevated API errors" || inc.Status != "investigating" ||
			inc.Impact != "critical" || inc.Backfilled || inc.PageID != "1" || !slices.Equal(inc.Components, []string{itoa(api)}) ||
			inc.ResolvedAt != nil || inc.MonitoringAt != nil || inc.PostmortemBody != nil || inc.PostmortemPublishedAt != nil ||
			!apiTimeRE.MatchString(inc.StartedAt) || !apiTimeRE.MatchString(inc.CreatedAt) ||
			!strings.HasSuffix(inc.Shortlink, "/incidents/"+inc.ID) || !strings.HasPrefix(inc.Shortlink, "http") {
			t.Fatalf("created %+v at %q", inc, res.Location)
		}
		if len(inc.IncidentUpdates) != 1 {
			t.Fatalf("updates %+v, want the first one", inc.IncidentUpdates)
		}
		u := inc.IncidentUpdates[0]
		if u.Status != "investigating" || u.Body != "We see **errors**." || u.IncidentID != inc.ID || len(u.AffectedComponents) != 1 ||
			*u.AffectedComponents[0].Code != itoa(api) || u.AffectedComponents[0].Name != "API" ||
			u.AffectedComponents[0].OldStatus != "operational" || u.AffectedComponents[0].NewStatus != "major_outage" {
			t.Fatalf("first update %+v", u)
		}
		if evs := eventsAfter(t, s, before); len(evs) != 2 || countTypes(evs, models.EventIncidentCreated) != 1 ||
			countTypes(evs, models.EventComponentStatusChanged) != 1 {
			t.Fatalf("events %v, want incident.created and component.status_changed", evs)
		}
		if got := componentStatus(t, s, api); got != models.StatusMajorOutage {
			t.Fatalf("API is %s", got)
		}

		// The same fields without the wrapper; a chosen impact and status.
		bare := decodeAPI[incidentAPIJSON](t, apiCall(t, s, writer, http.MethodPost, "/api/v1/incidents",
			`{"name":"Slow pages","status":"monitoring","impact_override":"minor","body":"Watching."}`), http.StatusCreated)
		if bare.Status != "monitoring" || bare.Impact != "minor" || bare.MonitoringAt == nil || len(bare.Components) != 0 ||
			bare.IncidentUpdates[0].AffectedComponents == nil || len(bare.IncidentUpdates[0].AffectedComponents) != 0 {
			t.Fatalf("bare create %+v (affected_components: want [])", bare)
		}
		if !strings.Contains(apiCall(t, s, writer, http.MethodGet, "/api/v1/incidents/"+bare.ID, "").Body, `"affected_components":[]`) {
			t.Error("an update without components has affected_components: [], not null")
		}

		// Idempotency-Key: the same request again is the same incident.
		n := incidentCount(t, s)
		key := http.Header{"Idempotency-Key": {"alert-4242"}}
		body := `{"incident":{"name":"Queue backlog","body":"Jobs are late."}}`
		first := apiSend(t, s, writer, http.MethodPost, "/api/v1/incidents", "application/json", strings.NewReader(body), key)
		again := apiSend(t, s, writer, http.MethodPost, "/api/v1/incidents", "application/json", strings.NewReader(body), key)
		if first.Status != http.StatusCreated || again.Status != http.StatusCreated || again.Body != first.Body ||
			again.Header.Get("Idempotent-Replayed") != "true" || incidentCount(t, s) != n+1 {
			t.Fatalf("idempotent create: %d then %d (%q), %d incidents, want one", first.Status, again.Status,
				again.Header.Get("Idempotent-Replayed"), incidentCount(t, s)-n)
		}

		page2 := otherPage(t, s)
		elsewhere, err := s.Store.CreateComponent(t.Context(), page2, models.ComponentInput{Name: "Theirs", Status: models.StatusOperational})
		modelstest.Fatal(t, err, "component of page 2")
		const path = "/api/v1/incidents"
		ok := func(extra string) string { return `{"name":"x","body":"y"` + extra + `}` }
		wantRefused(t, s, []refusedCall{
			{"malformed JSON", writer, "POST", path, `{"incident": {"name": `, "", 400, "invalid_json", ""},
			{"not an object", writer, "POST", path, `["x"]`, "", 400, "invalid_type", ""},
			{"form content type", writer, "POST", path, `name=x`, "application/x-www-form-urlencoded", 415, "unsupported_media_type", ""},
			{"empty body", writer, "POST", path, "", "", 415, "unsupported_media_type", ""},
			{"unknown field", writer, "POST", path, `{"incident":{"name":"x","body":"y","severity":"high"}}`, "", 400, "unknown_field", "severity"},
			{"unknown field bare", writer, "POST", path, ok(`,"metadata":{}`), "", 400, "unknown_field", "metadata"},
			{"field beside the wrapper", writer, "POST", path, `{"incident":{"name":"x","body":"y"},"body":"z"}`, "", 400, "unknown_field", "body"},
			{"wrapper is not an object", writer, "POST", path, `{"incident":"x"}`, "", 400, "invalid_type", "incident"},
			{"name is a number", writer, "POST", path, `{"incident":{"name":5,"body":"y"}}`, "", 400, "invalid_type", "name"},
			{"backfilled is a string", writer, "POST", path, ok(`,"backfilled":"yes"`), "", 400, "invalid_type", "backfilled"},
			{"components is a list", writer, "POST", path, ok(`,"components":["1"]`), "", 400, "invalid_type", "components"},
			{"component status is a number", writer, "POST", path, ok(fmt.Sprintf(`,"components":{"%d":3}`, api)), "", 400, "invalid_type", "components"},
			{"component key is not an id", writer, "POST", path, ok(`,"components":{"api":"major_outage"}`), "", 400, "invalid_type", "components"},
			{"name is null", writer, "POST", path, `{"name":null,"body":"y"}`, "", 400, "invalid_type", "name"},
			{"unknown status", writer, "POST", path, ok(`,"status":"on_fire"`), "", 422, "validation_failed", "status"},
			{"starts resolved", writer, "POST", path, ok(`,"status":"resolved"`), "", 422, "validation_failed", "status"},
			{"unknown impact", writer, "POST", path, ok(`,"impact_override":"huge"`), "", 422, "validation_failed", "impact_override"},
			{"unknown component status", writer, "POST", path, ok(fmt.Sprintf(`,"components":{"%d":"on_fire"}`, web)), "", 422, "validation_failed", "components"},
			{"component that does not exist", writer, "POST", path, ok(`,"components":{"99999":"major_outage"}`), "", 422, "validation_failed", "components"},
			{"component of another page", writer, "POST", path, ok(fmt.Sprintf(`,"components":{"%d":"major_outage"}`, elsewhere.ID)), "", 422, "validation_failed", "components"},
			{"missing name", writer, "POST", path, `{"incident":{"body":"y"}}`, "", 422, "validation_failed", "name"},
			{"missing body", writer, "POST", path, `{"incident":{"name":"x"}}`, "", 422, "validation_failed", "body"},
			{"long name", writer, "POST", path, `{"name":"` + strings.Repeat("n", 201) + `","body":"y"}`, "", 422, "validation_failed", "name"},
			{"backfill_date without backfill", writer, "POST", path, ok(`,"backfill_date":"2024-01-01T00:00:00Z"`), "", 422, "validation_failed", "backfill_date"},
			{"no token", "", "POST", path, ok(""), "", 401, "unauthorized", ""},
			{"read-only token", reader, "POST", path, ok(""), "", 403, "forbidden", ""},
			{"maintenance token", other, "POST", path, ok(""), "", 403, "forbidden", ""},
		})

		// Messages say what the API accepts.
		res = apiCall(t, s, writer, http.MethodPost, path, ok(`,"status":"on_fire"`))
		if res.Err.Message != "Use one of: investigating, identified, monitoring." {
			t.Errorf("status message %q", res.Err.Message)
		}
		res = apiCall(t, s, writer, http.MethodPost, path, ok(`,"impact_override":"huge","status":"resolved"`))
		if res.Err.Fields["impact_override"] != "Use one of: none, minor, major, critical." || !strings.Contains(res.Err.Fields["status"], "backfilled: true") {
			t.Errorf("fields %v", res.Err.Fields)
		}
		res = apiCall(t, s, writer, http.MethodPost, path, ok(fmt.Sprintf(`,"components":{"%d":"on_fire"}`, web)))
		if !strings.Contains(res.Err.Message, "operational, degraded_performance, partial_outage, major_outage, under_maintenance") {
			t.Errorf("component status message %q", res.Err.Message)
		}
		res = apiCall(t, s, writer, http.MethodPost, path, `{"incident":{"name":"x","colour":"red"}}`)
		if !strings.Contains(res.Err.Message, "“colour”") || !strings.Contains(res.Err.Message, "name, status, impact_override, body, components") {
			t.Errorf("unknown field message %q", res.Err.Message)
		}
	})
}

func TestAPIBackfillIncident(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, writer, _, _ := incidentTokens(t, s)
		api := addComponent(t, s, "API", models.StatusOperational)
		start := time.Now().UTC().Add(-26 * time.Hour).Truncate(time.Second)
		end := start.Add(90 * time.Minute)

		before := tableRows(t, s)
		inc := decodeAPI[incidentAPIJSON](t, apiCall(t, s, writer, http.MethodPost, "/api/v1/incidents", fmt.Sprintf(`{"incident":{
			"name":"Yesterday's outage","body":"Logged afterwards.","components":{"%d":"major_outage"},
			"backfilled":true,"backfill_date":"%s","resolved_date":"%s","deliver_notifications":false}}`,
			api, start.Format(time.RFC3339), end.In(time.FixedZone("CEST", 2*3600)).Format(time.RFC3339))), http.StatusCreated)
		if !inc.Backfilled || inc.Status != "resolved" || inc.StartedAt != start.Format("2006-01-02T15:04:05.000Z") ||
			inc.ResolvedAt == nil || *inc.ResolvedAt != end.Format("2006-01-02T15:04:05.000Z") {
			t.Fatalf("back-filled %+v, want resolved from %s to %s", inc, start, end)
		}
		after := tableRows(t, s)
		if after["events"] != before["events"] || after["deliveries"] != before["deliveries"] || after["component_status_changes"] != before["component_status_changes"] {
			t.Fatalf("back-fill wrote events, deliveries or status changes: %v → %v", before, after)
		}
		if after["incidents"] != before["incidents"]+1 || after["audit_log"] != before["audit_log"]+1 {
			t.Fatalf("back-fill wrote %v → %v, want an incident and its audit row", before, after)
		}
		if got := componentStatus(t, s, api); got != models.StatusOperational {
			t.Fatalf("back-fill set API to %s", got)
		}

		// Without resolved_date it is over one second after it began.
		short := decodeAPI[incidentAPIJSON](t, apiCall(t, s, writer, http.MethodPost, "/api/v1/incidents", fmt.Sprintf(
			`{"name":"Blip","body":"A blip.","backfilled":true,"backfill_date":"%s"}`, start.Format(time.RFC3339))), http.StatusCreated)
		if short.ResolvedAt == nil || *short.ResolvedAt != start.Add(time.Second).Format("2006-01-02T15:04:05.000Z") {
			t.Fatalf("resolved_at %v, want a second after %s", short.ResolvedAt, start)
		}
		if eventCount(t, s) != before["events"] {
			t.Fatal("a back-fill wrote an event")
		}

		at := func(ts time.Time) string { return ts.Format(time.RFC3339) }
		fill := func(extra string) string {
			return `{"incident":{"name":"x","body":"y","backfilled":true` + extra + `}}`
		}
		const path = "/api/v1/incidents"
		wantRefused(t, s, []refusedCall{
			{"no backfill_date", writer, "POST", path, fill(""), "", 422, "validation_failed", "backfill_date"},
			{"backfill_date not RFC 3339", writer, "POST", path, fill(`,"backfill_date":"yesterday"`), "", 422, "validation_failed", "backfill_date"},
			{"backfill_date without a zone", writer, "POST", path, fill(`,"backfill_date":"2024-01-01T10:00:00"`), "", 422, "validation_failed", "backfill_date"},
			{"backfill_date is a number", writer, "POST", path, fill(`,"backfill_date":1700000000`), "", 400, "invalid_type", "backfill_date"},
			{"ends before it starts", writer, "POST", path, fill(`,"backfill_date":"` + at(start) + `","resolved_date":"` + at(start.Add(-time.Hour)) + `"`), "", 422, "validation_failed", "resolved_date"},
			{"ends in the future", writer, "POST", path, fill(`,"backfill_date":"` + at(start) + `","resolved_date":"` + at(time.Now().Add(time.Hour)) + `"`), "", 422, "validation_failed", "resolved_date"},
			{"starts in the future", writer, "POST", path, fill(`,"backfill_date":"` + at(time.Now().Add(time.Hour)) + `"`), "", 422, "validation_failed", "backfill_date"},
			{"notifications asked for", writer, "POST", path, fill(`,"backfill_date":"` + at(start) + `","deliver_notifications":true`), "", 422, "validation_failed", "deliver_notifications"},
			{"a live status", writer, "POST", path, fill(`,"backfill_date":"` + at(start) + `","status":"investigating"`), "", 422, "validation_failed", "status"},
			{"resolved_date without backfill", writer, "POST", path, `{"name":"x","body":"y","resolved_date":"` + at(start) + `"}`, "", 422, "validation_failed", "resolved_date"},
		})
		if res := apiCall(t, s, writer, http.MethodPost, path, fill(`,"backfill_date":"`+at(start)+`","status":"resolved"`)); res.Status != http.StatusCreated {
			t.Fatalf("back-fill with status resolved: %d %s", res.Status, res.Body)
		}
	})
}

func TestAPIShowIncident(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, writer, reader, _ := incidentTokens(t, s)
		api := addComponent(t, s, "API", models.StatusOperational)
		id := openIncident(t, s, models.DefaultPageID, "Errors", map[int64]models.ComponentStatus{api: models.StatusPartialOutage})
		_, err := s.Store.PostIncidentUpdate(t.Context(), id, models.IncidentUpdateInput{Status: models.IncidentIdentified, Message: "Found it."})
		modelstest.Fatal(t, err, "update")
		_, err = s.Store.PostIncidentUpdate(t.Context(), id, models.IncidentUpdateInput{Status: models.IncidentMonitoring, Message: "Fixed, watching.",
			Components: map[int64]models.ComponentStatus{api: models.StatusOperational}})
		modelstest.Fatal(t, err, "update")

		inc := decodeAPI[incidentAPIJSON](t, apiCall(t, s, reader, http.MethodGet, "/api/v1/incidents/"+itoa(id), ""), http.StatusOK)
		var statuses []string
		for _, u := range inc.IncidentUpdates {
			statuses = append(statuses, u.Status)
		}
		if !slices.Equal(statuses, []string{"monitoring", "identified", "investigating"}) {
			t.Fatalf("updates %v, want newest first", statuses)
		}
		if inc.Status != "monitoring" || inc.MonitoringAt == nil || !slices.Equal(inc.Components, []string{itoa(api)}) {
			t.Fatalf("incident %+v", inc)
		}
		if ac := inc.IncidentUpdates[0].AffectedComponents; len(ac) != 1 || ac[0].OldStatus != "partial_outage" || ac[0].NewStatus != "operational" {
			t.Fatalf("affected components of the last update: %+v", ac)
		}
		if ac := inc.IncidentUpdates[1].AffectedComponents; ac == nil || len(ac) != 0 {
			t.Fatalf("an update without components lists %+v, want []", ac)
		}
		if got := decodeAPI[incidentAPIJSON](t, apiCall(t, s, writer, http.MethodGet, "/api/v1/incidents/"+itoa(id), ""), http.StatusOK); got.UpdatedAt != inc.UpdatedAt {
			t.Fatal("a write token reads the same incident")
		}

		theirs := openIncident(t, s, otherPage(t, s), "Not yours", nil)
		wantRefused(t, s, []refusedCall{
			{"missing", reader, "GET", "/api/v1/incidents/99999", "", "", 404, "not_found", ""},
			{"not a number", reader, "GET", "/api/v1/incidents/abc", "", "", 404, "not_found", ""},
			{"zero", reader, "GET", "/api/v1/incidents/0", "", "", 404, "not_found", ""},
			{"another page's", reader, "GET", "/api/v1/incidents/" + itoa(theirs), "", "", 404, "not_found", ""},
			{"no token", "", "GET", "/api/v1/incidents/" + itoa(id), "", "", 401, "unauthorized", ""},
		})
	})
}

func TestAPIListIncidents(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, _, reader, _ := incidentTokens(t, s)
		for i := range 30 {
			id := openIncident(t, s, models.DefaultPageID, fmt.Sprintf("Incident %02d", i), nil)
			switch {
			case i%3 == 0:
				_, err := s.Store.ResolveIncident(t.Context(), id, "")
				modelstest.Fatal(t, err, "resolve")
			case i%3 == 1:
				_, err := s.Store.PostIncidentUpdate(t.Context(), id, models.IncidentUpdateInput{Status: models.IncidentIdentified, Message: "Found."})
				modelstest.Fatal(t, err, "update")
			}
		}
		openIncident(t, s, otherPage(t, s), "Another page's", nil)
		all, err := s.Store.Incidents(t.Context(), models.DefaultPageID, models.IncidentFilter{})
		modelstest.Fatal(t, err, "incidents")
		ids := func(filter func(models.Incident) bool) []string {
			var out []string
			for _, inc := range all {
				if filter(inc) {
					out = append(out, itoa(inc.ID))
				}
			}
			return out
		}

		// Default: 25 a page.
		res := apiCall(t, s, reader, http.MethodGet, "/api/v1/incidents", "")
		if first := decodeAPI[[]incidentAPIJSON](t, res, http.StatusOK); len(first) != 25 || res.Header.Get("X-Total-Count") != "30" {
			t.Fatalf("first page: %d incidents, X-Total-Count %q", len(first), res.Header.Get("X-Total-Count"))
		}

		walk := func(t *testing.T, start string, total int) []string {
			t.Helper()
			var got []string
			next, pages := start, 0
			for next != "" {
				res := apiCall(t, s, reader, http.MethodGet, next, "")
				list := decodeAPI[[]incidentAPIJSON](t, res, http.StatusOK)
				if res.Header.Get("X-Total-Count") != itoa(int64(total)) {
					t.Fatalf("%s: X-Total-Count %q, want %d", next, res.Header.Get("X-Total-Count"), total)
				}
				rels := linkRels(t, res.Header.Get("Link"))
				if rels["first"] == "" || rels["last"] == "" || (pages == 0) != (rels["prev"] == "") {
					t.Fatalf("%s: links %v", next, rels)
				}
				for _, inc := range list {
					got = append(got, inc.ID)
				}
				if rels["next"] == "" && pages > 0 && rels["last"] != next {
					t.Fatalf("%s has no next link but its last link is %q", next, rels["last"])
				}
				next = rels["next"]
				pages++
				if pages > 20 {
					t.Fatal("the next links do not end")
				}
			}
			return got
		}
		t.Run("walk all", func(t *testing.T) {
			got := walk(t, "/api/v1/incidents?per_page=7", 30)
			if want := ids(func(models.Incident) bool { return true }); !slices.Equal(got, want) {
				t.Fatalf("walked %v, want newest first %v", got, want)
			}
		})
		t.Run("walk resolved", func(t *testing.T) {
			got := walk(t, "/api/v1/incidents?status=resolved&per_page=4", 10)
			if want := ids(func(i models.Incident) bool { return i.Status == models.IncidentResolved }); !slices.Equal(got, want) {
				t.Fatalf("walked %v, want %v", got, want)
			}
		})
		for _, tc := range []struct {
			status string
			want   func(models.Incident) bool
		}{
			{"unresolved", func(i models.Incident) bool { return i.Status != models.IncidentResolved }},
			{"identified", func(i models.Incident) bool { return i.Status == models.IncidentIdentified }},
			{"investigating", func(i models.Incident) bool { return i.Status == models.IncidentInvestigating }},
			{"monitoring", func(models.Incident) bool { return false }},
		} {
			t.Run("filter "+tc.status, func(t *testing.T) {
				res := apiCall(t, s, reader, http.MethodGet, "/api/v1/incidents?per_page=100&status="+tc.status, "")
				var got []string
				for _, inc := range decodeAPI[[]incidentAPIJSON](t, res, http.StatusOK) {
					got = append(got, inc.ID)
				}
				want := ids(tc.want)
				if !slices.Equal(got, want) || res.Header.Get("X-Total-Count") != itoa(int64(len(want))) {
					t.Fatalf("got %v (total %s), want %v", got, res.Header.Get("X-Total-Count"), want)
				}
				if !strings.Contains(res.Header.Get("Link"), "status="+tc.status) {
					t.Fatalf("Link %q drops the filter", res.Header.Get("Link"))
				}
			})
		}

		// The links of a middle page, and a page past the end.
		res = apiCall(t, s, reader, http.MethodGet, "/api/v1/incidents?page=2&per_page=10", "")
		rels := linkRels(t, res.Header.Get("Link"))
		want := map[string]string{"first": "/api/v1/incidents?page=1&per_page=10", "prev": "/api/v1/incidents?page=1&per_page=10",
			"next": "/api/v1/incidents?page=3&per_page=10", "last": "/api/v1/incidents?page=3&per_page=10"}
		if !maps.Equal(rels, want) {
			t.Fatalf("links %v, want %v", rels, want)
		}
		res = apiCall(t, s, reader, http.MethodGet, "/api/v1/incidents?page=9", "")
		if strings.TrimSpace(res.Body) != "[]" || res.Header.Get("X-Total-Count") != "30" || linkRels(t, res.Header.Get("Link"))["prev"] != "/api/v1/incidents?page=2&per_page=25" {
			t.Fatalf("past the end: %s, links %q", res.Body, res.Header.Get("Link"))
		}

		wantRefused(t, s, []refusedCall{
			{"page 0", reader, "GET", "/api/v1/incidents?page=0", "", "", 400, "invalid_parameter", "page"},
			{"page not a number", reader, "GET", "/api/v1/incidents?page=two", "", "", 400, "invalid_parameter", "page"},
			{"per_page 0", reader, "GET", "/api/v1/incidents?per_page=0", "", "", 400, "invalid_parameter", "per_page"},
			{"per_page over 100", reader, "GET", "/api/v1/incidents?per_page=101", "", "", 400, "invalid_parameter", "per_page"},
			{"per_page twice", reader, "GET", "/api/v1/incidents?per_page=5&per_page=6", "", "", 400, "invalid_parameter", "per_page"},
			{"unknown status", reader, "GET", "/api/v1/incidents?status=closed", "", "", 400, "invalid_parameter", "status"},
			{"unknown parameter", reader, "GET", "/api/v1/incidents?stauts=resolved", "", "", 400, "unknown_parameter", "stauts"},
			{"no token", "", "GET", "/api/v1/incidents", "", "", 401, "unauthorized", ""},
		})
	})
}

func TestAPIPostIncidentUpdate(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, writer, reader, other := incidentTokens(t, s)
		api := addComponent(t, s, "API", models.StatusOperational)
		id := openIncident(t, s, models.DefaultPageID, "Errors", map[int64]models.ComponentStatus{api: models.StatusMajorOutage})
		path := "/api/v1/incidents/" + itoa(id) + "/updates"

		before := eventCount(t, s)
		res := apiCall(t, s, writer, http.MethodPost, path, fmt.Sprintf(
			`{"status":"identified","body":"Bad deploy.","impact_override":"major","components":{"%d":"partial_outage"}}`, api))
		u := decodeAPI[incidentUpdateAPIJSON](t, res, http.StatusCreated)
		if u.Status != "identified" || u.Body != "Bad deploy." || u.IncidentID != itoa(id) || !apiTimeRE.MatchString(u.CreatedAt) ||
			len(u.AffectedComponents) != 1 || u.AffectedComponents[0].OldStatus != "major_outage" || u.AffectedComponents[0].NewStatus != "partial_outage" {
			t.Fatalf("update %+v", u)
		}
		if evs := eventsAfter(t, s, before); len(evs) != 2 || countTypes(evs, models.EventIncidentUpdated) != 1 || countTypes(evs, models.EventComponentStatusChanged) != 1 {
			t.Fatalf("events %v", evs)
		}
		inc := decodeAPI[incidentAPIJSON](t, apiCall(t, s, reader, http.MethodGet, "/api/v1/incidents/"+itoa(id), ""), http.StatusOK)
		if inc.Status != "identified" || inc.Impact != "major" || inc.IncidentUpdates[0].ID != u.ID {
			t.Fatalf("after the update: %+v", inc)
		}

		// Without status the incident keeps its own; without
		// impact_override the chosen impact stays.
		u = decodeAPI[incidentUpdateAPIJSON](t, apiCall(t, s, writer, http.MethodPost, path, `{"body":"Still on it."}`), http.StatusCreated)
		if u.Status != "identified" {
			t.Fatalf("status %q, want the incident's own", u.Status)
		}
		// "automatic" gives the impact back to the components: partial
		// outage is major; degraded performance then makes it minor.
		decodeAPI[incidentUpdateAPIJSON](t, apiCall(t, s, writer, http.MethodPost, path, fmt.Sprintf(
			`{"body":"Mostly back.","impact_override":"automatic","components":{"%d":"degraded_performance"}}`, api)), http.StatusCreated)
		if inc := decodeAPI[incidentAPIJSON](t, apiCall(t, s, reader, http.MethodGet, "/api/v1/incidents/"+itoa(id), ""), http.StatusOK); inc.Impact != "minor" {
			t.Fatalf("after impact_override automatic: impact %q, want minor (following the components)", inc.Impact)
		}
		decodeAPI[incidentUpdateAPIJSON](t, apiCall(t, s, writer, http.MethodPost, path, fmt.Sprintf(
			`{"body":"Worse again.","components":{"%d":"major_outage"}}`, api)), http.StatusCreated)
		if inc := decodeAPI[incidentAPIJSON](t, apiCall(t, s, reader, http.MethodGet, "/api/v1/incidents/"+itoa(id), ""), http.StatusOK); inc.Impact != "critical" {
			t.Fatalf("an automatic impact does not follow the components: %q, want critical", inc.Impact)
		}
		if res := apiCall(t, s, writer, http.MethodPost, path, `{"body":"x","impact_override":"meh"}`); res.Err.Fields["impact_override"] != "Use one of: none, minor, major, critical, automatic." {
			t.Errorf("a bad impact_override on an update: %d %+v", res.Status, res.Err)
		}
		before = eventCount(t, s)
		decodeAPI[incidentUpdateAPIJSON](t, apiCall(t, s, writer, http.MethodPost, path, `{"status":"resolved","body":"Fixed."}`), http.StatusCreated)
		if evs := eventsAfter(t, s, before); len(evs) != 1 || evs[0] != models.EventIncidentResolved {
			t.Fatalf("resolving update fired %v", evs)
		}

		theirs := openIncident(t, s, otherPage(t, s), "Not yours", nil)
		wantRefused(t, s, []refusedCall{
			{"malformed JSON", writer, "POST", path, `{"body":`, "", 400, "invalid_json", ""},
			{"unknown field", writer, "POST", path, `{"body":"x","name":"y"}`, "", 400, "unknown_field", "name"},
			{"wrapped", writer, "POST", path, `{"incident":{"body":"x"}}`, "", 400, "unknown_field", "incident"},
			{"body is a list", writer, "POST", path, `{"body":["x"]}`, "", 400, "invalid_type", "body"},
			{"component key not an id", writer, "POST", path, `{"body":"x","components":{"-1":"operational"}}`, "", 400, "invalid_type", "components"},
			{"no content type", writer, "POST", path, `{"body":"x"}`, "none", 415, "unsupported_media_type", ""},
			{"missing body", writer, "POST", path, `{"status":"monitoring"}`, "", 422, "validation_failed", "body"},
			{"blank body", writer, "POST", path, `{"status":"monitoring","body":"  "}`, "", 422, "validation_failed", "body"},
			{"unknown status", writer, "POST", path, `{"status":"fixed","body":"x"}`, "", 422, "validation_failed", "status"},
			{"unknown impact", writer, "POST", path, `{"impact_override":"meh","body":"x"}`, "", 422, "validation_failed", "impact_override"},
			{"unknown component status", writer, "POST", path, fmt.Sprintf(`{"body":"x","components":{"%d":"sideways"}}`, api), "", 422, "validation_failed", "components"},
			{"component that does not exist", writer, "POST", path, `{"body":"x","components":{"424242":"operational"}}`, "", 422, "validation_failed", "components"},
			{"missing incident", writer, "POST", "/api/v1/incidents/99999/updates", `{"body":"x"}`, "", 404, "not_found", ""},
			{"non-numeric id", writer, "POST", "/api/v1/incidents/abc/updates", `{"body":"x"}`, "", 404, "not_found", ""},
			{"another page's incident", writer, "POST", "/api/v1/incidents/" + itoa(theirs) + "/updates", `{"body":"x"}`, "", 404, "not_found", ""},
			{"no token", "", "POST", path, `{"body":"x"}`, "", 401, "unauthorized", ""},
			{"read-only token", reader, "POST", path, `{"body":"x"}`, "", 403, "forbidden", ""},
			{"maintenance token", other, "POST", path, `{"body":"x"}`, "", 403, "forbidden", ""},
		})
		res = apiCall(t, s, writer, http.MethodPost, path, `{"status":"fixed","body":"x"}`)
		if res.Err.Message != "Use one of: investigating, identified, monitoring, resolved." {
			t.Errorf("status message %q", res.Err.Message)
		}
	})
}

func TestAPIResolveIncident(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, writer, reader, other := incidentTokens(t, s)
		api := addComponent(t, s, "API", models.StatusOperational)
		id := openIncident(t, s, models.DefaultPageID, "Errors", map[int64]models.ComponentStatus{api: models.StatusMajorOutage})
		path := "/api/v1/incidents/" + itoa(id) + "/resolve"

		before := eventCount(t, s)
		inc := decodeAPI[incidentAPIJSON](t, apiCall(t, s, writer, http.MethodPost, path, `{"body":"All clear."}`), http.StatusOK)
		if inc.Status != "resolved" || inc.ResolvedAt == nil || inc.IncidentUpdates[0].Body != "All clear." {
			t.Fatalf("resolved %+v", inc)
		}
		if evs := eventsAfter(t, s, before); countTypes(evs, models.EventIncidentResolved) != 1 || countTypes(evs, models.EventComponentStatusChanged) != 1 {
			t.Fatalf("events %v", evs)
		}
		if got := componentStatus(t, s, api); got != models.StatusOperational {
			t.Fatalf("API is %s after resolve", got)
		}

		// No body at all: the default message.
		second := openIncident(t, s, models.DefaultPageID, "Blip", nil)
		inc = decodeAPI[incidentAPIJSON](t, apiCall(t, s, writer, http.MethodPost, "/api/v1/incidents/"+itoa(second)+"/resolve", ""), http.StatusOK)
		if inc.Status != "resolved" || inc.IncidentUpdates[0].Body != "This incident has been resolved." {
			t.Fatalf("resolved without a body: %+v", inc)
		}

		open := openIncident(t, s, models.DefaultPageID, "Open", nil)
		openPath := "/api/v1/incidents/" + itoa(open) + "/resolve"
		theirs := openIncident(t, s, otherPage(t, s), "Not yours", nil)
		wantRefused(t, s, []refusedCall{
			{"already resolved", writer, "POST", path, `{}`, "", 409, "conflict", ""},
			{"malformed JSON", writer, "POST", openPath, `{"body"`, "", 400, "invalid_json", ""},
			{"unknown field", writer, "POST", openPath, `{"status":"resolved"}`, "", 400, "unknown_field", "status"},
			{"body is a number", writer, "POST", openPath, `{"body":1}`, "", 400, "invalid_type", "body"},
			{"too long a body", writer, "POST", openPath, `{"body":"` + strings.Repeat("b", 50_001) + `"}`, "", 422, "validation_failed", "body"},
			{"missing incident", writer, "POST", "/api/v1/incidents/99999/resolve", "", "", 404, "not_found", ""},
			{"non-numeric id", writer, "POST", "/api/v1/incidents/x1/resolve", "", "", 404, "not_found", ""},
			{"another page's incident", writer, "POST", "/api/v1/incidents/" + itoa(theirs) + "/resolve", "", "", 404, "not_found", ""},
			{"no token", "", "POST", openPath, "", "", 401, "unauthorized", ""},
			{"read-only token", reader, "POST", openPath, "", "", 403, "forbidden", ""},
			{"maintenance token", other, "POST", openPath, "", "", 403, "forbidden", ""},
		})
	})
}

func TestAPIIncidentPostmortem(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, writer, reader, other := incidentTokens(t, s)
		id := openIncident(t, s, models.DefaultPageID, "Errors", nil)
		path := "/api/v1/incidents/" + itoa(id)

		before := eventCount(t, s)
		inc := decodeAPI[incidentAPIJSON](t, apiCall(t, s, writer, http.MethodPatch, path, `{"postmortem_body":"## What happened"}`), http.StatusOK)
		if inc.PostmortemBody == nil || *inc.PostmortemBody != "## What happened" || inc.PostmortemPublishedAt == nil {
			t.Fatalf("after PATCH: %+v", inc)
		}
		inc = decodeAPI[incidentAPIJSON](t, apiCall(t, s, writer, http.MethodPatch, path, `{"incident":{"postmortem_body":"Edited."}}`), http.StatusOK)
		if *inc.PostmortemBody != "Edited." || inc.Status != "investigating" || inc.Name != "Errors" {
			t.Fatalf("after a wrapped PATCH: %+v", inc)
		}
		inc = decodeAPI[incidentAPIJSON](t, apiCall(t, s, writer, http.MethodPatch, path, `{"postmortem_body":""}`), http.StatusOK)
		if inc.PostmortemBody != nil || inc.PostmortemPublishedAt != nil {
			t.Fatalf("after removing: %+v", inc)
		}
		if got := decodeAPI[incidentAPIJSON](t, apiCall(t, s, writer, http.MethodPatch, path, `{}`), http.StatusOK); got.ID != inc.ID {
			t.Fatal("empty PATCH")
		}
		if n := eventCount(t, s); n != before {
			t.Fatalf("postmortems fired %d events", n-before)
		}

		theirs := openIncident(t, s, otherPage(t, s), "Not yours", nil)
		wantRefused(t, s, []refusedCall{
			{"status", writer, "PATCH", path, `{"status":"resolved"}`, "", 422, "validation_failed", "status"},
			{"deliver_notifications without a name", writer, "PATCH", path, `{"incident":{"deliver_notifications":true}}`, "", 422, "validation_failed", "deliver_notifications"},
			{"components", writer, "PATCH", path, `{"components":{}}`, "", 422, "validation_failed", "components"},
			{"backfilled", writer, "PATCH", path, `{"postmortem_body":"x","backfilled":true}`, "", 422, "validation_failed", "backfilled"},
			{"read-only field", writer, "PATCH", path, `{"created_at":"2024-01-01T00:00:00Z"}`, "", 400, "unknown_field", "created_at"},
			{"postmortem is null", writer, "PATCH", path, `{"postmortem_body":null}`, "", 400, "invalid_type", "postmortem_body"},
			{"malformed JSON", writer, "PATCH", path, `{"postmortem_body":"x"`, "", 400, "invalid_json", ""},
			{"too long", writer, "PATCH", path, `{"postmortem_body":"` + strings.Repeat("p", 50_001) + `"}`, "", 422, "validation_failed", "postmortem_body"},
			{"missing incident", writer, "PATCH", "/api/v1/incidents/99999", `{"postmortem_body":"x"}`, "", 404, "not_found", ""},
			{"non-numeric id", writer, "PATCH", "/api/v1/incidents/one", `{"postmortem_body":"x"}`, "", 404, "not_found", ""},
			{"another page's incident", writer, "PATCH", "/api/v1/incidents/" + itoa(theirs), `{"postmortem_body":"x"}`, "", 404, "not_found", ""},
			{"no token", "", "PATCH", path, `{"postmortem_body":"x"}`, "", 401, "unauthorized", ""},
			{"read-only token", reader, "PATCH", path, `{"postmortem_body":"x"}`, "", 403, "forbidden", ""},
			{"maintenance token", other, "PATCH", path, `{"postmortem_body":"x"}`, "", 403, "forbidden", ""},
		})
		res := apiCall(t, s, writer, http.MethodPatch, path, `{"status":"resolved","body":"x"}`)
		if !strings.Contains(res.Err.Message, "POST /api/v1/incidents/"+itoa(id)+"/updates") || len(res.Err.Fields) != 2 {
			t.Errorf("message %q fields %v, want both fields and a pointer to updates", res.Err.Message, res.Err.Fields)
		}
	})
}

func TestAPIDeleteIncident(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, writer, reader, other := incidentTokens(t, s)
		api := addComponent(t, s, "API", models.StatusOperational)
		id := openIncident(t, s, models.DefaultPageID, "Errors", map[int64]models.ComponentStatus{api: models.StatusMajorOutage})
		path := "/api/v1/incidents/" + itoa(id)
		theirs := openIncident(t, s, otherPage(t, s), "Not yours", nil)
		wantRefused(t, s, []refusedCall{
			{"missing incident", writer, "DELETE", "/api/v1/incidents/99999", "", "", 404, "not_found", ""},
			{"non-numeric id", writer, "DELETE", "/api/v1/incidents/1.5", "", "", 404, "not_found", ""},
			{"another page's incident", writer, "DELETE", "/api/v1/incidents/" + itoa(theirs), "", "", 404, "not_found", ""},
			{"no token", "", "DELETE", path, "", "", 401, "unauthorized", ""},
			{"read-only token", reader, "DELETE", path, "", "", 403, "forbidden", ""},
			{"maintenance token", other, "DELETE", path, "", "", 403, "forbidden", ""},
		})

		before := eventCount(t, s)
		if res := apiCall(t, s, writer, http.MethodDelete, path, ""); res.Status != http.StatusNoContent || res.Body != "" {
			t.Fatalf("DELETE: %d %q", res.Status, res.Body)
		}
		wantAPIError(t, apiCall(t, s, reader, http.MethodGet, path, ""), http.StatusNotFound, "not_found", "")
		wantAPIError(t, apiCall(t, s, writer, http.MethodDelete, path, ""), http.StatusNotFound, "not_found", "")
		if eventCount(t, s) != before || componentStatus(t, s, api) != models.StatusMajorOutage {
			t.Fatal("deleting an incident fired events or changed its components")
		}
	})
}

// An incident opened through the API and one opened with the admin's
// form write the same events with the same data fields.
func TestAPIIncidentEventsMatchAdminForm(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c, writer, _, _ := incidentTokens(t, s)
		viaUI := addComponent(t, s, "Website", models.StatusOperational)
		viaAPI := addComponent(t, s, "API", models.StatusOperational)

		n := eventCount(t, s)
		res := c.Submit("/admin/incidents/new", "/admin/incidents", url.Values{
			"title": {"Errors"}, "status": {"identified"}, "impact": {""}, "message": {"Rolling back."},
			"component_" + itoa(viaUI): {"partial_outage"},
		})
		idFromLocation(t, res, "/admin/incidents/")
		mid := eventCount(t, s)
		decodeAPI[incidentAPIJSON](t, apiCall(t, s, writer, http.MethodPost, "/api/v1/incidents", fmt.Sprintf(
			`{"incident":{"name":"Errors","status":"identified","body":"Rolling back.","components":{"%d":"partial_outage"}}}`, viaAPI)), http.StatusCreated)

		evs, err := s.Store.Events(t.Context(), models.EventFilter{})
		modelstest.Fatal(t, err, "events")
		// Events of one transaction share a millisecond, so their ids do
		// not order them: compare by type.
		ui, api := evs[n:mid], evs[mid:]
		byType := func(a, b models.Event) int { return strings.Compare(string(a.Type), string(b.Type)) }
		slices.SortFunc(ui, byType)
		slices.SortFunc(api, byType)
		if len(ui) != 2 || len(api) != len(ui) {
			t.Fatalf("admin wrote %d events, API %d; want 2 each", len(ui), len(api))
		}
		for i := range ui {
			if ui[i].Type != api[i].Type {
				t.Errorf("event %d: admin %s, API %s", i, ui[i].Type, api[i].Type)
			}
			var a, b map[string]any
			modelstest.Fatal(t, json.Unmarshal([]byte(ui[i].Data), &a), "decode")
			modelstest.Fatal(t, json.Unmarshal([]byte(api[i].Data), &b), "decode")
			if ka, kb := slices.Sorted(maps.Keys(a)), slices.Sorted(maps.Keys(b)); !slices.Equal(ka, kb) {
				t.Errorf("%s keys: admin %v, API %v", ui[i].Type, ka, kb)
			}
			for _, k := range []string{"title", "status", "severity", "message", "resolvedAt", "previousStatus", "newStatus"} {
				if fmt.Sprint(a[k]) != fmt.Sprint(b[k]) {
					t.Errorf("%s %s: admin %v, API %v", ui[i].Type, k, a[k], b[k])
				}
			}
		}
	})
}
