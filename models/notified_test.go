package models_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

// An unticked "Notify channels" saves and shows the change but writes no
// event; CountNotified counts the enabled channels that do hear of one.
func TestSilentChangesAndNotifiedCount(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := models.WithActor(context.Background(), auditAdmin)
		comp, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Visible: true, Status: models.StatusOperational})
		modelstest.Fatal(t, err, "component")
		channel := func(name string, enabled bool, events ...models.EventType) {
			t.Helper()
			_, err := s.CreateChannel(ctx, models.DefaultPageID, models.ChannelInput{Type: models.ChannelWebhook, Name: name,
				URL: "https://hooks.example.com/" + name, Enabled: enabled, Events: events})
			modelstest.Fatal(t, err, "channel %s", name)
		}
		channel("all", true)
		channel("incidents", true, models.EventIncidentCreated, models.EventIncidentUpdated)
		channel("components", true, models.EventComponentStatusChanged)
		channel("maintenance", true, models.EventMaintenanceScheduled)
		channel("off", false)

		// Announced: incident.created reaches "all" and "incidents", the
		// component.status_changed "components" too; the disabled one
		// does not count.
		counted, n := models.CountNotified(ctx)
		inc, err := s.CreateIncident(counted, models.DefaultPageID, models.IncidentInput{Title: "Errors", Status: models.IncidentInvestigating,
			Message: "Looking.", Components: map[int64]models.ComponentStatus{comp.ID: models.StatusMajorOutage}})
		modelstest.Fatal(t, err, "create")
		if n.Channels() != 3 {
			t.Fatalf("announced incident notified %d channels, want 3", n.Channels())
		}

		// Silent update: the status and component change, no event.
		before := countEvents(t, s)
		clock.Add(time.Minute)
		counted, n = models.CountNotified(ctx)
		_, err = s.PostIncidentUpdate(counted, inc.ID, models.IncidentUpdateInput{Status: models.IncidentIdentified, Message: "Found it.",
			Components: map[int64]models.ComponentStatus{comp.ID: models.StatusPartialOutage}, Silent: true, QuietSubscribers: true})
		modelstest.Fatal(t, err, "silent update")
		if n.Channels() != 0 {
			t.Fatalf("silent update notified %d channels", n.Channels())
		}
		if after := countEvents(t, s); len(after) != len(before) || after[models.EventIncidentUpdated] != before[models.EventIncidentUpdated] ||
			after[models.EventComponentStatusChanged] != before[models.EventComponentStatusChanged] {
			t.Fatalf("events after a silent update = %v, want %v", after, before)
		}
		loaded, err := s.Incident(ctx, inc.ID)
		modelstest.Fatal(t, err, "load")
		got, err := s.Component(ctx, comp.ID)
		modelstest.Fatal(t, err, "component")
		if loaded.Status != models.IncidentIdentified || len(loaded.Updates) != 2 || got.Status != models.StatusPartialOutage {
			t.Fatalf("silent update not saved: %s, %d updates, component %s", loaded.Status, len(loaded.Updates), got.Status)
		}

		// Silent incident: live, components set, nothing written to the outbox.
		before = countEvents(t, s)
		counted, n = models.CountNotified(ctx)
		quiet, err := s.CreateIncident(counted, models.DefaultPageID, models.IncidentInput{Title: "Quiet", Status: models.IncidentMonitoring,
			Message: "Watching.", Components: map[int64]models.ComponentStatus{comp.ID: models.StatusDegradedPerformance}, Silent: true, QuietSubscribers: true})
		modelstest.Fatal(t, err, "silent create")
		if after := countEvents(t, s); n.Channels() != 0 || len(after) != len(before) ||
			after[models.EventComponentStatusChanged] != before[models.EventComponentStatusChanged] {
			t.Fatalf("silent incident: %d channels, events %v, want %v", n.Channels(), after, before)
		}
		if quiet.Backfilled || quiet.Status != models.IncidentMonitoring {
			t.Fatalf("silent incident = %+v, want live", quiet)
		}
		rows := newAuditRows(t, s, 0)
		if last := rows[len(rows)-1]; last.Action != "incident.create" || last.Summary == "" ||
			!strings.Contains(last.Summary, "channels not notified") {
			t.Fatalf("audit of silent incident = %+v", last)
		}

		// Maintenance: announced to "all" and "maintenance"; silent to none.
		start := clock.Now().Add(time.Hour)
		counted, n = models.CountNotified(ctx)
		_, err = s.ScheduleMaintenance(counted, models.DefaultPageID, models.MaintenanceInput{Title: "DB", WindowStart: start, WindowEnd: start.Add(time.Hour)})
		modelstest.Fatal(t, err, "schedule")
		if n.Channels() != 2 {
			t.Fatalf("scheduled maintenance notified %d channels, want 2", n.Channels())
		}
		before = countEvents(t, s)
		counted, n = models.CountNotified(ctx)
		_, err = s.ScheduleMaintenance(counted, models.DefaultPageID, models.MaintenanceInput{Title: "DB 2", WindowStart: start, WindowEnd: start.Add(time.Hour), Silent: true, QuietSubscribers: true})
		modelstest.Fatal(t, err, "silent schedule")
		if after := countEvents(t, s); n.Channels() != 0 || after[models.EventMaintenanceScheduled] != before[models.EventMaintenanceScheduled] {
			t.Fatalf("silent maintenance: %d channels, events %v", n.Channels(), after)
		}
	})
}
