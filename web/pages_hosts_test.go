package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestSlugAddressesOnCustomHosts: a page's own host name serves that
// page alone (another page's /s/{slug}/ is a 404 there), and the
// redirect from /s/{slug}/ to a private page's host name is only for
// visitors who may read it: to others the slug is as unknown as one no
// page has, and the host name shows nowhere.
func TestSlugAddressesOnCustomHosts(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		ctx := context.Background()
		s.SetUp(t)
		modelstest.InsertPage(t, s.Store, "bravo", "Bravo Status")
		charlie := modelstest.InsertPage(t, s.Store, "charlie", "Charlie Status")
		delta := modelstest.InsertPage(t, s.Store, "delta", "Delta Status")
		modelstest.Fatal(t, s.Store.SetPageDomain(ctx, charlie.ID, "status.charlie.example"), "charlie's domain")
		modelstest.Fatal(t, s.Store.SetPageDomain(ctx, delta.ID, "status.delta.example"), "delta's domain")
		_, err := s.Store.SetPageAccess(ctx, delta.ID, models.PageAccessInput{Password: "delta door password"})
		modelstest.Fatal(t, err, "delta private")

		for _, c := range []struct {
			host, path string
			status     int
			location   string
		}{
			{"status.charlie.example", "/s/bravo/", http.StatusNotFound, ""},
			{"status.charlie.example", "/s/bravo/api/v2/summary.json", http.StatusNotFound, ""},
			{"status.charlie.example", "/s/delta/", http.StatusNotFound, ""},
			{"status.charlie.example", "/s/charlie/history", http.StatusMovedPermanently, "https://status.charlie.example/history"},
			{"", "/s/charlie/", http.StatusMovedPermanently, "https://status.charlie.example/"},
			{"", "/s/bravo/", http.StatusOK, ""},
			// Private, with a host name, no access: unknown.
			{"", "/s/delta/", http.StatusNotFound, ""},
			{"", "/s/delta/api/v2/summary.json", http.StatusNotFound, ""},
		} {
			status, hd, body := get(t, s.URL, c.host, c.path)
			if status != c.status || hd.Get("Location") != c.location {
				t.Errorf("GET %s (Host %q): %d to %q, want %d to %q", c.path, c.host, status, hd.Get("Location"), c.status, c.location)
			}
			if strings.Contains(body, "status.delta.example") || strings.Contains(body, "Delta Status") {
				t.Errorf("GET %s (Host %q) names the private page", c.path, c.host)
			}
		}

		// A visitor who may read it (here by address) is sent to its host.
		_, err = s.Store.SetPageAccess(ctx, delta.ID, models.PageAccessInput{Password: "delta door password", IPAllowlist: []string{"127.0.0.0/8", "::1/128"}})
		modelstest.Fatal(t, err, "delta allowlist")
		status, hd, _ := get(t, s.URL, "", "/s/delta/history")
		if status != http.StatusMovedPermanently || hd.Get("Location") != "https://status.delta.example/history" {
			t.Errorf("GET /s/delta/history from an allowed address: %d to %q", status, hd.Get("Location"))
		}
	})
}
