package models_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

var t0 = time.Date(2026, 1, 14, 12, 0, 0, 0, time.UTC)

// eachClocked runs fn on both engines with a store on a settable clock.
func eachClocked(t *testing.T, fn func(t *testing.T, s *models.Store, clock *modelstest.Clock)) {
	for _, e := range modelstest.Engines {
		t.Run(string(e), func(t *testing.T) {
			clock := modelstest.NewClock(t0)
			s := modelstest.OpenWith(t, e, models.Options{Now: clock.Now, BaseURL: "https://status.example.com/"})
			fn(t, s, clock)
		})
	}
}

// lastEvent returns the newest event of typ and decodes its data into out.
func lastEvent(t *testing.T, s *models.Store, typ models.EventType, out any) models.Event {
	t.Helper()
	evs, err := s.Events(context.Background(), models.EventFilter{Type: typ})
	modelstest.Fatal(t, err, "events")
	if len(evs) == 0 {
		t.Fatalf("no %s event", typ)
	}
	ev := evs[len(evs)-1]
	if !strings.HasPrefix(ev.ID, "evt_") || len(ev.ID) != 4+26 {
		t.Fatalf("event id %q is not evt_ + ULID", ev.ID)
	}
	if ev.PageID != models.DefaultPageID || ev.Type != typ {
		t.Fatalf("event = %+v", ev)
	}
	if err := json.Unmarshal([]byte(ev.Data), out); err != nil {
		t.Fatalf("decode %s data %s: %v", typ, ev.Data, err)
	}
	return ev
}

func countEvents(t *testing.T, s *models.Store) map[models.EventType]int {
	t.Helper()
	evs, err := s.Events(context.Background(), models.EventFilter{})
	modelstest.Fatal(t, err, "events")
	out := map[models.EventType]int{}
	for _, e := range evs {
		out[e.Type]++
	}
	return out
}

func TestComponentEvents(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		c, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Visible: true, Status: models.StatusOperational})
		modelstest.Fatal(t, err, "create")
		var created models.ComponentData
		ev := lastEvent(t, s, models.EventComponentCreated, &created)
		if created != (models.ComponentData{ID: c.ID, Name: "API", NewStatus: "operational", UptimePercent: 100}) || !ev.OccurredAt.Equal(t0) {
			t.Fatalf("component.created = %+v at %v", created, ev.OccurredAt)
		}

		// Ten hours major outage after ten hours operational: 50 % over the tracked time.
		clock.Add(10 * time.Hour)
		_, err = s.SetComponentStatus(ctx, c.ID, models.StatusMajorOutage, models.SourceManual, nil)
		modelstest.Fatal(t, err, "outage")
		clock.Add(10 * time.Hour)
		_, err = s.SetComponentStatus(ctx, c.ID, models.StatusOperational, models.SourceManual, nil)
		modelstest.Fatal(t, err, "recover")
		var changed models.ComponentData
		lastEvent(t, s, models.EventComponentStatusChanged, &changed)
		if changed.PreviousStatus != "major_outage" || changed.NewStatus != "operational" || changed.UptimePercent != 50 {
			t.Fatalf("component.status_changed = %+v, want major_outage → operational at 50%%", changed)
		}

		modelstest.Fatal(t, s.DeleteComponent(ctx, c.ID), "delete")
		var deleted models.ComponentData
		lastEvent(t, s, models.EventComponentDeleted, &deleted)
		if deleted.ID != c.ID || deleted.Name != "API" || deleted.PreviousStatus != "operational" {
			t.Fatalf("component.deleted = %+v", deleted)
		}
		got := countEvents(t, s)
		want := map[models.EventType]int{models.EventComponentCreated: 1, models.EventComponentStatusChanged: 2, models.EventComponentDeleted: 1}
		if len(got) != len(want) {
			t.Fatalf("events = %v, want %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("events = %v, want %v", got, want)
			}
		}
	})
}

