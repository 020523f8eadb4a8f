package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/public"
	"github.com/heraldstatus/herald/web/webtest"
)

// publicPaths lists every public GET endpoint of s: the page, each
// /api/v2 document, the feeds, the badges, the history and the
// permalinks of the given incident and maintenance window.
func publicPaths(incidentID, maintenanceID int64, componentIDs ...int64) []string {
	paths := []string{"/", "/history.atom", "/history.rss", "/maintenance.ics", "/badge.svg", "/history",
		fmt.Sprintf("/incidents/%d", incidentID), fmt.Sprintf("/maintenance/%d", maintenanceID)}
	for _, e := range public.StatuspageEndpoints {
		paths = append(paths, "/api/v2/"+e)
	}
	for _, id := range componentIDs {
		paths = append(paths, public.BadgeKey(id), public.ComponentFeedKey("/history.atom", id), public.ComponentFeedKey("/history.rss", id))
	}
	return paths
}

// seedPublic makes a visible and a hidden component, an incident and a
// maintenance window touching both, and returns their ids.
func seedPublic(t *testing.T, s *webtest.Server, hiddenName string) (visible, hidden, incident, maintenance int64) {
	t.Helper()
	ctx := context.Background()
	visible, hidden = addVisible(t, s, "Website", true), addVisible(t, s, hiddenName, false)
	inc, err := s.Store.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Slow pages", Status: models.IncidentInvestigating, Message: "Looking into it.",
		Components: map[int64]models.ComponentStatus{visible: models.StatusDegradedPerformance, hidden: models.StatusMajorOutage}})
	modelstest.Fatal(t, err, "create incident")
	_, err = s.Store.PostIncidentUpdate(ctx, inc.ID, models.IncidentUpdateInput{Status: models.IncidentIdentified, Message: "Found it.",
		Components: map[int64]models.ComponentStatus{hidden: models.StatusPartialOutage}})
	modelstest.Fatal(t, err, "post update")
	start := time.Now().Add(time.Hour)
	m, err := s.Store.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "Upgrade", Message: "New disks.",
		ComponentIDs: []int64{visible, hidden}, WindowStart: start, WindowEnd: start.Add(time.Hour)})
	modelstest.Fatal(t, err, "schedule maintenance")
	return visible, hidden, inc.ID, m.ID
}

// TestHiddenComponentOnNoPublicSurface: a hidden component affected by an
// incident and a maintenance window appears on no public endpoint, the
// feeds included.
func TestHiddenComponentOnNoPublicSurface(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		s.SetUp(t)
		const marker = "Zq7HiddenMarker"
		visible, hidden, inc, m := seedPublic(t, s, marker)
		c := s.NewClient(t)
		for _, p := range publicPaths(inc, m, visible) {
			res := c.Get(p)
			if res.Status != http.StatusOK {
				t.Fatalf("GET %s: %d", p, res.Status)
			}
			if strings.Contains(res.Body, marker) {
				t.Errorf("GET %s shows the hidden component", p)
			}
			if p == "/history.atom" || p == "/history.rss" {
				if !strings.Contains(res.Body, "Affected components: Website") {
					t.Errorf("GET %s does not list the visible component", p)
				}
			}
		}
		if res := c.Get(public.BadgeKey(hidden)); res.Status != http.StatusNotFound || strings.Contains(res.Body, marker) {
			t.Errorf("hidden component's badge: %d, shows name %v", res.Status, strings.Contains(res.Body, marker))
		}
	})
}

