package models_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

func TestPageImageHosts(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		page := models.PageInput{Name: "Acme", AccentColor: "blue", TimeZone: "UTC"}

		t.Run("stored in one form", func(t *testing.T) {
			page.ImageHosts = []string{" Status-Assets.Example.com ", "*.Example.NET", "bücher.example", "status-assets.example.com",
				"intranet", "trailing.example."}
			p, err := s.UpdatePage(ctx, models.DefaultPageID, page)
			modelstest.Fatal(t, err, "update")
			want := []string{"status-assets.example.com", "*.example.net", "xn--bcher-kva.example", "intranet", "trailing.example"}
			if got := p.ImageHostList(); !slices.Equal(got, want) {
				t.Fatalf("saved %q, want %q", got, want)
			}
			reloaded, err := s.Page(ctx, models.DefaultPageID)
			modelstest.Fatal(t, err, "reload")
			if got := reloaded.ImageHostList(); !slices.Equal(got, want) {
				t.Fatalf("reloaded %q, want %q", got, want)
			}
		})

		t.Run("bad entries are refused, naming the entry, and nothing is written", func(t *testing.T) {
			for _, bad := range []struct{ entry, says string }{
				{"https://images.example.com", "without “https://”"},
				{"images.example.com/logos", "without a path"},
				{"user@images.example.com", "without a user name"},
				{"images.example.com:8443", "without a port"},
				{"203.0.113.7", "not an IP address"},
				{"[2001:db8::1]", "not an IP address"},
				{"2001:db8::1", "not an IP address"},
				{"images.*.example.com", "“*”"},
				{"*.com", "top-level domain"},
				{"*", "“*”"},
				{"under_score.example", "“_”"},
				{"-bad.example", "not a host name"},
				{"a..b", "not a host name"},
				{"evil.example;script-src", "“;”"},
				{"evil.example'", "“'”"},
				{strings.Repeat("a", 64) + ".example", "not a host name"},
				{strings.Repeat("abcdefghi.", 26) + "example", "at most 253"},
			} {
				page.ImageHosts = []string{"ok.example", bad.entry}
				_, err := s.UpdatePage(ctx, models.DefaultPageID, page)
				var ve *models.ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("%q: err = %v, want a validation error", bad.entry, err)
				}
				msg := ve.Fields["image_hosts"]
				shown := bad.entry
				if len([]rune(shown)) > 60 {
					shown = string([]rune(shown)[:60])
				}
				if !strings.Contains(msg, "“"+shown) || !strings.Contains(msg, bad.says) {
					t.Errorf("%q: message %q, want it to name the entry and say %q", bad.entry, msg, bad.says)
				}
			}
			p, err := s.Page(ctx, models.DefaultPageID)
			modelstest.Fatal(t, err, "reload")
			if slices.Contains(p.ImageHostList(), "ok.example") {
				t.Fatalf("a refused list was written: %q", p.ImageHostList())
			}
		})

		t.Run("at most MaxImageHosts", func(t *testing.T) {
			page.ImageHosts = nil
			for i := range models.MaxImageHosts + 1 {
				page.ImageHosts = append(page.ImageHosts, fmt.Sprintf("h%d.example", i))
			}
			_, err := s.UpdatePage(ctx, models.DefaultPageID, page)
			assertFieldError(t, err, "image_hosts")
			page.ImageHosts = page.ImageHosts[:models.MaxImageHosts]
			p, err := s.UpdatePage(ctx, models.DefaultPageID, page)
			modelstest.Fatal(t, err, "update with the maximum")
			if len(p.ImageHostList()) != models.MaxImageHosts {
				t.Fatalf("saved %d hosts, want %d", len(p.ImageHostList()), models.MaxImageHosts)
			}
		})

		t.Run("empty list clears", func(t *testing.T) {
			page.ImageHosts = []string{"", "  "}
			p, err := s.UpdatePage(ctx, models.DefaultPageID, page)
			modelstest.Fatal(t, err, "clear")
			if p.ImageHosts != "" || len(p.ImageHostList()) != 0 {
				t.Fatalf("after clearing: %q", p.ImageHosts)
			}
		})

		t.Run("audited", func(t *testing.T) {
			page.ImageHosts = []string{"audited.example"}
			_, err := s.UpdatePage(ctx, models.DefaultPageID, page)
			modelstest.Fatal(t, err, "update")
			rows, err := s.AuditEntries(ctx, models.AuditFilter{})
			modelstest.Fatal(t, err, "audit")
			last := rows[0]
			if last.Action != "page.update" || !strings.Contains(last.Before, `"image_hosts":[]`) ||
				!strings.Contains(last.After, `"image_hosts":["audited.example"]`) {
				t.Fatalf("audit %s before %s after %s, want image_hosts [] then [audited.example]", last.Action, last.Before, last.After)
			}
		})
	})
}

func TestParseImageHosts(t *testing.T) {
	got := models.ParseImageHosts(" a.example\r\nb.example, c.example\t\n\n*.d.example ")
	want := []string{"a.example", "b.example", "c.example", "*.d.example"}
	if !slices.Equal(got, want) {
		t.Fatalf("ParseImageHosts = %q, want %q", got, want)
	}
}
