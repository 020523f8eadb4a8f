package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

// fieldError returns the message of field in err, failing unless err is a
// validation error naming field.
func fieldError(t *testing.T, err error, field string) string {
	t.Helper()
	var ve *models.ValidationError
	if !errors.As(err, &ve) || ve.Fields[field] == "" {
		t.Fatalf("err = %v, want a validation error on %s", err, field)
	}
	return ve.Fields[field]
}

// A published incident's title and any update's message can be corrected:
// the change is marked edited, audited, and announced only when asked.
func TestCorrectPublishedIncident(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := models.WithActor(context.Background(), auditAdmin)
		c, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Visible: true, Status: models.StatusOperational})
		modelstest.Fatal(t, err, "component")
		inc, err := s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "API erorrs", Status: models.IncidentInvestigating,
			Message: "We are investigatng.", Components: map[int64]models.ComponentStatus{c.ID: models.StatusMajorOutage}})
		modelstest.Fatal(t, err, "create")
		clock.Add(time.Minute)
		_, err = s.PostIncidentUpdate(ctx, inc.ID, models.IncidentUpdateInput{Status: models.IncidentIdentified, Message: "Found it."})
		modelstest.Fatal(t, err, "update")
		loaded, err := s.Incident(ctx, inc.ID)
		modelstest.Fatal(t, err, "load")
		first := loaded.Updates[1]
		if loaded.TitleEditedAt != nil || first.EditedAt != nil {
			t.Fatalf("fresh incident is marked edited: %v %v", loaded.TitleEditedAt, first.EditedAt)
		}
		events := countEvents(t, s)
		audits := auditCount(t, s)

		// A silent typo fix: marked, audited, no event.
		clock.Add(time.Minute)
		_, err = s.EditIncidentTitle(ctx, inc.ID, models.IncidentTitleInput{Title: "  API errors  "})
		modelstest.Fatal(t, err, "edit title")
		_, err = s.EditIncidentUpdate(ctx, inc.ID, first.ID, models.UpdateMessageInput{Message: "We are investigating."})
		modelstest.Fatal(t, err, "edit update")
		if got := countEvents(t, s); got[models.EventIncidentUpdated] != events[models.EventIncidentUpdated] || len(got) != len(events) {
			t.Fatalf("events after silent corrections = %v, want %v", got, events)
		}
		rows := newAuditRows(t, s, audits)
		if len(rows) != 2 || rows[0].Action != "incident.edit" || rows[1].Action != "incident.edit_update" ||
			!strings.Contains(rows[0].Before, "API erorrs") || !strings.Contains(rows[0].After, "API errors") ||
			!strings.Contains(rows[1].Before, "investigatng") || !strings.Contains(rows[1].After, "investigating") ||
			rows[0].ActorName != auditAdmin.Name || !strings.Contains(rows[1].Summary, "not notified") {
			t.Fatalf("audit rows = %+v", rows)
		}
		loaded, err = s.Incident(ctx, inc.ID)
		modelstest.Fatal(t, err, "reload")
		if loaded.Title != "API errors" || loaded.TitleEditedAt == nil || !loaded.TitleEditedAt.Equal(clock.Now()) {
			t.Fatalf("title %q edited at %v", loaded.Title, loaded.TitleEditedAt)
		}
		if u := loaded.Updates[1]; u.Message != "We are investigating." || u.EditedAt == nil || !u.CreatedAt.Equal(first.CreatedAt) || u.Status != first.Status {
			t.Fatalf("corrected update = %+v, want the new message, its time and status kept", u)
		}
		if u := loaded.Updates[0]; u.Message != "Found it." || u.EditedAt != nil {
			t.Fatalf("other update = %+v, want it untouched", u)
		}
		if loaded.Status != models.IncidentIdentified || loaded.Impact != inc.Impact {
			t.Fatalf("status %s impact %s changed by a correction", loaded.Status, loaded.Impact)
		}

		// With Notify: one incident.updated carrying the correction.
		clock.Add(time.Minute)
		_, err = s.EditIncidentUpdate(ctx, inc.ID, first.ID, models.UpdateMessageInput{Message: "We are investigating **errors**.", Notify: true})
		modelstest.Fatal(t, err, "edit update, notify")
		var data models.IncidentData
		ev := lastEvent(t, s, models.EventIncidentUpdated, &data)
		if data.Message != "We are investigating **errors**." || data.Title != "API errors" || !ev.OccurredAt.Equal(clock.Now()) {
			t.Fatalf("incident.updated = %+v at %v", data, ev.OccurredAt)
		}
		_, err = s.EditIncidentTitle(ctx, inc.ID, models.IncidentTitleInput{Title: "Elevated API errors", Notify: true})
		modelstest.Fatal(t, err, "edit title, notify")
		lastEvent(t, s, models.EventIncidentUpdated, &data)
		if data.Title != "Elevated API errors" || data.Message != "Found it." {
			t.Fatalf("incident.updated after title = %+v", data)
		}
		if got := countEvents(t, s)[models.EventIncidentUpdated]; got != events[models.EventIncidentUpdated]+2 {
			t.Fatalf("%d incident.updated events, want %d", got, events[models.EventIncidentUpdated]+2)
		}

		// The same text again changes nothing and records nothing.
		audits = auditCount(t, s)
		_, err = s.EditIncidentTitle(ctx, inc.ID, models.IncidentTitleInput{Title: "Elevated API errors", Notify: true})
		modelstest.Fatal(t, err, "same title")
		if auditCount(t, s) != audits || countEvents(t, s)[models.EventIncidentUpdated] != events[models.EventIncidentUpdated]+2 {
			t.Fatal("an unchanged title was audited or announced")
		}

		// A resolved incident can still be corrected.
		_, err = s.ResolveIncident(ctx, inc.ID, "")
		modelstest.Fatal(t, err, "resolve")
		_, err = s.EditIncidentTitle(ctx, inc.ID, models.IncidentTitleInput{Title: "Elevated API error rates"})
		modelstest.Fatal(t, err, "edit resolved")
	})
}