// TestEveryGetRouteAnswersHead: HEAD on any GET route gets the status and
// headers GET gets, without a body: the page, feeds, badges, /api/v2/*,
// /healthz and the admin screens alike.
func TestEveryGetRouteAnswersHead(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		admin := s.SetUp(t)
		visible, _, inc, m := seedPublic(t, s, "Hidden")
		visitor := s.NewClient(t)
		paths := append(publicPaths(inc, m, visible), "/healthz", "/readyz", "/metrics", "/login")
		for _, p := range paths {
			get, head := visitor.Get(p), visitor.Head(p)
			if head.Status != http.StatusOK || get.Status != http.StatusOK {
				t.Errorf("%s: HEAD %d, GET %d, want 200 for both", p, head.Status, get.Status)
			}
			if head.Body != "" {
				t.Errorf("HEAD %s has a body", p)
			}
			if head.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
				t.Errorf("HEAD %s: Content-Type %q, GET's %q", p, head.Header.Get("Content-Type"), get.Header.Get("Content-Type"))
			}
		}
		// Every GET route, with its parameters filled in, answers HEAD as
		// it answers GET (the admin's screens need the session).
		ids := strings.NewReplacer(":id", fmt.Sprint(inc), ":did", "1", "*", "")
		n := 0
		for _, r := range s.Routes {
			path, ok := strings.CutPrefix(r, "GET ")
			if !ok {
				continue
			}
			n++
			path = ids.Replace(path)
			if strings.HasPrefix(path, "/maintenance/") {
				path = fmt.Sprintf("/maintenance/%d", m)
			}
			get, head := admin.Get(path), admin.Head(path)
			if head.Status == http.StatusMethodNotAllowed || head.Status != get.Status || head.Body != "" {
				t.Errorf("HEAD %s: %d with %d bytes, GET %d", path, head.Status, len(head.Body), get.Status)
			}
		}
		if n < 40 {
			t.Fatalf("only %d GET routes listed", n)
		}
	})
}