func TestIncidentEvents(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		api, _ := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Visible: true, Status: models.StatusOperational})
		web, _ := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "Web", Visible: true, Status: models.StatusOperational})
		before := countEvents(t, s)

		inc, err := s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{
			Title: "API errors", Status: models.IncidentInvestigating, Message: "We are investigating.",
			Components: map[int64]models.ComponentStatus{api.ID: models.StatusMajorOutage, web.ID: models.StatusDegradedPerformance},
		})
		modelstest.Fatal(t, err, "create incident")
		var d models.IncidentData
		lastEvent(t, s, models.EventIncidentCreated, &d)
		want := models.IncidentData{ID: inc.ID, Title: "API errors", Status: "investigating", Severity: "critical",
			Message: "We are investigating.", Components: []string{"API", "Web"}, StartedAt: t0,
			URL: "https://status.example.com/incidents/" + itoa(inc.ID)}
		if !sameIncidentData(d, want) {
			t.Fatalf("incident.created = %+v\nwant %+v", d, want)
		}
		if n := countEvents(t, s)[models.EventComponentStatusChanged] - before[models.EventComponentStatusChanged]; n != 2 {
			t.Fatalf("component.status_changed events from the incident = %d, want 2", n)
		}
		hist, _ := s.StatusChanges(ctx, api.ID)
		last := hist[len(hist)-1]
		if last.Source != models.SourceIncident || last.SourceID == nil || *last.SourceID != inc.ID {
			t.Fatalf("history row = %+v, want source incident #%d", last, inc.ID)
		}

		clock.Add(time.Hour)
		_, err = s.PostIncidentUpdate(ctx, inc.ID, models.IncidentUpdateInput{Status: models.IncidentIdentified,
			Message: "Found it.", Components: map[int64]models.ComponentStatus{api.ID: models.StatusPartialOutage}})
		modelstest.Fatal(t, err, "update")
		lastEvent(t, s, models.EventIncidentUpdated, &d)
		if d.Status != "identified" || d.Message != "Found it." || d.ResolvedAt != nil {
			t.Fatalf("incident.updated = %+v", d)
		}

		clock.Add(time.Hour)
		_, err = s.ResolveIncident(ctx, inc.ID, "")
		modelstest.Fatal(t, err, "resolve")
		lastEvent(t, s, models.EventIncidentResolved, &d)
		if d.Status != "resolved" || d.ResolvedAt == nil || !d.ResolvedAt.Equal(t0.Add(2*time.Hour)) {
			t.Fatalf("incident.resolved = %+v", d)
		}
		for _, id := range []int64{api.ID, web.ID} {
			c, _ := s.Component(ctx, id)
			if c.Status != models.StatusOperational {
				t.Fatalf("component %s after resolve: %s, want operational", c.Name, c.Status)
			}
		}
		got := countEvents(t, s)
		if got[models.EventIncidentCreated] != 1 || got[models.EventIncidentUpdated] != 1 || got[models.EventIncidentResolved] != 1 {
			t.Fatalf("incident events = %v", got)
		}
		// created: API, Web; update: API; resolve: API, Web.
		if n := got[models.EventComponentStatusChanged] - before[models.EventComponentStatusChanged]; n != 5 {
			t.Fatalf("component.status_changed from the incident = %d, want 5", n)
		}

		full, err := s.Incident(ctx, inc.ID)
		modelstest.Fatal(t, err, "load")
		if len(full.Updates) != 3 || full.Updates[0].Status != models.IncidentResolved || full.Updates[2].Status != models.IncidentInvestigating {
			t.Fatalf("timeline not newest first: %+v", full.Updates)
		}
		if len(full.Updates[2].Components) != 2 || full.Updates[2].Components[0].OldStatus != models.StatusOperational {
			t.Fatalf("first update's component statuses = %+v", full.Updates[2].Components)
		}
	})
}

func sameIncidentData(a, b models.IncidentData) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestBackfillNotifiesNoOne(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		api, _ := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Visible: true, Status: models.StatusOperational})
		before := countEvents(t, s)
		inc, err := s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{
			Title: "Last week's outage", Message: "It broke, we fixed it.", Backfill: true,
			StartedAt: t0.Add(-7 * 24 * time.Hour), ResolvedAt: t0.Add(-7*24*time.Hour + time.Hour),
			Components: map[int64]models.ComponentStatus{api.ID: models.StatusMajorOutage},
		})
		modelstest.Fatal(t, err, "backfill")
		if inc.Status != models.IncidentResolved || !inc.Backfilled || inc.ResolvedAt == nil {
			t.Fatalf("backfilled incident = %+v", inc)
		}
		after := countEvents(t, s)
		if len(after) != len(before) || after[models.EventComponentStatusChanged] != before[models.EventComponentStatusChanged] {
			t.Fatalf("back-fill wrote events: before %v after %v", before, after)
		}
		if c, _ := s.Component(ctx, api.ID); c.Status != models.StatusOperational {
			t.Fatalf("back-fill changed the component to %s", c.Status)
		}
		_, err = s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{
			Title: "Future", Message: "x", Backfill: true, StartedAt: t0.Add(-time.Hour), ResolvedAt: t0.Add(time.Hour)})
		assertFieldError(t, err, "resolved_at")
	})
}

