package models_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

func TestAccentName(t *testing.T) {
	cases := []struct{ in, want string }{
		{"purple", "purple"},
		{"  Purple ", "purple"},
		{"GREY", "gray"},
		{"#0969da", "blue"}, // the first migration's default
		{"#8250DF", "purple"},
		{"#8250df ", "purple"},
		{"hotpink", ""},
		{"#123456", ""},
		{"", ""},
	}
	for _, tc := range cases {
		if got := models.AccentName(tc.in); got != tc.want {
			t.Errorf("AccentName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A page saved with an accent written as its colour stores the name, and
// the audit log records names on both sides, the old default included.
func TestPageAccentStoredAndAuditedByName(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := models.WithActor(context.Background(), auditAdmin)
		before, err := s.Page(ctx, models.DefaultPageID)
		modelstest.Fatal(t, err, "load page")
		if before.AccentColor != "#0969da" || before.Accent() != "blue" {
			t.Fatalf("a fresh page: accent %q (%q), want the old default #0969da read as blue", before.AccentColor, before.Accent())
		}
		p, err := s.UpdatePage(ctx, models.DefaultPageID, models.PageInput{Name: "Acme", AccentColor: "#8250DF", TimeZone: "UTC"})
		modelstest.Fatal(t, err, "update page")
		if p.AccentColor != "purple" {
			t.Errorf("saved accent %q, want purple", p.AccentColor)
		}
		if stored, _ := s.Page(ctx, models.DefaultPageID); stored.AccentColor != "purple" {
			t.Errorf("stored accent %q, want purple", stored.AccentColor)
		}
		list, err := s.AuditEntries(ctx, models.AuditFilter{Action: "page.update"})
		modelstest.Fatal(t, err, "audit entries")
		if len(list) != 1 {
			t.Fatalf("%d page.update entries, want 1", len(list))
		}
		e := list[0]
		if !strings.Contains(e.Before, `"accent_color":"blue"`) || !strings.Contains(e.After, `"accent_color":"purple"`) {
			t.Errorf("audit snapshots record %s → %s, want blue → purple", e.Before, e.After)
		}
		want := []models.AuditChange{{Field: "accent_color", Before: "blue", After: "purple"}, {Field: "name", Before: "Status", After: "Acme"}}
		if got := models.AuditChanges(e.Before, e.After); !reflect.DeepEqual(got, want) {
			t.Errorf("changes %+v, want %+v", got, want)
		}
	})
}

func TestAuditChanges(t *testing.T) {
	cases := []struct {
		name          string
		before, after string
		want          []models.AuditChange
	}{
		{"old default reads as its name", `{"accent_color":"#0969da","name":"A"}`, `{"accent_color":"purple","name":"A"}`,
			[]models.AuditChange{{Field: "accent_color", Before: "blue", After: "purple"}}},
		{"only the spelling changed", `{"accent_color":"#0969da"}`, `{"accent_color":"blue"}`, nil},
		{"added and removed fields", `{"a":1,"gone":"x"}`, `{"a":1,"new":[1, 2]}`,
			[]models.AuditChange{{Field: "gone", Before: "x"}, {Field: "new", After: "[1,2]"}}},
		{"nested values compact", `{"o":{"k": 1}}`, `{"o":{"k":2}}`, []models.AuditChange{{Field: "o", Before: `{"k":1}`, After: `{"k":2}`}}},
		{"nothing before", ``, `{"a":1}`, nil},
		{"not objects", `[1]`, `[2]`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := models.AuditChanges(tc.before, tc.after); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
