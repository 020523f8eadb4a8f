package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/handlers/api"
	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// allTables are every table a write could touch.
var allTables = []string{"components", "component_groups", "component_status_changes", "incidents", "incident_updates",
	"incident_update_components", "incident_components", "maintenances", "maintenance_components", "channels",
	"deliveries", "delivery_attempts", "events", "audit_log", "idempotency_keys", "pages", "users", "invitations",
	"subscribers", "subscriber_components", "subscriber_deliveries", "subscriber_fanouts"}

// settleFanOut waits until the engine has expanded every queued event
// into subscriber deliveries: it does so on its own, with or without
// SMTP, so a count of rows taken meanwhile would move without any
// request.
func settleFanOut(t *testing.T, s *webtest.Server) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		n, err := s.Store.PendingSubscriberFanouts(context.Background())
		modelstest.Fatal(t, err, "pending fan-outs")
		if n == 0 || time.Now().After(deadline) {
			return
		}
	}
}

func snapshotTables(t *testing.T, s *webtest.Server) map[string]int {
	t.Helper()
	settleFanOut(t, s)
	db, err := s.Store.SQLDB()
	modelstest.Fatal(t, err, "sql db")
	out := map[string]int{}
	for _, table := range allTables {
		var n int
		modelstest.Fatal(t, db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n), "count %s", table)
		out[table] = n
	}
	return out
}

// TestAPIEveryWriteEndpointRefusesMalformedBodies sends malformed bodies
// to every write endpoint the API documents, and asserts a 4xx JSON error
// and not one row written anywhere.
func TestAPIEveryWriteEndpointRefusesMalformedBodies(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		ctx := context.Background()
		c := s.SetUp(t)
		_, token := createWideToken(t, c, "Everything", models.Scopes...)

		// One of everything, so every path has an object to aim at.
		rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
		defer rc.Close()
		g, err := s.Store.CreateGroup(ctx, models.DefaultPageID, models.GroupInput{Name: "Core"})
		modelstest.Fatal(t, err, "group")
		comp, err := s.Store.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Visible: true, Status: models.StatusOperational})
		modelstest.Fatal(t, err, "component")
		inc, err := s.Store.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Errors", Status: models.IncidentInvestigating, Message: "Looking."})
		modelstest.Fatal(t, err, "incident")
		m, err := s.Store.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "Upgrade",
			WindowStart: time.Now().Add(24 * time.Hour), WindowEnd: time.Now().Add(25 * time.Hour)})
		modelstest.Fatal(t, err, "maintenance")
		ch, err := s.Store.CreateChannel(ctx, models.DefaultPageID, models.ChannelInput{Type: models.ChannelWebhook, Name: "R", URL: rc.URL, Enabled: true})
		modelstest.Fatal(t, err, "channel")
		res, err := s.Engine.SendTest(ctx, ch, models.EventIncidentCreated)
		modelstest.Fatal(t, err, "delivery")
		ids := map[string]string{"components": fmt.Sprint(comp.ID), "groups": fmt.Sprint(g.ID), "incidents": fmt.Sprint(inc.ID),
			"maintenance": fmt.Sprint(m.ID), "channels": fmt.Sprint(ch.ID)}
		time.Sleep(100 * time.Millisecond) // let the engine settle the test delivery

		bodies := []struct{ name, contentType, body string }{
			{"truncated JSON", "application/json", `{"name": "x"`},
			{"an array", "application/json", `[]`},
			{"a string", "application/json", `"name"`},
			{"null", "application/json", `null`},
			{"two objects", "application/json", `{}{}`},
			{"unknown field", "application/json", `{"zzz_unknown": 1}`},
			{"wrong content type", "text/plain", `{"name": "x"}`},
			{"form encoding", "application/x-www-form-urlencoded", `name=x`},
			{"over 1 MiB", "application/json", `{"name": "` + strings.Repeat("a", 1<<20) + `"}`},
			{"invalid UTF-8", "application/json", "{\"name\": \"\xff\xfe\"}"},
			{"lone UTF-16 surrogate", "application/json", `{"name": "\ud800"}`},
		}
		n := 0
		for _, op := range api.APIOperations() {
			method, path, _ := strings.Cut(op, " ")
			if method == http.MethodGet {
				continue
			}
			resource := strings.Split(strings.TrimPrefix(path, "/api/v1/"), "/")[0]
			path = strings.Replace(path, ":id", ids[resource], 1)
			path = strings.Replace(path, ":did", res.Delivery.ID, 1)
			for _, b := range bodies {
				before := snapshotTables(t, s)
				got := apiSend(t, s, token, method, path, b.contentType, strings.NewReader(b.body), nil)
				if got.Status < 400 || got.Status >= 500 {
					t.Errorf("%s %s with %s: %d, want a 4xx\n%.300s", method, path, b.name, got.Status, got.Body)
					continue
				}
				after := snapshotTables(t, s)
				for table, count := range after {
					if count != before[table] {
						t.Errorf("%s %s with %s: %d, and %s went from %d to %d rows", method, path, b.name, got.Status, table, before[table], count)
					}
				}
				n++
			}
		}
		if n < 100 {
			t.Errorf("only %d malformed requests were checked", n)
		}
	})
}
