package web_test

import (
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestEveryRouteSegmentIsReserved: no page slug may take the first path
// segment of a route Herald serves, so a page's address never shadows
// one (models.ReservedSlugs holds them).
func TestEveryRouteSegmentIsReserved(t *testing.T) {
	s := webtest.Start(t, models.SQLite)
	seen := map[string]bool{}
	for _, route := range s.Routes {
		_, path, _ := strings.Cut(route, " ")
		seg, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
		if seg == "" || seg == "*" || strings.HasPrefix(seg, ":") || seen[seg] {
			continue
		}
		seen[seg] = true
		if !models.SlugReserved(seg) {
			t.Errorf("the route %s starts with %q, which a page slug may take: add it to models.ReservedSlugs", route, seg)
		}
	}
	for _, want := range []string{"admin", "api", "static", "healthz", "login", "subscribe"} {
		if !seen[want] {
			t.Errorf("walked %d first segments, not %q: the router has more", len(seen), want)
		}
	}
}
