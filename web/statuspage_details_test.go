package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// v2Body GETs /api/v2/<name> and decodes it loosely, so that null and []
// stay distinguishable.
func v2Body(t *testing.T, s *webtest.Server, name string) (map[string]any, string) {
	t.Helper()
	resp, body := fetch(t, s.URL+"/api/v2/"+name, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v2/%s: %d\n%s", name, resp.StatusCode, body)
	}
	var out map[string]any
	modelstest.Fatal(t, json.Unmarshal(body, &out), "decode /api/v2/%s", name)
	return out, string(body)
}

// v2Objects lists the objects under key of /api/v2/<name>.
func v2Objects(t *testing.T, s *webtest.Server, name, key string) []map[string]any {
	t.Helper()
	body, _ := v2Body(t, s, name)
	list, ok := body[key].([]any)
	if !ok {
		t.Fatalf("/api/v2/%s: %s is %T, want an array", name, key, body[key])
	}
	out := make([]map[string]any, len(list))
	for i, o := range list {
		out[i], _ = o.(map[string]any)
	}
	return out
}

// v2Find is the object with id in list, or nil.
func v2Find(list []map[string]any, id int64) map[string]any {
	for _, o := range list {
		if o["id"] == itoa(id) {
			return o
		}
	}
	return nil
}

// wantUpdatesAffectedArrays checks that every update of every incident
// and maintenance on every /api/v2 endpoint has affected_components as
// an array, never null.
func wantUpdatesAffectedArrays(t *testing.T, s *webtest.Server) {
	t.Helper()
	for _, ep := range []struct{ name, key string }{
		{"summary.json", "incidents"}, {"summary.json", "scheduled_maintenances"},
		{"incidents.json", "incidents"}, {"incidents/unresolved.json", "incidents"},
		{"scheduled-maintenances.json", "scheduled_maintenances"},
		{"scheduled-maintenances/upcoming.json", "scheduled_maintenances"},
		{"scheduled-maintenances/active.json", "scheduled_maintenances"},
	} {
		for _, obj := range v2Objects(t, s, ep.name, ep.key) {
			updates, _ := obj["incident_updates"].([]any)
			for _, u := range updates {
				up, _ := u.(map[string]any)
				if _, ok := up["affected_components"].([]any); !ok {
					t.Errorf("%s %s %v update %v: affected_components = %v, want an array", ep.name, ep.key, obj["id"], up["id"], up["affected_components"])
				}
			}
		}
	}
}

// v2Impact is the impact of incident id in incidents.json.
func v2Impact(t *testing.T, s *webtest.Server, id int64) string {
	t.Helper()
	inc := v2Find(v2Objects(t, s, "incidents.json", "incidents"), id)
	if inc == nil {
		t.Fatalf("incident %d not in incidents.json", id)
	}
	return fmt.Sprint(inc["impact"])
}

