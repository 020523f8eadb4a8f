package models_test

import (
	"context"
	"errors"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

// An incident's impact follows the worst status its updates set on its
// visible components until one is chosen; choosing is stored, and
// AutomaticImpact undoes it.
func TestIncidentImpactFollowsUnlessExplicit(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := models.WithActor(context.Background(), auditAdmin)
		mk := func(name string, visible bool) int64 {
			c, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: name, Visible: visible, Status: models.StatusOperational})
			modelstest.Fatal(t, err, "component %s", name)
			return c.ID
		}
		api, db, hidden := mk("API", true), mk("DB", true), mk("Vault", false)
		inc, err := s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Trouble", Status: models.IncidentInvestigating,
			Message: "Looking.", Components: map[int64]models.ComponentStatus{api: models.StatusDegradedPerformance, hidden: models.StatusMajorOutage}})
		modelstest.Fatal(t, err, "create")
		check := func(step string, impact models.Impact, explicit bool) {
			t.Helper()
			got, err := s.Incident(ctx, inc.ID)
			modelstest.Fatal(t, err, "load")
			if got.Impact != impact || got.ImpactExplicit != explicit {
				t.Fatalf("%s: impact %s explicit %v, want %s %v", step, got.Impact, got.ImpactExplicit, impact, explicit)
			}
		}
		post := func(in models.IncidentUpdateInput) error {
			if in.Status == "" {
				in.Status = models.IncidentIdentified
			}
			in.Message = "News."
			_, err := s.PostIncidentUpdate(ctx, inc.ID, in)
			return err
		}
		check("created (hidden outage ignored)", models.ImpactMinor, false)
		modelstest.Fatal(t, post(models.IncidentUpdateInput{Components: map[int64]models.ComponentStatus{db: models.StatusPartialOutage}}), "db partial")
		check("db partial", models.ImpactMajor, false)
		// A deleted component no longer counts.
		modelstest.Fatal(t, s.DeleteComponent(ctx, db), "delete db")
		modelstest.Fatal(t, post(models.IncidentUpdateInput{}), "after delete")
		check("db deleted", models.ImpactMinor, false)
		modelstest.Fatal(t, post(models.IncidentUpdateInput{Impact: models.ImpactCritical}), "choose")
		check("chosen", models.ImpactCritical, true)
		modelstest.Fatal(t, post(models.IncidentUpdateInput{Components: map[int64]models.ComponentStatus{api: models.StatusOperational}}), "recover")
		check("chosen survives recovery", models.ImpactCritical, true)

		var ve *models.ValidationError
		err = post(models.IncidentUpdateInput{Impact: models.ImpactMinor, AutomaticImpact: true})
		if !errors.As(err, &ve) || ve.Fields["impact"] == "" {
			t.Fatalf("impact and automatic together: %v, want a validation error on impact", err)
		}
		if err := post(models.IncidentUpdateInput{Impact: "catastrophic"}); !errors.As(err, &ve) || ve.Fields["impact"] == "" {
			t.Fatalf("unknown impact: %v", err)
		}
		check("refused updates change nothing", models.ImpactCritical, true)

		modelstest.Fatal(t, post(models.IncidentUpdateInput{AutomaticImpact: true,
			Components: map[int64]models.ComponentStatus{api: models.StatusMajorOutage}}), "automatic")
		check("automatic again", models.ImpactCritical, false)
		modelstest.Fatal(t, post(models.IncidentUpdateInput{Status: models.IncidentResolved,
			Components: map[int64]models.ComponentStatus{api: models.StatusOperational}}), "resolve")
		check("resolving keeps it", models.ImpactCritical, false)

		chosen, err := s.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Chosen", Status: models.IncidentInvestigating,
			Message: "x", Impact: models.ImpactNone, Components: map[int64]models.ComponentStatus{api: models.StatusMajorOutage}})
		modelstest.Fatal(t, err, "create chosen")
		if !chosen.ImpactExplicit || chosen.Impact != models.ImpactNone {
			t.Fatalf("created with an impact: %s explicit %v", chosen.Impact, chosen.ImpactExplicit)
		}
	})
}