// A back-filled incident notifies no one, Notify or not.
func TestCorrectBackfilledIncidentNeverNotifies(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, _ *modelstest.Clock) {
		ctx := context.Background()
		inc, err := s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Last week", Message: "It happend", Backfill: true,
			StartedAt: t0.Add(-48 * time.Hour), ResolvedAt: t0.Add(-47 * time.Hour)})
		modelstest.Fatal(t, err, "back-fill")
		loaded, err := s.Incident(ctx, inc.ID)
		modelstest.Fatal(t, err, "load")
		_, err = s.EditIncidentTitle(ctx, inc.ID, models.IncidentTitleInput{Title: "Last week's outage", Notify: true})
		modelstest.Fatal(t, err, "title")
		_, err = s.EditIncidentUpdate(ctx, inc.ID, loaded.Updates[0].ID, models.UpdateMessageInput{Message: "It happened", Notify: true})
		modelstest.Fatal(t, err, "message")
		if evs := countEvents(t, s); len(evs) != 0 {
			t.Fatalf("events = %v, want none for a back-filled incident", evs)
		}
	})
}

// Bad corrections are refused with a field error or ErrNotFound, and
// nothing is changed, audited or announced.
func TestCorrectIncidentRefusesBadInput(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, _ *modelstest.Clock) {
		ctx := context.Background()
		inc, err := s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Errors", Status: models.IncidentInvestigating, Message: "Looking."})
		modelstest.Fatal(t, err, "create")
		other, err := s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Other", Status: models.IncidentInvestigating, Message: "Other."})
		modelstest.Fatal(t, err, "create other")
		loaded, err := s.Incident(ctx, inc.ID)
		modelstest.Fatal(t, err, "load")
		otherLoaded, err := s.Incident(ctx, other.ID)
		modelstest.Fatal(t, err, "load other")
		updateID := loaded.Updates[0].ID
		events, audits := countEvents(t, s), auditCount(t, s)

		for _, tc := range []struct{ name, title, want string }{
			{"empty", "   ", "cannot be empty"},
			{"too long", strings.Repeat("x", models.MaxTitleLength+1), "at most 200"},
			{"NUL", "Err\x00ors", ""},
			{"line break", "Err\nors", ""},
		} {
			_, err := s.EditIncidentTitle(ctx, inc.ID, models.IncidentTitleInput{Title: tc.title, Notify: true})
			if msg := fieldError(t, err, "title"); !strings.Contains(msg, tc.want) {
				t.Errorf("title %s: %q, want %q", tc.name, msg, tc.want)
			}
		}
		for _, tc := range []struct{ name, message, want string }{
			{"empty", "\n", "cannot be empty"},
			{"too long", strings.Repeat("x", models.MaxMessageLength+1), "at most 50000"},
			{"NUL", "Look\x00ing", ""},
			{"bad bytes", "Look\xffing", ""},
		} {
			_, err := s.EditIncidentUpdate(ctx, inc.ID, updateID, models.UpdateMessageInput{Message: tc.message, Notify: true})
			if msg := fieldError(t, err, "message"); !strings.Contains(msg, tc.want) {
				t.Errorf("message %s: %q, want %q", tc.name, msg, tc.want)
			}
		}
		if _, err := s.EditIncidentTitle(ctx, 99999, models.IncidentTitleInput{Title: "x"}); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("unknown incident: %v, want ErrNotFound", err)
		}
		if _, err := s.EditIncidentUpdate(ctx, 99999, updateID, models.UpdateMessageInput{Message: "x"}); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("unknown incident of an update: %v, want ErrNotFound", err)
		}
		if _, err := s.EditIncidentUpdate(ctx, inc.ID, 99999, models.UpdateMessageInput{Message: "x"}); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("unknown update: %v, want ErrNotFound", err)
		}
		// Another incident's update is not this incident's to edit.
		if _, err := s.EditIncidentUpdate(ctx, inc.ID, otherLoaded.Updates[0].ID, models.UpdateMessageInput{Message: "x"}); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("update of another incident: %v, want ErrNotFound", err)
		}
		after, err := s.Incident(ctx, inc.ID)
		modelstest.Fatal(t, err, "reload")
		if after.Title != "Errors" || after.TitleEditedAt != nil || after.Updates[0].Message != "Looking." || after.Updates[0].EditedAt != nil {
			t.Fatalf("refused corrections changed the incident: %+v", after)
		}
		if got := countEvents(t, s); len(got) != len(events) || got[models.EventIncidentUpdated] != events[models.EventIncidentUpdated] {
			t.Fatalf("events %v, want %v", got, events)
		}
		if auditCount(t, s) != audits {
			t.Fatal("a refused correction was audited")
		}
	})
}
