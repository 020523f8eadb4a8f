package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// markedPage is what seedMarkedPage put on a page, every name starting
// with its mark.
type markedPage struct {
	ID          int64
	Component   int64
	Incident    int64
	Maintenance int64
}

// seedMarkedPage gives page id a group, a component, an incident and a
// maintenance window, all named with mark.
func seedMarkedPage(t *testing.T, s *models.Store, id int64, mark string) markedPage {
	t.Helper()
	ctx := context.Background()
	g, err := s.CreateGroup(ctx, id, models.GroupInput{Name: mark + "-Group"})
	modelstest.Fatal(t, err, "group %s", mark)
	c, err := s.CreateComponent(ctx, id, models.ComponentInput{Name: mark + "-API", Description: mark + "-described",
		Visible: true, Status: models.StatusOperational, GroupID: &g.ID})
	modelstest.Fatal(t, err, "component %s", mark)
	inc, err := s.CreateIncident(ctx, id, models.IncidentInput{Title: mark + "-Outage", Status: models.IncidentInvestigating,
		Message: mark + "-message", Components: map[int64]models.ComponentStatus{c.ID: models.StatusMajorOutage}})
	modelstest.Fatal(t, err, "incident %s", mark)
	start := s.Now().Add(24 * time.Hour)
	m, err := s.ScheduleMaintenance(ctx, id, models.MaintenanceInput{Title: mark + "-Window", Message: mark + "-work",
		ComponentIDs: []int64{c.ID}, WindowStart: start, WindowEnd: start.Add(time.Hour)})
	modelstest.Fatal(t, err, "maintenance %s", mark)
	return markedPage{ID: id, Component: c.ID, Incident: inc.ID, Maintenance: m.ID}
}

// pagePaths are the public resources of a page, relative to its root.
func pagePaths(p markedPage) []string {
	paths := []string{"/", "/history", "/subscribe", "/history.atom", "/history.rss", "/maintenance.ics",
		"/badge.svg", "/favicon.svg",
		fmt.Sprintf("/history.atom?component=%d", p.Component), fmt.Sprintf("/history.rss?component=%d", p.Component),
		fmt.Sprintf("/badge.svg?component=%d", p.Component),
		fmt.Sprintf("/incidents/%d", p.Incident), fmt.Sprintf("/maintenance/%d", p.Maintenance)}
	for _, name := range []string{"summary", "status", "components", "incidents", "incidents/unresolved",
		"scheduled-maintenances", "scheduled-maintenances/upcoming", "scheduled-maintenances/active"} {
		paths = append(paths, "/api/v2/"+name+".json")
	}
	return paths
}