func TestIncidentImpactFollowsComponentsUnlessChosen(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		api := addComponent(t, s, "API", models.StatusOperational)
		db := addComponent(t, s, "Database", models.StatusOperational)
		secret, err := s.Store.CreateComponent(t.Context(), models.DefaultPageID, models.ComponentInput{Name: "Secret vault", Status: models.StatusOperational})
		modelstest.Fatal(t, err, "create hidden component")

		id := idFromLocation(t, c.Submit("/admin/incidents/new", "/admin/incidents", url.Values{
			"title": {"Slow API"}, "status": {"investigating"}, "impact": {""}, "message": {"Looking."},
			"component_" + itoa(api): {"degraded_performance"},
		}), "/admin/incidents/")
		update := func(impact string, comps map[int64]string) {
			t.Helper()
			form := url.Values{"status": {"identified"}, "impact": {impact}, "message": {"More news."}}
			for cid, st := range comps {
				form.Set("component_"+itoa(cid), st)
			}
			res := c.Submit(fmt.Sprintf("/admin/incidents/%d", id), fmt.Sprintf("/admin/incidents/%d/updates", id), form)
			if res.Status != http.StatusSeeOther {
				t.Fatalf("post update: %d\n%s", res.Status, res.Body)
			}
		}
		steps := []struct {
			name   string
			impact string // the admin's choice; "" is Automatic
			comps  map[int64]string
			want   string
		}{
			{"first update derives it", "", nil, "minor"},
			{"a worse component raises it", "", map[int64]string{db: "partial_outage"}, "major"},
			{"a hidden component's outage never counts", "", map[int64]string{secret.ID: "major_outage"}, "major"},
			{"the worst visible component", "", map[int64]string{api: "major_outage"}, "critical"},
			{"recovery lowers it", "", map[int64]string{api: "degraded_performance", db: "operational"}, "minor"},
			{"an explicit choice sticks", "none", map[int64]string{api: "major_outage"}, "none"},
			{"and keeps sticking", "none", map[int64]string{db: "partial_outage"}, "none"},
			{"automatic again follows", "", nil, "critical"},
		}
		for i, step := range steps {
			if i > 0 { // step 0 is the creation itself
				update(step.impact, step.comps)
			}
			if got := v2Impact(t, s, id); got != step.want {
				t.Fatalf("%s: impact %q, want %q", step.name, got, step.want)
			}
		}
		// An explicit impact preselects itself in the update form; an
		// automatic one preselects Automatic.
		update("major", nil)
		if page := c.Get(fmt.Sprintf("/admin/incidents/%d", id)).Body; !strings.Contains(page, `<option value="major" selected`) {
			t.Errorf("update form does not preselect the chosen impact")
		}
		update("", nil)
		page := c.Get(fmt.Sprintf("/admin/incidents/%d", id)).Body
		if !strings.Contains(page, `<option value="" selected`) || !strings.Contains(page, "Automatic (follows components)") {
			t.Errorf("update form does not preselect Automatic")
		}

		// Resolving sets the components back to operational but keeps the
		// impact, so the history shows how bad it was.
		res := c.Submit(fmt.Sprintf("/admin/incidents/%d", id), fmt.Sprintf("/admin/incidents/%d/resolve", id), url.Values{"message": {"Fixed."}})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("resolve: %d\n%s", res.Status, res.Body)
		}
		if got := v2Impact(t, s, id); got != "critical" {
			t.Errorf("after resolving: impact %q, want critical kept", got)
		}
		if strings.Contains(c.Get("/api/v2/incidents.json").Body, "Secret vault") {
			t.Error("hidden component named in incidents.json")
		}
	})
}

func TestAPIImpactOverrideIsExplicit(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, writer, _, _ := incidentTokens(t, s)
		api := addComponent(t, s, "API", models.StatusOperational)

		create := func(body string) int64 {
			t.Helper()
			inc := decodeAPI[incidentAPIJSON](t, apiCall(t, s, writer, http.MethodPost, "/api/v1/incidents", body), http.StatusCreated)
			id, err := strconv.ParseInt(inc.ID, 10, 64)
			modelstest.Fatal(t, err, "incident id %q", inc.ID)
			return id
		}
		post := func(id int64, body string) {
			t.Helper()
			decodeAPI[incidentUpdateAPIJSON](t, apiCall(t, s, writer, http.MethodPost, "/api/v1/incidents/"+itoa(id)+"/updates", body), http.StatusCreated)
		}
		chosen := create(fmt.Sprintf(`{"name":"Chosen","body":"x","impact_override":"major","components":{"%d":"degraded_performance"}}`, api))
		auto := create(fmt.Sprintf(`{"name":"Auto","body":"x","components":{"%d":"degraded_performance"}}`, api))
		if a, b := v2Impact(t, s, chosen), v2Impact(t, s, auto); a != "major" || b != "minor" {
			t.Fatalf("after create: chosen %q auto %q, want major minor", a, b)
		}
		post(chosen, fmt.Sprintf(`{"body":"worse","components":{"%d":"major_outage"}}`, api))
		post(auto, fmt.Sprintf(`{"body":"worse","components":{"%d":"major_outage"}}`, api))
		if a, b := v2Impact(t, s, chosen), v2Impact(t, s, auto); a != "major" || b != "critical" {
			t.Fatalf("after a worse update: chosen %q auto %q, want major (kept) critical (followed)", a, b)
		}
		// impact_override on an update makes it explicit from then on.
		post(auto, fmt.Sprintf(`{"body":"calmer","impact_override":"minor","components":{"%d":"major_outage"}}`, api))
		post(auto, `{"body":"still"}`)
		if got := v2Impact(t, s, auto); got != "minor" {
			t.Fatalf("after impact_override: %q, want minor", got)
		}

		updates := "/api/v1/incidents/" + itoa(auto) + "/updates"
		wantRefused(t, s, []refusedCall{
			{"create: impact_override a number", writer, "POST", "/api/v1/incidents", `{"name":"x","body":"x","impact_override":3}`, "", 400, "invalid_type", "impact_override"},
			{"create: impact_override null", writer, "POST", "/api/v1/incidents", `{"name":"x","body":"x","impact_override":null}`, "", 400, "invalid_type", "impact_override"},
			{"create: impact_override unknown", writer, "POST", "/api/v1/incidents", `{"name":"x","body":"x","impact_override":"apocalyptic"}`, "", 422, "validation_failed", "impact_override"},
			{"create: impact_override empty", writer, "POST", "/api/v1/incidents", `{"name":"x","body":"x","impact_override":""}`, "", 422, "validation_failed", "impact_override"},
			{"create: impact_override maintenance", writer, "POST", "/api/v1/incidents", `{"name":"x","body":"x","impact_override":"maintenance"}`, "", 422, "validation_failed", "impact_override"},
			{"update: impact_override a list", writer, "POST", updates, `{"body":"x","impact_override":["major"]}`, "", 400, "invalid_type", "impact_override"},
			{"update: impact_override unknown", writer, "POST", updates, `{"body":"x","impact_override":"Major"}`, "", 422, "validation_failed", "impact_override"},
			{"update: impact_override empty", writer, "POST", updates, `{"body":"x","impact_override":""}`, "", 422, "validation_failed", "impact_override"},
		})
		if got := v2Impact(t, s, auto); got != "minor" {
			t.Errorf("after refused requests: %q, want minor", got)
		}
	})
}