func assertFieldError(t *testing.T, err error, field string) {
	t.Helper()
	ve, ok := err.(*models.ValidationError)
	if !ok {
		t.Fatalf("err = %v, want a validation error on %s", err, field)
	}
	if ve.Fields[field] == "" {
		t.Fatalf("fields = %v, want an error on %s", ve.Fields, field)
	}
}

func TestIncidentValidation(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		api, _ := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Status: models.StatusOperational})
		ok := models.IncidentInput{Title: "t", Status: models.IncidentInvestigating, Message: "m"}
		cases := []struct {
			name  string
			edit  func(in *models.IncidentInput)
			field string
		}{
			{"empty title", func(in *models.IncidentInput) { in.Title = "  " }, "title"},
			{"long title", func(in *models.IncidentInput) { in.Title = strings.Repeat("t", 201) }, "title"},
			{"empty message", func(in *models.IncidentInput) { in.Message = "" }, "message"},
			{"huge message", func(in *models.IncidentInput) { in.Message = strings.Repeat("m", models.MaxMessageLength+1) }, "message"},
			{"unknown status", func(in *models.IncidentInput) { in.Status = "panicking" }, "status"},
			{"starts resolved", func(in *models.IncidentInput) { in.Status = models.IncidentResolved }, "status"},
			{"unknown impact", func(in *models.IncidentInput) { in.Impact = "apocalyptic" }, "impact"},
			{"unknown component", func(in *models.IncidentInput) {
				in.Components = map[int64]models.ComponentStatus{api.ID: models.StatusMajorOutage, 98765: models.StatusMajorOutage}
			}, "components"},
			{"unknown component status", func(in *models.IncidentInput) {
				in.Components = map[int64]models.ComponentStatus{api.ID: "melted"}
			}, "components"},
		}
		before := countEvents(t, s)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				in := ok
				tc.edit(&in)
				_, err := s.CreateIncident(ctx, models.DefaultPageID, in)
				assertFieldError(t, err, tc.field)
			})
		}
		if n, _ := s.CountIncidents(ctx, models.DefaultPageID); n != 0 {
			t.Fatalf("invalid input wrote %d incidents", n)
		}
		if c, _ := s.Component(ctx, api.ID); c.Status != models.StatusOperational {
			t.Fatal("invalid incident changed a component")
		}
		if after := countEvents(t, s); len(after) != len(before) || after[models.EventComponentStatusChanged] != before[models.EventComponentStatusChanged] {
			t.Fatalf("invalid input wrote events: %v → %v", before, after)
		}
	})
}

// A change that fails after its event was written leaves neither the
// change nor the event: a trigger refuses incident.resolved events, so the
// whole resolve rolls back.
func TestForcedRollbackLeavesNoEvent(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		api, _ := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Status: models.StatusOperational})
		inc, err := s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "t", Status: models.IncidentInvestigating,
			Message: "m", Components: map[int64]models.ComponentStatus{api.ID: models.StatusMajorOutage}})
		modelstest.Fatal(t, err, "create")
		db, err := s.SQLDB()
		modelstest.Fatal(t, err, "db")
		trigger := []string{`CREATE TRIGGER refuse_resolved BEFORE INSERT ON events
			WHEN NEW.type = 'incident.resolved' BEGIN SELECT RAISE(ABORT, 'forced failure'); END`}
		if s.Engine() == models.Postgres {
			trigger = []string{
				`CREATE FUNCTION refuse_resolved() RETURNS trigger AS $$ BEGIN
					IF NEW.type = 'incident.resolved' THEN RAISE EXCEPTION 'forced failure'; END IF;
					RETURN NEW; END $$ LANGUAGE plpgsql`,
				`CREATE TRIGGER refuse_resolved BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_resolved()`,
			}
		}
		for _, q := range trigger {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatalf("create trigger: %v", err)
			}
		}
		before := countEvents(t, s)
		if _, err := s.ResolveIncident(ctx, inc.ID, "fixed"); err == nil || !strings.Contains(err.Error(), "forced failure") {
			t.Fatalf("resolve err = %v, want the forced failure", err)
		}
		if after := countEvents(t, s); after[models.EventComponentStatusChanged] != before[models.EventComponentStatusChanged] || after[models.EventIncidentResolved] != 0 {
			t.Fatalf("rolled-back change left events: %v → %v", before, after)
		}
		full, _ := s.Incident(ctx, inc.ID)
		if full.Status != models.IncidentInvestigating || len(full.Updates) != 1 {
			t.Fatalf("rolled-back resolve left the incident %s with %d updates", full.Status, len(full.Updates))
		}
		if c, _ := s.Component(ctx, api.ID); c.Status != models.StatusMajorOutage {
			t.Fatalf("rolled-back resolve changed the component to %s", c.Status)
		}
	})
}
