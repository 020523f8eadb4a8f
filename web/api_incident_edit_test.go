package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// lastAudit is the newest audit row.
func lastAudit(t *testing.T, s *webtest.Server) models.AuditEntry {
	t.Helper()
	rows, err := s.Store.AuditEntries(t.Context(), models.AuditFilter{})
	modelstest.Fatal(t, err, "audit entries")
	if len(rows) == 0 {
		t.Fatal("no audit rows")
	}
	return rows[0]
}

// PATCH corrects an incident's name and an update's body: marked edited,
// audited under the token, announced only with deliver_notifications.
func TestAPICorrectIncident(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, writer, reader, other := incidentTokens(t, s)
		id := openIncident(t, s, models.DefaultPageID, "API erorrs", nil)
		path := "/api/v1/incidents/" + itoa(id)
		inc := decodeAPI[incidentAPIJSON](t, apiCall(t, s, reader, http.MethodGet, path, ""), http.StatusOK)
		updatePath := path + "/updates/" + inc.IncidentUpdates[0].ID
		if strings.Contains(apiCall(t, s, reader, http.MethodGet, path, "").Body, `"name_edited_at":"`) {
			t.Fatal("a fresh incident has name_edited_at set")
		}

		before := eventCount(t, s)
		inc = decodeAPI[incidentAPIJSON](t, apiCall(t, s, writer, http.MethodPatch, path, `{"incident":{"name":"API errors"}}`), http.StatusOK)
		if inc.Name != "API errors" {
			t.Fatalf("after PATCH name: %+v", inc)
		}
		res := apiCall(t, s, reader, http.MethodGet, path, "")
		if !strings.Contains(res.Body, `"name_edited_at":"`) {
			t.Fatalf("name_edited_at missing: %s", res.Body)
		}
		if a := lastAudit(t, s); a.Action != "incident.edit" || a.ActorType != models.ActorToken || !strings.Contains(a.Before, "API erorrs") {
			t.Fatalf("audit row %+v", a)
		}
		u := decodeAPI[incidentUpdateAPIJSON](t, apiCall(t, s, writer, http.MethodPatch, updatePath,
			`{"incident_update":{"body":"Looking into it, **carefully**."}}`), http.StatusOK)
		if u.Body != "Looking into it, **carefully**." || u.Status != "investigating" {
			t.Fatalf("corrected update %+v", u)
		}
		if a := lastAudit(t, s); a.Action != "incident.edit_update" || !strings.Contains(a.After, "carefully") {
			t.Fatalf("audit row %+v", a)
		}
		if n := eventCount(t, s); n != before {
			t.Fatalf("silent corrections fired %d events", n-before)
		}

		// deliver_notifications: true announces each correction once.
		decodeAPI[incidentUpdateAPIJSON](t, apiCall(t, s, writer, http.MethodPatch, updatePath,
			`{"body":"Looking into it.","deliver_notifications":true}`), http.StatusOK)
		decodeAPI[incidentAPIJSON](t, apiCall(t, s, writer, http.MethodPatch, path,
			`{"name":"Elevated API errors","deliver_notifications":true}`), http.StatusOK)
		if evs := eventsAfter(t, s, before); len(evs) != 2 || countTypes(evs, models.EventIncidentUpdated) != 2 {
			t.Fatalf("announced corrections fired %v, want two incident.updated", evs)
		}
		got := decodeAPI[incidentAPIJSON](t, apiCall(t, s, reader, http.MethodGet, path, ""), http.StatusOK)
		if got.Name != "Elevated API errors" || got.IncidentUpdates[0].Body != "Looking into it." {
			t.Fatalf("after corrections: %+v", got)
		}
		if !strings.Contains(apiCall(t, s, reader, http.MethodGet, path, "").Body, `"edited_at":"`) {
			t.Fatal("the corrected update has no edited_at")
		}

		// Resolved incidents can be corrected too.
		decodeAPI[incidentAPIJSON](t, apiCall(t, s, writer, http.MethodPost, path+"/resolve", ""), http.StatusOK)
		decodeAPI[incidentAPIJSON](t, apiCall(t, s, writer, http.MethodPatch, path, `{"name":"Elevated API error rates"}`), http.StatusOK)

		theirs := openIncident(t, s, otherPage(t, s), "Not yours", nil)
		otherInc := openIncident(t, s, models.DefaultPageID, "Other", nil)
		otherJSON := decodeAPI[incidentAPIJSON](t, apiCall(t, s, reader, http.MethodGet, "/api/v1/incidents/"+itoa(otherInc), ""), http.StatusOK)
		wantRefused(t, s, []refusedCall{
			{"blank name", writer, "PATCH", path, `{"name":"  "}`, "", 422, "validation_failed", "name"},
			{"long name", writer, "PATCH", path, `{"name":"` + strings.Repeat("n", 201) + `"}`, "", 422, "validation_failed", "name"},
			{"NUL in name", writer, "PATCH", path, `{"name":"a\u0000b"}`, "", 422, "validation_failed", "name"},
			{"name is null", writer, "PATCH", path, `{"name":null}`, "", 400, "invalid_type", "name"},
			{"name with a bad postmortem", writer, "PATCH", path, `{"name":"Fine","postmortem_body":"a\u0000b"}`, "", 422, "validation_failed", "postmortem_body"},
			{"deliver_notifications not a bool", writer, "PATCH", path, `{"name":"x","deliver_notifications":"yes"}`, "", 400, "invalid_type", "deliver_notifications"},
			{"blank body", writer, "PATCH", updatePath, `{"body":" "}`, "", 422, "validation_failed", "body"},
			{"missing body", writer, "PATCH", updatePath, `{}`, "", 422, "validation_failed", "body"},
			{"long body", writer, "PATCH", updatePath, `{"body":"` + strings.Repeat("b", 50_001) + `"}`, "", 422, "validation_failed", "body"},
			{"NUL in body", writer, "PATCH", updatePath, `{"body":"a\u0000b"}`, "", 422, "validation_failed", "body"},
			{"status of an update", writer, "PATCH", updatePath, `{"body":"x","status":"resolved"}`, "", 400, "unknown_field", "status"},
			{"malformed JSON", writer, "PATCH", updatePath, `{"body":`, "", 400, "invalid_json", ""},
			{"unknown update", writer, "PATCH", path + "/updates/99999", `{"body":"x"}`, "", 404, "not_found", ""},
			{"non-numeric update", writer, "PATCH", path + "/updates/x", `{"body":"x"}`, "", 404, "not_found", ""},
			{"another incident's update", writer, "PATCH", path + "/updates/" + otherJSON.IncidentUpdates[0].ID, `{"body":"x"}`, "", 404, "not_found", ""},
			{"unknown incident", writer, "PATCH", "/api/v1/incidents/99999", `{"name":"x"}`, "", 404, "not_found", ""},
			{"another page's incident", writer, "PATCH", "/api/v1/incidents/" + itoa(theirs), `{"name":"x"}`, "", 404, "not_found", ""},
			{"no token", "", "PATCH", updatePath, `{"body":"x"}`, "", 401, "unauthorized", ""},
			{"read-only token", reader, "PATCH", updatePath, `{"body":"x"}`, "", 403, "forbidden", ""},
			{"maintenance token", other, "PATCH", path, `{"name":"x"}`, "", 403, "forbidden", ""},
		})
	})
}