func TestPostmortemStatusInStatuspageJSON(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, writer, _, _ := incidentTokens(t, s)
		api := addComponent(t, s, "API", models.StatusOperational)
		done := openIncident(t, s, models.DefaultPageID, "Outage", map[int64]models.ComponentStatus{api: models.StatusMajorOutage})
		open := openIncident(t, s, models.DefaultPageID, "Ongoing", nil)
		_, err := s.Store.ResolveIncident(t.Context(), done, "")
		modelstest.Fatal(t, err, "resolve")

		patch := func(id int64, body string) {
			t.Helper()
			decodeAPI[incidentAPIJSON](t, apiCall(t, s, writer, http.MethodPatch, "/api/v1/incidents/"+itoa(id), body), http.StatusOK)
		}
		patch(done, `{"postmortem_body":"The disk filled up."}`)
		patch(open, `{"postmortem_body":"Early notes."}`)

		statusIn := func(name, key string, id int64) any {
			t.Helper()
			if o := v2Find(v2Objects(t, s, name, key), id); o != nil {
				return o["status"]
			}
			return nil
		}
		if got := statusIn("incidents.json", "incidents", done); got != "postmortem" {
			t.Errorf("incidents.json: resolved incident with a postmortem has status %v, want postmortem", got)
		}
		// An unresolved incident keeps its status, so unresolved.json and
		// summary.json list only the statuses of their scope.
		for _, ep := range []struct{ name, key string }{{"incidents.json", "incidents"}, {"incidents/unresolved.json", "incidents"}, {"summary.json", "incidents"}} {
			if got := statusIn(ep.name, ep.key, open); got != "investigating" {
				t.Errorf("%s: unresolved incident with a postmortem has status %v, want investigating", ep.name, got)
			}
			if ep.name != "incidents.json" && statusIn(ep.name, ep.key, done) != nil {
				t.Errorf("%s lists the resolved incident", ep.name)
			}
		}
		// The admin API and the public page keep saying resolved.
		inc := decodeAPI[incidentAPIJSON](t, apiCall(t, s, writer, http.MethodGet, "/api/v1/incidents/"+itoa(done), ""), http.StatusOK)
		if inc.Status != "resolved" || inc.PostmortemPublishedAt == nil {
			t.Errorf("/api/v1 incident: %s, postmortem at %v", inc.Status, inc.PostmortemPublishedAt)
		}
		if _, body := fetch(t, s.URL+"/incidents/"+itoa(done), nil); !strings.Contains(string(body), "Resolved") || !strings.Contains(string(body), "The disk filled up.") {
			t.Error("public permalink lost Resolved or the postmortem")
		}
		// Removing the postmortem makes it resolved again.
		patch(done, `{"postmortem_body":""}`)
		if got := statusIn("incidents.json", "incidents", done); got != "resolved" {
			t.Errorf("after removing the postmortem: %v, want resolved", got)
		}
		wantUpdatesAffectedArrays(t, s)
	})
}

