package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/web/webtest"
)

type maintenanceWithUpdatesJSON struct {
	maintenanceAPIJSON
	IncidentUpdates []struct {
		ID        string `json:"id"`
		Status    string `json:"status"`
		Body      string `json:"body"`
		CreatedAt string `json:"created_at"`
	} `json:"incident_updates"`
}

// A window in progress gets a new end by PATCH scheduled_until or with an
// update; updates are posted as on Statuspage; channels hear of either
// only with deliver_notifications: true.
func TestAPIExtendMaintenanceAndPostUpdates(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, writer, reader, other := maintenanceTokens(t, s)
		db := addComponent(t, s, "Database", models.StatusOperational)
		id := planMaintenance(t, s, models.DefaultPageID, "Failover drill", time.Now().UTC().Add(-time.Minute), db)
		path := "/api/v1/maintenance/" + itoa(id)
		fresh := decodeAPI[maintenanceWithUpdatesJSON](t, apiCall(t, s, reader, http.MethodGet, path, ""), http.StatusOK)
		if fresh.IncidentUpdates == nil || len(fresh.IncidentUpdates) != 0 || fresh.Status != "in_progress" {
			t.Fatalf("fresh window: %+v, want in progress with incident_updates: []", fresh)
		}

		before := eventCount(t, s)
		newEnd := time.Now().UTC().Add(3 * time.Hour).Truncate(time.Second)
		m := decodeAPI[maintenanceWithUpdatesJSON](t, apiCall(t, s, writer, http.MethodPatch, path,
			`{"scheduled_maintenance":{"scheduled_until":"`+newEnd.Format(time.RFC3339)+`"}}`), http.StatusOK)
		if m.ScheduledUntil != apiTime(newEnd) || m.Status != "in_progress" || len(m.IncidentUpdates) != 0 {
			t.Fatalf("after PATCH scheduled_until: %+v", m)
		}
		if a := lastAudit(t, s); a.Action != "maintenance.extend" || a.ActorType != models.ActorToken {
			t.Fatalf("audit row %+v", a)
		}
		if n := eventCount(t, s); n != before {
			t.Fatalf("a silent extension fired %d events", n-before)
		}
		tr, err := s.Store.RunMaintenanceTransitions(t.Context())
		if err != nil || tr.Completed != 0 || componentStatus(t, s, db) != models.StatusUnderMaintenance {
			t.Fatalf("scheduler after extending: %+v %v", tr, err)
		}

		later := newEnd.Add(time.Hour)
		m = decodeAPI[maintenanceWithUpdatesJSON](t, apiCall(t, s, writer, http.MethodPost, path+"/updates",
			`{"incident_update":{"body":"The copy is slower than planned.","scheduled_until":"`+later.Format(time.RFC3339)+`","deliver_notifications":true}}`), http.StatusCreated)
		if m.ScheduledUntil != apiTime(later) || len(m.IncidentUpdates) != 1 || m.IncidentUpdates[0].Body != "The copy is slower than planned." ||
			m.IncidentUpdates[0].Status != "in_progress" {
			t.Fatalf("after POST update: %+v", m)
		}
		decodeAPI[maintenanceWithUpdatesJSON](t, apiCall(t, s, writer, http.MethodPost, path+"/updates", `{"body":"Nearly there."}`), http.StatusCreated)
		if evs := eventsAfter(t, s, before); len(evs) != 1 || evs[0] != models.EventMaintenanceUpdated {
			t.Fatalf("events %v, want one maintenance.updated", evs)
		}

		scheduled := planMaintenance(t, s, models.DefaultPageID, "Later", time.Now().UTC().Add(5*time.Hour))
		done := planMaintenance(t, s, models.DefaultPageID, "Done", time.Now().UTC().Add(-time.Minute))
		if res := apiCall(t, s, writer, http.MethodPost, "/api/v1/maintenance/"+itoa(done)+"/complete", ""); res.Status != http.StatusOK {
			t.Fatalf("complete: %d", res.Status)
		}
		theirs := planMaintenance(t, s, otherPage(t, s), "Not yours", time.Now().UTC().Add(-time.Minute))
		past := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
		future := time.Now().UTC().Add(9 * time.Hour).Format(time.RFC3339)
		wantRefused(t, s, []refusedCall{
			{"end in the past", writer, "PATCH", path, `{"scheduled_until":"` + past + `"}`, "", 422, "validation_failed", "scheduled_until"},
			{"bad time", writer, "POST", path + "/updates", `{"scheduled_until":"tomorrow"}`, "", 422, "validation_failed", "scheduled_until"},
			{"other fields in progress", writer, "PATCH", path, `{"name":"x","scheduled_until":"` + future + `"}`, "", 409, "conflict", ""},
			{"empty update", writer, "POST", path + "/updates", `{"body":"  "}`, "", 422, "validation_failed", "body"},
			{"too long", writer, "POST", path + "/updates", `{"body":"` + strings.Repeat("b", 50_001) + `"}`, "", 422, "validation_failed", "body"},
			{"NUL", writer, "POST", path + "/updates", `{"body":"a\u0000b"}`, "", 422, "validation_failed", "body"},
			{"unknown field", writer, "POST", path + "/updates", `{"body":"x","status":"completed"}`, "", 400, "unknown_field", "status"},
			{"end of a window not started", writer, "POST", "/api/v1/maintenance/" + itoa(scheduled) + "/updates", `{"scheduled_until":"` + future + `"}`, "", 409, "conflict", ""},
			{"completed window", writer, "POST", "/api/v1/maintenance/" + itoa(done) + "/updates", `{"body":"x"}`, "", 409, "conflict", ""},
			{"extend a completed window", writer, "PATCH", "/api/v1/maintenance/" + itoa(done), `{"scheduled_until":"` + future + `"}`, "", 409, "conflict", ""},
			{"missing", writer, "POST", "/api/v1/maintenance/99999/updates", `{"body":"x"}`, "", 404, "not_found", ""},
			{"another page's", writer, "POST", "/api/v1/maintenance/" + itoa(theirs) + "/updates", `{"body":"x"}`, "", 404, "not_found", ""},
			{"no token", "", "POST", path + "/updates", `{"body":"x"}`, "", 401, "unauthorized", ""},
			{"read-only token", reader, "POST", path + "/updates", `{"body":"x"}`, "", 403, "forbidden", ""},
			{"incidents token", other, "POST", path + "/updates", `{"body":"x"}`, "", 403, "forbidden", ""},
		})
		// A scheduled window takes updates too.
		m = decodeAPI[maintenanceWithUpdatesJSON](t, apiCall(t, s, writer, http.MethodPost, "/api/v1/maintenance/"+itoa(scheduled)+"/updates", `{"body":"On track."}`), http.StatusCreated)
		if len(m.IncidentUpdates) != 1 || m.IncidentUpdates[0].Status != "scheduled" {
			t.Fatalf("scheduled window update: %+v", m)
		}
	})
}
