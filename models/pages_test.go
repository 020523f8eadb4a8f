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

// The slug rules, in one table: what is refused and what is kept.
func TestSlugRules(t *testing.T) {
	cases := []struct {
		slug string
		ok   bool
	}{
		{"internal", true}, {"eu-west-1", true}, {"a", true}, {"9", true}, {strings.Repeat("a", 63), true},
		{"", false}, {strings.Repeat("a", 64), false}, {strings.Repeat("a", 200), false},
		{"-lead", false}, {"trail-", false}, {"-", false}, {"Upper", false}, {"under_score", false},
		{"dot.ted", false}, {"sp ace", false}, {"café", false}, {"ｆｕｌｌ", false}, {"nul\x00", false},
		{"cr\rlf", false}, {"line\n", false}, {"\xff\xfe", false}, {"slash/x", false},
		{"api", false}, {"admin", false}, {"static", false}, {"s", false}, {"login", false}, {"logout", false},
		{"setup", false}, {"subscribe", false}, {"subscriptions", false}, {"invite", false}, {"healthz", false},
		{"readyz", false}, {"metrics", false}, {"incidents", false}, {"maintenance", false}, {"history", false},
		{"feed", false}, {"auth", false},
	}
	for _, tc := range cases {
		if got := models.SlugProblem(tc.slug) == ""; got != tc.ok {
			t.Errorf("SlugProblem(%q) ok = %v, want %v (%q)", tc.slug, got, tc.ok, models.SlugProblem(tc.slug))
		}
	}
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		for _, tc := range cases {
			if tc.ok {
				continue
			}
			_, err := s.CreatePage(ctx, models.PageNameInput{Name: "X", Slug: tc.slug})
			var ve *models.ValidationError
			if !errors.As(err, &ve) || ve.Fields["slug"] == "" {
				t.Errorf("CreatePage(slug %q) = %v, want a slug field error", tc.slug, err)
			}
		}
		for _, name := range []string{"", "a\x00b", "a\r\nb", strings.Repeat("n", 101), "\xff"} {
			_, err := s.CreatePage(ctx, models.PageNameInput{Name: name, Slug: "fine"})
			var ve *models.ValidationError
			if !errors.As(err, &ve) || ve.Fields["name"] == "" {
				t.Errorf("CreatePage(name %q) = %v, want a name field error", name, err)
			}
		}
		pages, err := s.Pages(ctx)
		modelstest.Fatal(t, err, "pages")
		if len(pages) != 1 {
			t.Fatalf("%d pages after refused creations, want 1", len(pages))
		}
	})
}

func TestPageLifecycle(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		p, err := s.CreatePage(ctx, models.PageNameInput{Name: "  Internal  ", Slug: "internal"})
		modelstest.Fatal(t, err, "create")
		if p.Name != "Internal" || p.Slug != "internal" || p.Accent() != models.DefaultAccent || p.TimeZone == "" || p.ID == models.DefaultPageID {
			t.Fatalf("created %+v", p)
		}
		// Duplicates, the first page's slug included.
		for _, slug := range []string{"internal", "main"} {
			_, err := s.CreatePage(ctx, models.PageNameInput{Name: "Other", Slug: slug})
			var ve *models.ValidationError
			if !errors.As(err, &ve) || !strings.Contains(ve.Fields["slug"], "already") {
				t.Errorf("duplicate slug %q: %v, want a slug field error", slug, err)
			}
		}
		pages, err := s.Pages(ctx)
		modelstest.Fatal(t, err, "pages")
		if len(pages) != 2 || pages[0].ID != models.DefaultPageID || pages[1].ID != p.ID {
			t.Fatalf("pages = %+v", pages)
		}
		// Rename: its own slug is no duplicate; another page's is.
		r, err := s.RenamePage(ctx, p.ID, models.PageNameInput{Name: "Staff", Slug: "internal"})
		modelstest.Fatal(t, err, "rename same slug")
		if r.Name != "Staff" || r.TimeZone != p.TimeZone {
			t.Fatalf("renamed %+v", r)
		}
		var ve *models.ValidationError
		if _, err := s.RenamePage(ctx, p.ID, models.PageNameInput{Name: "Staff", Slug: "main"}); !errors.As(err, &ve) {
			t.Fatalf("rename to main: %v", err)
		}
		if _, err := s.RenamePage(ctx, 999, models.PageNameInput{Name: "X", Slug: "x"}); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("rename missing: %v", err)
		}
		// The first page is never deleted.
		if err := s.DeletePage(ctx, models.DefaultPageID, true); !errors.Is(err, models.ErrConflict) {
			t.Fatalf("delete first page: %v", err)
		}
		if err := s.DeletePage(ctx, 999, false); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("delete missing: %v", err)
		}
		// A page with something on it: only with everything.
		comp, err := s.CreateComponent(ctx, p.ID, models.ComponentInput{Name: "API", Status: models.StatusOperational})
		modelstest.Fatal(t, err, "component")
		ch, err := s.CreateChannel(ctx, p.ID, models.ChannelInput{Type: models.ChannelWebhook, Name: "Hook", URL: "https://hooks.example.com/x", Enabled: true})
		modelstest.Fatal(t, err, "channel")
		err = s.DeletePage(ctx, p.ID, false)
		var ce *models.ConflictError
		if !errors.As(err, &ce) || !strings.Contains(ce.Message, "1 component, 1 channel") {
			t.Fatalf("delete non-empty page: %v", err)
		}
		// A queued notification holds the page back, even with everything.
		d, err := s.CreateTestDelivery(ctx, ch, models.EventIncidentCreated, "{}", time.Minute)
		modelstest.Fatal(t, err, "test delivery")
		err = s.DeletePage(ctx, p.ID, true)
		if !errors.As(err, &ce) || !strings.Contains(ce.Message, "1 notification(s) queued") {
			t.Fatalf("delete with a queued delivery: %v", err)
		}
		if _, err := s.Component(ctx, comp.ID); err != nil {
			t.Fatalf("component gone after a refused delete: %v", err)
		}
		modelstest.Fatal(t, s.RecordAttempt(ctx, d, models.AttemptResult{
			Attempt: models.DeliveryAttempt{Number: 1, StartedAt: clock.Now(), RequestURL: "masked", RequestHeaders: "{}", RequestBody: "{}", ResponseStatus: 200},
			State:   models.DeliveryDelivered}), "record")
		modelstest.Fatal(t, s.DeletePage(ctx, p.ID, true), "delete everything")
		if _, err := s.Page(ctx, p.ID); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("page after delete: %v", err)
		}
		if _, err := s.Component(ctx, comp.ID); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("component after delete: %v", err)
		}
		if _, err := s.Channel(ctx, ch.ID); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("channel after delete: %v", err)
		}
		// The first page's things are untouched and its slug is free again.
		if _, err := s.CreatePage(ctx, models.PageNameInput{Name: "Again", Slug: "internal"}); err != nil {
			t.Fatalf("slug reuse: %v", err)
		}
	})
}