func TestMaintenanceUpdatesInStatuspageJSONAndFeeds(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		ctx := t.Context()
		api := addComponent(t, s, "API", models.StatusOperational)
		secret, err := s.Store.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "Secret vault", Status: models.StatusOperational})
		modelstest.Fatal(t, err, "create hidden component")
		now := time.Now()
		m, err := s.Store.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "DB upgrade", Message: "New version.",
			ComponentIDs: []int64{api, secret.ID}, WindowStart: now.Add(-time.Minute), WindowEnd: now.Add(time.Hour), SetMaintenance: true})
		modelstest.Fatal(t, err, "schedule")
		before, err := s.Store.PostMaintenanceUpdate(ctx, m.ID, models.MaintenanceUpdateInput{Message: "Starting shortly."})
		modelstest.Fatal(t, err, "post update while scheduled")
		_, err = s.Store.RunMaintenanceTransitions(ctx)
		modelstest.Fatal(t, err, "start")
		during, err := s.Store.PostMaintenanceUpdate(ctx, m.ID, models.MaintenanceUpdateInput{Message: "Half **done**.\nGoing on."})
		modelstest.Fatal(t, err, "post update in progress")
		upcoming, err := s.Store.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "Later",
			WindowStart: now.Add(24 * time.Hour), WindowEnd: now.Add(25 * time.Hour)})
		modelstest.Fatal(t, err, "schedule upcoming")
		// An incident update without components, for the incident side.
		openIncident(t, s, models.DefaultPageID, "Quiet", nil)

		wantIDs := []string{itoa(during.Updates[0].ID), itoa(m.ID) + "-in_progress", itoa(before.Updates[0].ID), itoa(m.ID) + "-scheduled"}
		wantStatuses := []string{"in_progress", "in_progress", "scheduled", "scheduled"}
		for _, name := range []string{"scheduled-maintenances.json", "scheduled-maintenances/active.json", "summary.json"} {
			got := v2Find(v2Objects(t, s, name, "scheduled_maintenances"), m.ID)
			if got == nil {
				t.Fatalf("%s lacks maintenance %d", name, m.ID)
			}
			updates, _ := got["incident_updates"].([]any)
			if len(updates) != len(wantIDs) {
				t.Fatalf("%s: %d updates, want %d: %v", name, len(updates), len(wantIDs), updates)
			}
			for i, u := range updates {
				up := u.(map[string]any)
				if up["id"] != wantIDs[i] || up["status"] != wantStatuses[i] || up["incident_id"] != itoa(m.ID) {
					t.Errorf("%s update %d = %v %v, want %s %s", name, i, up["id"], up["status"], wantIDs[i], wantStatuses[i])
				}
			}
			if body := updates[0].(map[string]any)["body"]; body != "Half **done**.\r\nGoing on." {
				t.Errorf("%s newest body %q", name, body)
			}
		}
		if got := v2Find(v2Objects(t, s, "scheduled-maintenances/upcoming.json", "scheduled_maintenances"), upcoming.ID); got == nil ||
			len(got["incident_updates"].([]any)) != 1 {
			t.Errorf("upcoming window: %v", got)
		}
		wantUpdatesAffectedArrays(t, s)

		// The feeds carry the posted updates; the hidden component is on no
		// public surface.
		for _, p := range []string{"/history.atom", "/history.rss"} {
			_, body := fetch(t, s.URL+p, nil)
			feed := string(body)
			if !strings.Contains(feed, "Starting shortly.") || !strings.Contains(feed, "Half &lt;strong&gt;done&lt;/strong&gt;.") {
				t.Errorf("%s lacks the maintenance updates:\n%s", p, feed)
			}
		}
		for _, p := range []string{"/history.atom", "/history.rss", "/api/v2/summary.json", "/api/v2/scheduled-maintenances.json",
			"/api/v2/scheduled-maintenances/active.json", "/maintenance/" + itoa(m.ID)} {
			if _, body := fetch(t, s.URL+p, nil); strings.Contains(string(body), "Secret vault") {
				t.Errorf("%s names the hidden component", p)
			}
		}
	})
}
