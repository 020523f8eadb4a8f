package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

func TestNormalizeDomain(t *testing.T) {
	for raw, want := range map[string]string{
		"status.example.com":                 "status.example.com",
		" Status.Example.COM. ":              "status.example.com",
		"xn--bcher-kva.example":              "xn--bcher-kva.example",
		"":                                   "",
		"a-b.c-d.example":                    "a-b.c-d.example",
		"status":                             "!",
		"https://status.example":             "!",
		"status.example.com/x":               "!",
		"status.example.com:443":             "!",
		"192.0.2.1":                          "!",
		"[2001:db8::1]":                      "!",
		"2001:db8::1":                        "!",
		"user@status.example":                "!",
		"bücher.example":                     "!",
		"-bad.example":                       "!",
		"bad-.example":                       "!",
		"a..example":                         "!",
		"status\x00.example":                 "!",
		"status\r\n.example":                 "!",
		strings.Repeat("a", 64) + ".example": "!",
		strings.Repeat(strings.Repeat("a", 60)+".", 5) + "x": "!",
	} {
		got, msg := models.NormalizeDomain(raw)
		if want == "!" {
			if msg == "" {
				t.Errorf("NormalizeDomain(%q) = %q, want refused", raw, got)
			}
			continue
		}
		if msg != "" || got != want {
			t.Errorf("NormalizeDomain(%q) = %q, %q; want %q", raw, got, msg, want)
		}
	}
}

// TestSetPageDomain: a page's host name is saved in lower case, audited,
// unique across pages, and removable.
func TestSetPageDomain(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		bravo := modelstest.InsertPage(t, s, "bravo", "Bravo")
		modelstest.Fatal(t, s.SetPageDomain(ctx, bravo.ID, "Status.Bravo.Example"), "set")
		ref, err := s.PageRef(ctx, bravo.ID)
		modelstest.Fatal(t, err, "ref")
		if ref.Domain != "status.bravo.example" || ref.Prefix() != "" || s.PageBaseURL(ref) != "https://status.bravo.example" {
			t.Errorf("bravo: %+v, base %q", ref, s.PageBaseURL(ref))
		}
		var inv *models.ValidationError
		if err := s.SetPageDomain(ctx, models.DefaultPageID, "status.bravo.example"); !errors.As(err, &inv) {
			t.Errorf("a second page with bravo's host name: %v, want invalid input", err)
		}
		if err := s.SetPageDomain(ctx, bravo.ID, "http://x.example"); !errors.As(err, &inv) {
			t.Errorf("a URL as host name: %v, want invalid input", err)
		}
		modelstest.Fatal(t, s.SetPageDomain(ctx, bravo.ID, ""), "remove")
		ref, err = s.PageRef(ctx, bravo.ID)
		modelstest.Fatal(t, err, "ref")
		if ref.Domain != "" || ref.Prefix() != "/s/bravo" {
			t.Errorf("bravo after removing its host name: %+v", ref)
		}
		entries, err := s.AuditEntries(ctx, models.AuditFilter{PageID: bravo.ID})
		modelstest.Fatal(t, err, "audit log")
		n := 0
		for _, e := range entries {
			if e.Action == "page.update" && strings.Contains(e.After+e.Before, "status.bravo.example") {
				n++
			}
		}
		if n != 2 {
			t.Errorf("%d audit rows name the host name, want 2 (set, removed)", n)
		}
	})
}
