package web_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/public"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestComponentFeeds: /history.atom?component={id} and its RSS twin,
// parsed by gofeed, list only the incidents and maintenance affecting
// that component, under its name; a hidden, unknown or malformed id is a
// plain-text 404; the history page links every visible component's
// feeds and no hidden one's.
func TestComponentFeeds(t *testing.T) {
	eachServerAt(t, "https://status.example.com", func(t *testing.T, s *webtest.Server) {
		s.SetUp(t)
		ctx := context.Background()
		api, web := addVisible(t, s, "API", true), addVisible(t, s, "Website", true)
		hidden := addVisible(t, s, "Zq7HiddenFeedMarker", false)
		incident := func(title string, comps ...int64) int64 {
			t.Helper()
			statuses := map[int64]models.ComponentStatus{}
			for _, c := range comps {
				statuses[c] = models.StatusDegradedPerformance
			}
			inc, err := s.Store.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: title,
				Status: models.IncidentInvestigating, Message: "Looking.", Components: statuses})
			modelstest.Fatal(t, err, "incident %s", title)
			return inc.ID
		}
		incident("API errors", api)
		incident("Everything slow", api, web)
		incident("Website down", web)
		incident("Secret trouble", hidden)
		start := time.Now().UTC().Add(time.Hour)
		planMaintenance(t, s, models.DefaultPageID, "API upgrade", start, api, hidden)
		planMaintenance(t, s, models.DefaultPageID, "Website deploy", start, web)

		parser := gofeed.NewParser()
		titles := func(path string) (*gofeed.Feed, []string) {
			t.Helper()
			res := s.NewClient(t).Get(path)
			if res.Status != http.StatusOK || res.Header.Get("Access-Control-Allow-Origin") != "*" || res.Header.Get("ETag") == "" {
				t.Fatalf("GET %s: %d, CORS %q, ETag %q", path, res.Status, res.Header.Get("Access-Control-Allow-Origin"), res.Header.Get("ETag"))
			}
			if strings.Contains(res.Body, "Zq7HiddenFeedMarker") {
				t.Errorf("GET %s names the hidden component", path)
			}
			feed, err := parser.ParseString(res.Body)
			modelstest.Fatal(t, err, "parse %s", path)
			var out []string
			for _, it := range feed.Items {
				out = append(out, it.Title)
			}
			slices.Sort(out)
			return feed, out
		}
		want := map[int64][]string{
			api: {"Maintenance: API upgrade", "[Investigating] API errors", "[Investigating] Everything slow"},
			web: {"Maintenance: Website deploy", "[Investigating] Everything slow", "[Investigating] Website down"},
		}
		for id, items := range want {
			name := map[int64]string{api: "API", web: "Website"}[id]
			for _, kind := range []string{"/history.atom", "/history.rss"} {
				path := public.ComponentFeedKey(kind, id)
				feed, got := titles(path)
				if !slices.Equal(got, items) {
					t.Errorf("%s: items %q, want %q", path, got, items)
				}
				if !strings.HasPrefix(feed.Title, name+" · ") {
					t.Errorf("%s: title %q does not name %s", path, feed.Title, name)
				}
				if feed.FeedType == "atom" && (feed.FeedLink != "https://status.example.com"+path) {
					t.Errorf("%s: self link %q", path, feed.FeedLink)
				}
			}
		}
		if _, all := titles("/history.atom"); len(all) != 6 {
			t.Errorf("the page's feed lists %d items, want all 6: %q", len(all), all)
		}

		for _, q := range []string{itoa(hidden), "999999", "abc", "", "-1", "1.5", itoa(api) + "x"} {
			for _, kind := range []string{"/history.atom", "/history.rss"} {
				path := kind + "?component=" + q
				res := s.NewClient(t).Get(path)
				if res.Status != http.StatusNotFound || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") ||
					strings.Contains(res.Body, "<html") || strings.Contains(res.Body, "Zq7HiddenFeedMarker") {
					t.Errorf("GET %s: %d %q\n%s", path, res.Status, res.Header.Get("Content-Type"), res.Body)
				}
				if head := s.NewClient(t).Head(path); head.Status != http.StatusNotFound || head.Body != "" {
					t.Errorf("HEAD %s: %d with %d bytes", path, head.Status, len(head.Body))
				}
			}
		}
		if head := s.NewClient(t).Head(public.ComponentFeedKey("/history.rss", api)); head.Status != http.StatusOK || head.Body != "" {
			t.Errorf("HEAD of a component feed: %d with %d bytes", head.Status, len(head.Body))
		}

		history := s.NewClient(t).Get("/history").Body
		for _, id := range []int64{api, web} {
			for _, kind := range []string{"/history.atom", "/history.rss"} {
				if !strings.Contains(history, `href="`+strings.ReplaceAll(public.ComponentFeedKey(kind, id), "&", "&amp;")+`"`) {
					t.Errorf("the history page does not link %s", public.ComponentFeedKey(kind, id))
				}
			}
		}
		if strings.Contains(history, "Zq7HiddenFeedMarker") || strings.Contains(history, "component="+itoa(hidden)+`"`) {
			t.Error("the history page links the hidden component's feed")
		}
	})
}
