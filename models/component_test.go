package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

func TestMigrateIsIdempotentAndCurrent(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		applied, err := s.Migrate(ctx)
		modelstest.Fatal(t, err, "second migrate")
		if len(applied) != 0 {
			t.Fatalf("second migrate applied %v, want nothing", applied)
		}
		pending, err := s.MigrationsPending(ctx)
		modelstest.Fatal(t, err, "pending")
		if pending != 0 {
			t.Fatalf("pending = %d, want 0", pending)
		}
		if s.Engine() == models.SQLite {
			v, err := s.ServerVersion(ctx)
			modelstest.Fatal(t, err, "version")
			// The dialector would otherwise bring a 2023 SQLite; go.mod pins a current one.
			if v < "3.50" {
				t.Fatalf("SQLite %s is older than the pinned modernc.org/sqlite should give", v)
			}
		}
	})
}

func TestComponentLifecycleRecordsHistory(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		g, err := s.CreateGroup(ctx, models.DefaultPageID, models.GroupInput{Name: "Core"})
		modelstest.Fatal(t, err, "create group")
		api, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{
			Name: "  API ", GroupID: &g.ID, Visible: true, Status: models.StatusOperational})
		modelstest.Fatal(t, err, "create component")
		if api.Name != "API" || api.Position != 1 {
			t.Fatalf("component = %+v, want trimmed name and position 1", api)
		}
		changed, err := s.SetComponentStatus(ctx, api.ID, models.StatusMajorOutage, models.SourceManual, nil)
		modelstest.Fatal(t, err, "set status")
		if !changed {
			t.Fatal("status change reported as no change")
		}
		changed, err = s.SetComponentStatus(ctx, api.ID, models.StatusMajorOutage, models.SourceManual, nil)
		modelstest.Fatal(t, err, "set same status")
		if changed {
			t.Fatal("setting the same status reported a change")
		}
		_, err = s.UpdateComponent(ctx, api.ID, models.ComponentInput{Name: "API", GroupID: &g.ID, Visible: true, Status: models.StatusOperational})
		modelstest.Fatal(t, err, "update")
		hist, err := s.StatusChanges(ctx, api.ID)
		modelstest.Fatal(t, err, "history")
		want := []struct{ old, new models.ComponentStatus }{
			{"", models.StatusOperational},
			{models.StatusOperational, models.StatusMajorOutage},
			{models.StatusMajorOutage, models.StatusOperational},
		}
		if len(hist) != len(want) {
			t.Fatalf("history has %d rows, want %d: %+v", len(hist), len(want), hist)
		}
		for i, w := range want {
			if hist[i].OldStatus != w.old || hist[i].NewStatus != w.new || hist[i].Source != models.SourceManual {
				t.Errorf("history[%d] = %+v, want %s → %s (manual)", i, hist[i], w.old, w.new)
			}
		}
		modelstest.Fatal(t, s.DeleteComponent(ctx, api.ID), "delete")
		if _, err := s.Component(ctx, api.ID); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("deleted component: err = %v, want ErrNotFound", err)
		}
		if err := s.DeleteComponent(ctx, api.ID); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("second delete: err = %v, want ErrNotFound", err)
		}
	})
}

func TestComponentValidation(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		missing := int64(999)
		cases := []struct {
			name  string
			in    models.ComponentInput
			field string
		}{
			{"empty name", models.ComponentInput{Name: "  ", Status: models.StatusOperational}, "name"},
			{"long name", models.ComponentInput{Name: strings.Repeat("x", 101), Status: models.StatusOperational}, "name"},
			{"long description", models.ComponentInput{Name: "a", Description: strings.Repeat("d", 501), Status: models.StatusOperational}, "description"},
			{"unknown status", models.ComponentInput{Name: "a", Status: "broken"}, "status"},
			{"unknown group", models.ComponentInput{Name: "a", Status: models.StatusOperational, GroupID: &missing}, "group_id"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.CreateComponent(ctx, models.DefaultPageID, tc.in)
				var ve *models.ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("err = %v, want a validation error", err)
				}
				if ve.Fields[tc.field] == "" {
					t.Fatalf("fields = %v, want an error on %q", ve.Fields, tc.field)
				}
			})
		}
		cs, err := s.Components(ctx, models.DefaultPageID)
		modelstest.Fatal(t, err, "list")
		if len(cs) != 0 {
			t.Fatalf("invalid input wrote %d components", len(cs))
		}
	})
}

func TestReorderComponentsAndGroups(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		var ids []int64
		for _, n := range []string{"A", "B", "C"} {
			c, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: n, Visible: true, Status: models.StatusOperational})
			modelstest.Fatal(t, err, "create %s", n)
			ids = append(ids, c.ID)
		}
		modelstest.Fatal(t, s.MoveComponent(ctx, ids[2], -1), "move C up")
		modelstest.Fatal(t, s.MoveComponent(ctx, ids[0], -1), "move A up at the top (no-op)")
		cs, err := s.Components(ctx, models.DefaultPageID)
		modelstest.Fatal(t, err, "list")
		var got []string
		for _, c := range cs {
			got = append(got, c.Name)
		}
		if strings.Join(got, "") != "ACB" {
			t.Fatalf("order = %v, want A C B", got)
		}
		g1, _ := s.CreateGroup(ctx, models.DefaultPageID, models.GroupInput{Name: "One"})
		g2, _ := s.CreateGroup(ctx, models.DefaultPageID, models.GroupInput{Name: "Two"})
		modelstest.Fatal(t, s.MoveGroup(ctx, g2.ID, -1), "move group")
		gs, err := s.Groups(ctx, models.DefaultPageID)
		modelstest.Fatal(t, err, "groups")
		if gs[0].ID != g2.ID || gs[1].ID != g1.ID {
			t.Fatalf("group order = %v, want Two, One", gs)
		}
		// Deleting a group keeps its components, ungrouped.
		c, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "D", GroupID: &g1.ID, Status: models.StatusOperational})
		modelstest.Fatal(t, err, "create D")
		modelstest.Fatal(t, s.DeleteGroup(ctx, g1.ID), "delete group")
		d, err := s.Component(ctx, c.ID)
		modelstest.Fatal(t, err, "load D")
		if d.GroupID != nil {
			t.Fatalf("D still in deleted group %d", *d.GroupID)
		}
	})
}