// surfaceStatus reads the overall status from the banner, the page badge
// and status.json.
func surfaceStatus(t *testing.T, c *webtest.Client) (banner, badge, indicator, description string) {
	t.Helper()
	page := c.Get("/").Body
	m := regexp.MustCompile(`<h2 id="banner-text">([^<]*)</h2>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no banner on the page")
	}
	svg := c.Get("/badge.svg").Body
	b := regexp.MustCompile(`<title>status: ([^<]*)</title>`).FindStringSubmatch(svg)
	if b == nil {
		t.Fatalf("no title in the badge:\n%s", svg)
	}
	var st struct {
		Status struct{ Indicator, Description string }
	}
	if err := json.Unmarshal([]byte(c.Get("/api/v2/status.json").Body), &st); err != nil {
		t.Fatalf("status.json: %v", err)
	}
	return m[1], b[1], st.Status.Indicator, st.Status.Description
}

// TestOneStatusRuleOnEverySurface: the banner, the page badge and
// status.json agree, for a maintenance window in progress that leaves its
// components operational and for an open critical incident whose
// components are operational.
func TestOneStatusRuleOnEverySurface(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		s.SetUp(t)
		ctx := context.Background()
		c := s.NewClient(t)
		web := addVisible(t, s, "Website", true)
		addVisible(t, s, "API", true)
		want := func(step, banner, badge, indicator string) {
			t.Helper()
			gotBanner, gotBadge, gotIndicator, gotDesc := surfaceStatus(t, c)
			if gotBanner != banner || gotDesc != banner || gotBadge != badge || gotIndicator != indicator {
				t.Errorf("%s: banner %q, badge %q, status.json %q %q; want %q, %q, %q", step,
					gotBanner, gotBadge, gotIndicator, gotDesc, banner, badge, indicator)
			}
		}
		want("all operational", "All Systems Operational", "operational", "none")

		now := time.Now().UTC()
		m, err := s.Store.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "Disks",
			ComponentIDs: []int64{web}, WindowStart: now.Add(-time.Minute), WindowEnd: now.Add(time.Hour)})
		modelstest.Fatal(t, err, "schedule")
		_, err = s.Store.RunMaintenanceTransitions(ctx)
		modelstest.Fatal(t, err, "start")
		want("maintenance in progress, components operational", "Service Under Maintenance", "maintenance", "maintenance")

		inc, err := s.Store.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Payments failing",
			Status: models.IncidentInvestigating, Impact: models.ImpactCritical, Message: "Looking."})
		modelstest.Fatal(t, err, "create incident")
		want("critical incident during maintenance", "Major System Outage", "major outage", "critical")

		modelstest.Fatal(t, s.Store.EndMaintenanceNow(ctx, m.ID), "end maintenance")
		want("critical incident, components operational", "Major System Outage", "major outage", "critical")

		_, err = s.Store.ResolveIncident(ctx, inc.ID, "Fixed.")
		modelstest.Fatal(t, err, "resolve")
		want("resolved", "All Systems Operational", "operational", "none")
	})
}

// rawRequest makes one request with a bare transport (no gzip added or
// stripped) and returns the answer and its body.
func rawRequest(t *testing.T, method, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	modelstest.Fatal(t, err, "request")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	modelstest.Fatal(t, err, "%s %s", method, url)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	modelstest.Fatal(t, err, "read %s", url)
	return resp, body
}

// TestPublicHTTPDetails: gzip refused with q=0, one ETag per encoding,
// CORS on preflights and feeds with ETag exposed, RSS pubDate the
// publication time, and Content-Length on the plain page.
func TestPublicHTTPDetails(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		s.SetUp(t)
		ctx := context.Background()
		addVisible(t, s, "Website", true)
		started := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second)
		_, err := s.Store.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Old outage", Message: "Down.",
			Backfill: true, StartedAt: started, ResolvedAt: started.Add(24 * time.Hour)})
		modelstest.Fatal(t, err, "back-fill")

		for _, ae := range []string{"gzip;q=0.0", "gzip; q=0", "identity, gzip;q=0.000", "br"} {
			res, _ := rawRequest(t, "GET", s.URL+"/api/v2/status.json", map[string]string{"Accept-Encoding": ae})
			if res.Header.Get("Content-Encoding") != "" {
				t.Errorf("Accept-Encoding %q got Content-Encoding %q", ae, res.Header.Get("Content-Encoding"))
			}
		}
		for _, ae := range []string{"gzip", "gzip;q=0.5", "deflate, gzip;q=0.001"} {
			res, _ := rawRequest(t, "GET", s.URL+"/api/v2/status.json", map[string]string{"Accept-Encoding": ae})
			if res.Header.Get("Content-Encoding") != "gzip" {
				t.Errorf("Accept-Encoding %q got no gzip", ae)
			}
		}

		for _, p := range []string{"/", "/api/v2/summary.json", "/history.atom", "/badge.svg"} {
			plain, body := rawRequest(t, "GET", s.URL+p, map[string]string{"Accept-Encoding": "identity"})
			gz, _ := rawRequest(t, "GET", s.URL+p, map[string]string{"Accept-Encoding": "gzip"})
			if plain.Header.Get("ETag") == "" || plain.Header.Get("ETag") == gz.Header.Get("ETag") {
				t.Errorf("%s: identity ETag %q, gzip ETag %q: want two different ones", p, plain.Header.Get("ETag"), gz.Header.Get("ETag"))
			}
			if plain.ContentLength != int64(len(body)) || len(plain.TransferEncoding) > 0 {
				t.Errorf("%s: Content-Length %d, Transfer-Encoding %v for %d bytes", p, plain.ContentLength, plain.TransferEncoding, len(body))
			}
			if r, _ := rawRequest(t, "GET", s.URL+p, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": gz.Header.Get("ETag")}); r.StatusCode != http.StatusNotModified {
				t.Errorf("%s: gzip ETag revalidated as %d, want 304", p, r.StatusCode)
			}
			if r, _ := rawRequest(t, "GET", s.URL+p, map[string]string{"Accept-Encoding": "identity", "If-None-Match": gz.Header.Get("ETag")}); r.StatusCode != http.StatusOK {
				t.Errorf("%s: identity request with the gzip ETag got %d, want 200", p, r.StatusCode)
			}
		}

		for _, p := range []string{"/api/v2/status.json", "/history.atom", "/history.rss", "/badge.svg"} {
			pre, _ := rawRequest(t, "OPTIONS", s.URL+p, map[string]string{"Origin": "https://example.org",
				"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "if-none-match"})
			if pre.StatusCode/100 != 2 || pre.Header.Get("Access-Control-Allow-Origin") != "*" ||
				!strings.Contains(pre.Header.Get("Access-Control-Allow-Methods"), "GET") ||
				!strings.Contains(strings.ToLower(pre.Header.Get("Access-Control-Allow-Headers")), "if-none-match") {
				t.Errorf("preflight %s: %d %v", p, pre.StatusCode, pre.Header)
			}
			res, _ := rawRequest(t, "GET", s.URL+p, map[string]string{"Origin": "https://example.org"})
			if res.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(res.Header.Get("Access-Control-Expose-Headers"), "ETag") {
				t.Errorf("GET %s: Allow-Origin %q, Expose-Headers %q", p, res.Header.Get("Access-Control-Allow-Origin"), res.Header.Get("Access-Control-Expose-Headers"))
			}
		}

		_, rss := rawRequest(t, "GET", s.URL+"/history.rss", nil)
		m := regexp.MustCompile(`<pubDate>([^<]+)</pubDate>`).FindSubmatch(rss)
		if m == nil {
			t.Fatalf("no pubDate in the RSS feed:\n%s", rss)
		}
		if got, want := string(m[1]), started.Format(time.RFC1123Z); got != want {
			t.Errorf("RSS pubDate %s, want the publication time %s", got, want)
		}
	})
}

// TestVisitorDetails: an unknown component's badge is an SVG with 404;
// the favicon is an SVG in the overall status colour; a page named
// "… Status" is not called "… Status status"; a date in another year
// shows the year.
func TestVisitorDetails(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		s.SetUp(t)
		ctx := context.Background()
		c := s.NewClient(t)
		for _, q := range []string{"999", "abc", "-1"} {
			res := c.Get("/badge.svg?component=" + q)
			if res.Status != http.StatusNotFound || res.Header.Get("Content-Type") != "image/svg+xml" ||
				!strings.Contains(res.Body, "<title>component: unknown</title>") {
				t.Errorf("badge of component %s: %d %q\n%s", q, res.Status, res.Header.Get("Content-Type"), res.Body)
			}
		}

		api := addVisible(t, s, "API", true)
		if !strings.Contains(c.Get("/").Body, `<link rel="icon" href="/favicon.svg" type="image/svg+xml">`) {
			t.Error("the page does not link its favicon")
		}
		if res := c.Get("/favicon.ico"); res.Status != http.StatusMovedPermanently || res.Location != "/favicon.svg" {
			t.Errorf("/favicon.ico: %d to %q", res.Status, res.Location)
		}
		favicon := func(step, colour string) {
			t.Helper()
			res := c.Get("/favicon.svg")
			if res.Status != http.StatusOK || res.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(res.Body, `fill="`+colour+`"`) {
				t.Errorf("%s: favicon %d %q, want %s:\n%s", step, res.Status, res.Header.Get("Content-Type"), colour, res.Body)
			}
		}
		favicon("operational", "#1f883d")
		_, err := s.Store.SetComponentStatus(ctx, api, models.StatusMajorOutage, models.SourceManual, nil)
		modelstest.Fatal(t, err, "set status")
		favicon("major outage", "#cf222e")

		_, err = s.Store.UpdatePage(ctx, models.DefaultPageID, models.PageInput{Name: "Acme Cloud Status", AccentColor: "blue", TimeZone: "UTC"})
		modelstest.Fatal(t, err, "rename page")
		page, atom, rss := c.Get("/").Body, c.Get("/history.atom").Body, c.Get("/history.rss").Body
		if !strings.Contains(page, `<h1 class="visually-hidden">Acme Cloud Status</h1>`) {
			t.Error("page heading is not the page's name")
		}
		for name, body := range map[string]string{"page": page, "atom": atom, "rss": rss} {
			if strings.Contains(strings.ToLower(body), "status status") {
				t.Errorf("%s reads “Status status”", name)
			}
		}
		if !strings.Contains(atom, "<title>Acme Cloud Status</title>") || !strings.Contains(rss, "<title>Acme Cloud Status</title>") {
			t.Error("feed titles are not the page's name")
		}

		next := time.Now().UTC().AddDate(1, 0, 0)
		start := time.Date(next.Year(), 3, 4, 10, 0, 0, 0, time.UTC)
		_, err = s.Store.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "Next year's move",
			WindowStart: start, WindowEnd: start.Add(time.Hour)})
		modelstest.Fatal(t, err, "schedule")
		page = c.Get("/").Body
		if want := fmt.Sprintf(">Mar 4, %d, 10:00 UTC</time>", next.Year()); !strings.Contains(page, want) {
			t.Errorf("the page does not show the window's year: want %q", want)
		}
		if want := time.Now().UTC().Format(">Jan 2, 15:04 UTC</time>"); !strings.Contains(page, "Last updated <time") || strings.Contains(page, time.Now().UTC().Format("Jan 2, 2006, 15:")) {
			t.Errorf("a date of this year shows the year (want the form %q)", want)
		}
	})
}