// get requests base+path with host as the Host header ("" for the
// server's own), following no redirect.
func get(t *testing.T, base, host, path string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	modelstest.Fatal(t, err, "request %s", path)
	if host != "" {
		req.Host = host
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	modelstest.Fatal(t, err, "GET %s (Host %s)", path, host)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	modelstest.Fatal(t, err, "read %s", path)
	return res.StatusCode, res.Header, string(body)
}

// TestPagesServedApart: every public resource of a page under /s/{slug}/
// and at / on the page's own host name shows that page and nothing of
// another; links stay on the page; a permalink of one page is a 404 on
// another; unknown slugs are a 404 and unknown hosts get the default
// page. On both engines.
func TestPagesServedApart(t *testing.T) {
	for _, e := range modelstest.Engines {
		t.Run(string(e), func(t *testing.T) {
			srv := webtest.Start(t, e)
			ctx := context.Background()
			bravoPage := modelstest.InsertPage(t, srv.Store, "bravo", "Bravo Status")
			charliePage := modelstest.InsertPage(t, srv.Store, "charlie", "Charlie Status")
			alpha := seedMarkedPage(t, srv.Store, models.DefaultPageID, "ALPHA")
			bravo := seedMarkedPage(t, srv.Store, bravoPage.ID, "BRAVO")
			charlie := seedMarkedPage(t, srv.Store, charliePage.ID, "CHARLIE")
			modelstest.Fatal(t, srv.Store.SetPageDomain(ctx, charliePage.ID, "Status.Charlie.Example"), "charlie's domain")

			check := func(label, host, prefix, mine string, p markedPage, others ...string) {
				t.Helper()
				for _, path := range pagePaths(p) {
					status, hd, body := get(t, srv.URL, host, prefix+path)
					if status != http.StatusOK {
						t.Errorf("%s %s%s: status %d\n%.300s", label, prefix, path, status, body)
						continue
					}
					for _, other := range others {
						if strings.Contains(body, other+"-") {
							t.Errorf("%s %s%s shows %s:\n%.2000s", label, prefix, path, other, body)
						}
					}
					ct := hd.Get("Content-Type")
					if strings.HasPrefix(ct, "text/html") || strings.Contains(ct, "json") {
						if !strings.HasSuffix(path, "/subscribe") && !strings.HasSuffix(path, "/status.json") && !strings.HasSuffix(path, "/active.json") && !strings.Contains(body, mine+"-") {
							t.Errorf("%s %s%s does not show %s:\n%.1000s", label, prefix, path, mine, body)
						}
					}
					if strings.HasPrefix(ct, "text/html") && prefix != "" {
						for _, link := range []string{`href="/history"`, `href="/subscribe"`, `href="/incidents/`, `href="/favicon.svg"`} {
							if strings.Contains(body, link) {
								t.Errorf("%s %s%s links %s, off the page", label, prefix, path, link)
							}
						}
					}
				}
			}
			check("default page", "", "", "ALPHA", alpha, "BRAVO", "CHARLIE")
			check("bravo", "", "/s/bravo", "BRAVO", bravo, "ALPHA", "CHARLIE")
			check("charlie by host", "status.charlie.example:8443", "", "CHARLIE", charlie, "ALPHA", "BRAVO")
			check("unknown host", "elsewhere.example", "", "ALPHA", alpha, "BRAVO", "CHARLIE")

			// Links on bravo's page stay under its prefix; absolute URLs
			// carry it too.
			_, _, html := get(t, srv.URL, "", "/s/bravo/")
			for _, want := range []string{`href="/s/bravo/history"`, `href="/s/bravo/subscribe"`, fmt.Sprintf(`href="/s/bravo/incidents/%d"`, bravo.Incident), `href="/s/bravo/history.atom"`} {
				if !strings.Contains(html, want) {
					t.Errorf("bravo's page lacks %s", want)
				}
			}
			_, _, summary := get(t, srv.URL, "", "/s/bravo/api/v2/summary.json")
			if want := fmt.Sprintf("/s/bravo/incidents/%d", bravo.Incident); !strings.Contains(summary, want) || !strings.Contains(summary, `/s/bravo/"`) {
				t.Errorf("bravo's summary.json lacks its page URL or the shortlink %s:\n%s", want, summary)
			}
			_, _, feed := get(t, srv.URL, "", "/s/bravo/history.atom")
			if !strings.Contains(feed, fmt.Sprintf("/s/bravo/incidents/%d", bravo.Incident)) {
				t.Errorf("bravo's feed does not link its incident under /s/bravo/:\n%s", feed)
			}
			_, _, ics := get(t, srv.URL, "", "/s/bravo/maintenance.ics")
			if !strings.Contains(ics, fmt.Sprintf("/s/bravo/maintenance/%d", bravo.Maintenance)) {
				t.Errorf("bravo's calendar does not link its window under /s/bravo/:\n%s", ics)
			}
			_, _, charlieJSON := get(t, srv.URL, "status.charlie.example", "/api/v2/summary.json")
			if want := fmt.Sprintf("https://status.charlie.example/incidents/%d", charlie.Incident); !strings.Contains(charlieJSON, want) {
				t.Errorf("charlie's summary.json lacks %s:\n%s", want, charlieJSON)
			}
			_, _, charlieHTML := get(t, srv.URL, "status.charlie.example", "/")
			if !strings.Contains(charlieHTML, `href="/history"`) || strings.Contains(charlieHTML, "/s/charlie") {
				t.Errorf("charlie's page on its host does not link at its root")
			}
			// Notifications link the page's own URL.
			events, err := srv.Store.Events(ctx, models.EventFilter{})
			modelstest.Fatal(t, err, "events")
			for _, ev := range events {
				if ev.PageID == bravoPage.ID && strings.Contains(ev.Data, "/incidents/") && !strings.Contains(ev.Data, "/s/bravo/incidents/") {
					t.Errorf("an event of bravo links off its page: %s", ev.Data)
				}
			}

			// Another page's permalinks are 404s; so are unknown slugs.
			for _, path := range []string{
				fmt.Sprintf("/s/bravo/incidents/%d", alpha.Incident), fmt.Sprintf("/s/bravo/maintenance/%d", alpha.Maintenance),
				fmt.Sprintf("/incidents/%d", bravo.Incident), fmt.Sprintf("/maintenance/%d", bravo.Maintenance),
				fmt.Sprintf("/s/bravo/badge.svg?component=%d", alpha.Component),
				fmt.Sprintf("/s/bravo/history.atom?component=%d", alpha.Component),
				"/s/nosuch/", "/s/nosuch/api/v2/summary.json", "/s/nosuch/history.atom", "/s/bravo/nothing-here",
			} {
				if status, _, _ := get(t, srv.URL, "", path); status != http.StatusNotFound {
					t.Errorf("GET %s: status %d, want 404", path, status)
				}
			}
			if status, _, _ := get(t, srv.URL, "status.charlie.example", fmt.Sprintf("/incidents/%d", alpha.Incident)); status != http.StatusNotFound {
				t.Errorf("the default page's incident on charlie's host: status %d, want 404", status)
			}

			// Redirects: /s/main to /, /s/bravo to /s/bravo/, charlie's
			// prefix to its host.
			for path, want := range map[string]string{
				"/s/main/":                      "/",
				"/s/main/history?page=1":        "/history?page=1",
				"/s/bravo":                      "/s/bravo/",
				"/s/charlie/api/v2/status.json": "https://status.charlie.example/api/v2/status.json",
				"/s/bravo/favicon.ico":          "/s/bravo/favicon.svg",
			} {
				status, hd, _ := get(t, srv.URL, "", path)
				if status != http.StatusMovedPermanently || hd.Get("Location") != want {
					t.Errorf("GET %s: %d to %q, want 301 to %q", path, status, hd.Get("Location"), want)
				}
			}

			// An unknown endpoint points at the page's own summary.
			if status, _, body := get(t, srv.URL, "", "/s/bravo/api/v2/nope.json"); status != http.StatusNotFound || !strings.Contains(body, "/s/bravo/api/v2/summary.json") {
				t.Errorf("GET /s/bravo/api/v2/nope.json: %d %s, want 404 naming /s/bravo/api/v2/summary.json", status, body)
			}

			// /metrics counts the rebuilds of each page in memory.
			if status, _, body := scrape(t, srv, ""); status == http.StatusOK {
				fams := parseMetrics(t, body)
				for _, id := range []int64{models.DefaultPageID, bravoPage.ID, charliePage.ID} {
					if sample(fams, "herald_public_snapshot_page_builds_total", map[string]string{"page_id": fmt.Sprint(id)}) == nil {
						t.Errorf("/metrics has no rebuild count of page %d", id)
					}
					if sample(fams, "herald_public_snapshot_page_build_seconds", map[string]string{"page_id": fmt.Sprint(id)}) == nil {
						t.Errorf("/metrics has no rebuild time of page %d", id)
					}
				}
			} else {
				t.Errorf("/metrics: status %d", status)
			}

			// HEAD, as uptime monitors send it, goes the same way.
			for path, want := range map[string]int{"/s/bravo/": 200, "/s/bravo/api/v2/status.json": 200, "/s/nosuch/": 404} {
				req, err := http.NewRequest(http.MethodHead, srv.URL+path, nil)
				modelstest.Fatal(t, err, "HEAD %s", path)
				res, err := http.DefaultTransport.RoundTrip(req)
				modelstest.Fatal(t, err, "HEAD %s", path)
				res.Body.Close()
				if res.StatusCode != want {
					t.Errorf("HEAD %s: status %d, want %d", path, res.StatusCode, want)
				}
			}

			// Admin paths work on any host.
			if status, _, _ := get(t, srv.URL, "status.charlie.example", "/login"); status != http.StatusOK && status != http.StatusSeeOther {
				t.Errorf("/login on charlie's host: status %d", status)
			}
		})
	}
}

// TestSubscribeToAPage: the sign-up form under /s/{slug}/ subscribes to
// that page, and its e-mail links the page.
func TestSubscribeToAPage(t *testing.T) {
	for _, e := range modelstest.Engines {
		t.Run(string(e), func(t *testing.T) {
			srv, mail, base := startWithMail(t, e)
			bravo := modelstest.InsertPage(t, srv.Store, "bravo", "Bravo Status")
			for id, name := range map[int64]string{models.DefaultPageID: "ALPHA-API", bravo.ID: "BRAVO-API"} {
				_, err := srv.Store.CreateComponent(context.Background(), id, models.ComponentInput{Name: name, Visible: true, Status: models.StatusOperational})
				modelstest.Fatal(t, err, "component %s", name)
			}
			c := srv.NewClientFrom(t, "127.0.16.1")
			res := c.Submit("/s/bravo/subscribe", "/s/bravo/subscribe", url.Values{"email": {"reader@example.com"}, "all_components": {"1"}})
			if res.Status != http.StatusOK {
				t.Fatalf("subscribe on bravo: status %d\n%s", res.Status, res.Body)
			}
			ctx := context.Background()
			for id, want := range map[int64]int{bravo.ID: 1, models.DefaultPageID: 0} {
				subs, err := srv.Store.Subscribers(ctx, models.SubscriberFilter{PageID: id})
				modelstest.Fatal(t, err, "subscribers of page %d", id)
				if len(subs) != want {
					t.Errorf("page %d has %d subscribers, want %d", id, len(subs), want)
				}
			}
			msgs := waitMailTo(t, mail, "reader@example.com", 1)
			if !strings.Contains(msgs[0].Text, "Bravo Status") {
				t.Errorf("the confirmation e-mail does not name bravo:\n%s", msgs[0].Text)
			}
			// The links of the e-mail answer with bravo's page.
			confirm := strings.TrimPrefix(linkAfter(t, msgs[0].Text, base+"/subscriptions/confirm/"), base)
			prefs := strings.TrimPrefix(linkAfter(t, msgs[0].Text, base+"/subscriptions/"), base)
			if prefs == confirm {
				_, after, _ := strings.Cut(msgs[0].Text, confirm)
				prefs = strings.TrimPrefix(linkAfter(t, after, base+"/subscriptions/"), base)
			}
			t.Logf("confirm %s, preferences %s", confirm, prefs)
			for _, step := range []struct {
				method, path string
			}{{http.MethodGet, confirm}, {http.MethodPost, confirm}, {http.MethodGet, prefs}} {
				var res webtest.Response
				if step.method == http.MethodGet {
					res = c.Get(step.path)
				} else {
					res = c.Post(step.path, url.Values{})
				}
				if res.Status != http.StatusOK || !strings.Contains(res.Body, "Bravo Status") || strings.Contains(res.Body, "ALPHA-") {
					t.Errorf("%s %s: status %d, not bravo's page alone:\n%.3000s", step.method, step.path, res.Status, res.Body)
				}
			}
			if res := c.Get(prefs); !strings.Contains(res.Body, "BRAVO-API") {
				t.Errorf("bravo's preferences do not offer its component:\n%.3000s", res.Body)
			}
		})
	}
}

// TestSettingsCustomDomain: the settings form gives the default page a
// host name (checked, audited), served at / on that host; a bad one is a
// 422 that keeps the rest of the form unsaved.
func TestSettingsCustomDomain(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		for _, bad := range []string{"https://status.example.com", "status.example.com:8443", "192.0.2.7", "status.example.com/path",
			"st\x00atus.example.com", "status\r\n.example.com", strings.Repeat("a", 250) + ".example"} {
			res := c.Submit("/admin/settings", "/admin/settings", settingsForm(url.Values{"name": {"Renamed"}, "domain": {bad}}))
			if res.Status != http.StatusUnprocessableEntity {
				t.Errorf("domain %q: status %d, want 422", bad, res.Status)
			}
		}
		if p, _ := s.Store.Page(context.Background(), models.DefaultPageID); p.Name == "Renamed" {
			t.Error("a refused host name saved the rest of the form")
		}
		res := c.Submit("/admin/settings", "/admin/settings", settingsForm(url.Values{"domain": {"Status.Acme.Example"}}))
		if res.Status != http.StatusSeeOther {
			t.Fatalf("a good host name: status %d\n%.2000s", res.Status, res.Body)
		}
		if form := c.Get("/admin/settings"); !strings.Contains(form.Body, `value="status.acme.example"`) {
			t.Error("the settings form does not show the saved host name")
		}
		_, _, summary := get(t, s.URL, "status.acme.example", "/api/v2/summary.json")
		if !strings.Contains(summary, `"url":"https://status.acme.example/"`) {
			t.Errorf("summary.json on the page's host: %s", summary)
		}
		entries, err := s.Store.AuditEntries(context.Background(), models.AuditFilter{Action: "page.update"})
		modelstest.Fatal(t, err, "audit")
		found := false
		for _, e := range entries {
			found = found || strings.Contains(e.After, "status.acme.example")
		}
		if !found {
			t.Error("setting the host name is not audited")
		}
		if status, _, _ := get(t, s.URL, "status.acme.example", "/login"); status != http.StatusOK && status != http.StatusSeeOther {
			t.Errorf("/login on the page's host: status %d", status)
		}
	})
}
