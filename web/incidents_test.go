package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// addComponent creates a visible component straight in the store.
func addComponent(t *testing.T, s *webtest.Server, name string, status models.ComponentStatus) int64 {
	t.Helper()
	c, err := s.Store.CreateComponent(t.Context(), models.DefaultPageID, models.ComponentInput{Name: name, Status: status, Visible: true})
	modelstest.Fatal(t, err, "create component %s", name)
	return c.ID
}

func componentStatus(t *testing.T, s *webtest.Server, id int64) models.ComponentStatus {
	t.Helper()
	c, err := s.Store.Component(t.Context(), id)
	modelstest.Fatal(t, err, "load component %d", id)
	return c.Status
}

// eventCount is how many events the outbox holds.
func eventCount(t *testing.T, s *webtest.Server) int {
	t.Helper()
	evs, err := s.Store.Events(t.Context(), models.EventFilter{})
	modelstest.Fatal(t, err, "events")
	return len(evs)
}

// eventsAfter lists the types of the events written after the first n.
func eventsAfter(t *testing.T, s *webtest.Server, n int) []models.EventType {
	t.Helper()
	evs, err := s.Store.Events(t.Context(), models.EventFilter{})
	modelstest.Fatal(t, err, "events")
	// By time, not id: ids made in the same millisecond need not sort in
	// the order they were made.
	slices.SortStableFunc(evs, func(a, b models.Event) int { return a.OccurredAt.Compare(b.OccurredAt) })
	var out []models.EventType
	for _, e := range evs[n:] {
		out = append(out, e.Type)
	}
	return out
}

func countTypes(types []models.EventType, want models.EventType) int {
	n := 0
	for _, t := range types {
		if t == want {
			n++
		}
	}
	return n
}

func incidentCount(t *testing.T, s *webtest.Server) int64 {
	t.Helper()
	n, err := s.Store.CountIncidents(t.Context(), models.DefaultPageID)
	modelstest.Fatal(t, err, "count incidents")
	return n
}

// idFromLocation reads the id at the end of a redirect such as
// /admin/incidents/12.
func idFromLocation(t *testing.T, res webtest.Response, prefix string) int64 {
	t.Helper()
	if res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Location, prefix) {
		t.Fatalf("status %d → %q, want 303 to %s<id>\n%s", res.Status, res.Location, prefix, res.Body)
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(res.Location, prefix), 10, 64)
	if err != nil {
		t.Fatalf("redirect %q has no id", res.Location)
	}
	return id
}

func wantInOrder(t *testing.T, body string, parts ...string) {
	t.Helper()
	at := 0
	for _, p := range parts {
		i := strings.Index(body[at:], p)
		if i < 0 {
			t.Fatalf("%q missing (or out of order) after offset %d", p, at)
		}
		at += i + len(p)
	}
}

func TestIncidentLifecycleThroughTheAdmin(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		api := addComponent(t, s, "API", models.StatusOperational)
		web := addComponent(t, s, "Website", models.StatusOperational)
		before := eventCount(t, s)

		res := c.Submit("/admin/incidents/new", "/admin/incidents", url.Values{
			"title":                  {"Elevated API errors"},
			"status":                 {"investigating"},
			"impact":                 {""},
			"message":                {"We see **errors** on the API."},
			"component_" + itoa(api): {"major_outage"},
			"component_" + itoa(web): {""},
			"started_at":             {"ignored without back-fill"},
		})
		id := idFromLocation(t, res, "/admin/incidents/")

		inc, err := s.Store.Incident(t.Context(), id)
		modelstest.Fatal(t, err, "load incident")
		if inc.Status != models.IncidentInvestigating || inc.Impact != models.ImpactCritical || inc.Backfilled {
			t.Errorf("incident = %s/%s backfilled=%v, want investigating/critical (derived) not back-filled", inc.Status, inc.Impact, inc.Backfilled)
		}
		if len(inc.Components) != 1 || inc.Components[0].ID != api {
			t.Errorf("affected components = %+v, want only API", inc.Components)
		}
		if got := componentStatus(t, s, api); got != models.StatusMajorOutage {
			t.Errorf("API is %s, want major_outage", got)
		}
		if got := componentStatus(t, s, web); got != models.StatusOperational {
			t.Errorf("Website is %s, want untouched", got)
		}
		evs := eventsAfter(t, s, before)
		if countTypes(evs, models.EventIncidentCreated) != 1 || countTypes(evs, models.EventComponentStatusChanged) != 1 || len(evs) != 2 {
			t.Errorf("events = %v, want incident.created and one component.status_changed", evs)
		}

		page := c.Get(res.Location)
		if page.Status != http.StatusOK || !strings.Contains(page.Body, "Incident “Elevated API errors” published.") ||
			!strings.Contains(page.Body, "<strong>errors</strong>") {
			t.Fatalf("detail page: %d, want flash and rendered Markdown\n%s", page.Status, page.Body)
		}
		list := c.Get("/admin/incidents")
		wantInOrder(t, list.Body, "Elevated API errors", "Investigating", "Critical", "just now")

		anon := s.NewClient(t)
		public := anon.Get("/")
		if !strings.Contains(public.Body, "Active incidents") || !strings.Contains(public.Body, fmt.Sprintf(`href="/incidents/%d"`, id)) ||
			!strings.Contains(public.Body, "Critical impact") || !strings.Contains(public.Body, "<strong>errors</strong>") {
			t.Errorf("public page lacks the active incident:\n%s", public.Body)
		}
		if !strings.Contains(public.Body, "<time datetime=") {
			t.Error("public incident update has no <time datetime>")
		}

		// An update: identified, API down to a partial outage.
		before = eventCount(t, s)
		path := fmt.Sprintf("/admin/incidents/%d", id)
		res = c.Submit(path, path+"/updates", url.Values{
			"status":                 {"identified"},
			"impact":                 {"major"},
			"message":                {"Found a bad deploy; rolling back."},
			"component_" + itoa(api): {"partial_outage"},
			"component_" + itoa(web): {""},
		})
		if res.Status != http.StatusSeeOther || res.Location != path {
			t.Fatalf("post update: %d → %q\n%s", res.Status, res.Location, res.Body)
		}
		evs = eventsAfter(t, s, before)
		if countTypes(evs, models.EventIncidentUpdated) != 1 || countTypes(evs, models.EventComponentStatusChanged) != 1 {
			t.Errorf("events after update = %v", evs)
		}
		if got := componentStatus(t, s, api); got != models.StatusPartialOutage {
			t.Errorf("API is %s after the update, want partial_outage", got)
		}

		// An update that leaves the preset statuses alone changes no component.
		before = eventCount(t, s)
		res = c.Submit(path, path+"/updates", url.Values{
			"status": {"monitoring"}, "message": {"Watching."}, "component_" + itoa(api): {"partial_outage"},
		})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("second update: %d", res.Status)
		}
		if evs := eventsAfter(t, s, before); len(evs) != 1 || evs[0] != models.EventIncidentUpdated {
			t.Errorf("events after an update without changes = %v, want only incident.updated", evs)
		}

		before = eventCount(t, s)
		res = c.Submit(path, path+"/resolve", url.Values{"message": {""}})
		if res.Status != http.StatusSeeOther || res.Location != path {
			t.Fatalf("resolve: %d → %q", res.Status, res.Location)
		}
		evs = eventsAfter(t, s, before)
		if countTypes(evs, models.EventIncidentResolved) != 1 || countTypes(evs, models.EventComponentStatusChanged) != 1 {
			t.Errorf("events after resolve = %v", evs)
		}
		if got := componentStatus(t, s, api); got != models.StatusOperational {
			t.Errorf("API is %s after resolve, want operational", got)
		}
		if res := c.Submit(path, path+"/resolve", nil); res.Status != http.StatusSeeOther {
			t.Errorf("resolving twice: %d, want a redirect with a message", res.Status)
		} else if !strings.Contains(c.Get(path).Body, "already resolved") {
			t.Error("resolving twice did not say so")
		}

		res = c.Submit(path, path+"/postmortem", url.Values{"postmortem": {"## What happened\n\nA **bad** deploy."}})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("postmortem: %d", res.Status)
		}

		public = anon.Get("/")
		if strings.Contains(public.Body, "Active incidents") {
			t.Error("a resolved incident is still shown as active")
		}
		perma := anon.Get(fmt.Sprintf("/incidents/%d", id))
		if perma.Status != http.StatusOK || perma.Header.Get("Set-Cookie") != "" {
			t.Fatalf("permalink: %d Set-Cookie=%q, want 200 without a cookie", perma.Status, perma.Header.Get("Set-Cookie"))
		}
		wantInOrder(t, perma.Body, "Elevated API errors", "Postmortem", "<strong>bad</strong>",
			"Resolved", "This incident has been resolved.", "Monitoring", "Identified", "Found a bad deploy", "Investigating", "<strong>errors</strong>")
		if !strings.Contains(perma.Body, "Affected components:") || !strings.Contains(perma.Body, "API") {
			t.Error("permalink does not list the affected components")
		}

		if res := c.Get(path + "/delete"); res.Status != http.StatusOK || !strings.Contains(res.Body, "Delete incident “Elevated API errors”?") {
			t.Fatalf("delete confirmation: %d", res.Status)
		}
		res = c.Submit(path+"/delete", path+"/delete", nil)
		if res.Status != http.StatusSeeOther || res.Location != "/admin/incidents" {
			t.Fatalf("delete: %d → %q", res.Status, res.Location)
		}
		if res := anon.Get(fmt.Sprintf("/incidents/%d", id)); res.Status != http.StatusNotFound {
			t.Errorf("permalink of a deleted incident: %d, want 404", res.Status)
		}
		if res := c.Get("/admin/incidents"); !strings.Contains(res.Body, "No incidents. Good. Report one when something breaks.") {
			t.Error("empty incident list lacks its empty state")
		}
	})
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func TestIncidentFormRejectsBadInput(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		api := addComponent(t, s, "API", models.StatusOperational)
		valid := func(change func(url.Values)) url.Values {
			f := url.Values{"title": {"Kept title"}, "status": {"investigating"}, "message": {"Kept message"},
				"component_" + itoa(api): {"major_outage"}}
			change(f)
			return f
		}
		past := time.Now().UTC().Add(-3 * time.Hour)
		cases := []struct {
			name  string
			form  url.Values
			field string
			error string
			kept  string
		}{
			{"empty title", valid(func(f url.Values) { f.Set("title", "  ") }), "title", "cannot be empty", "Kept message"},
			{"long title", valid(func(f url.Values) { f.Set("title", strings.Repeat("t", 201)) }), "title", "at most 200", strings.Repeat("t", 201)},
			{"empty message", valid(func(f url.Values) { f.Set("message", "") }), "message", "cannot be empty", `value="Kept title"`},
			{"huge message", valid(func(f url.Values) { f.Set("message", strings.Repeat("m", 50_001)) }), "message", "at most 50000", `value="Kept title"`},
			{"unknown status", valid(func(f url.Values) { f.Set("status", "on_fire") }), "status", "Choose one of the listed statuses.", "Kept message"},
			{"resolved without back-fill", valid(func(f url.Values) { f.Set("status", "resolved") }), "status", "back-fill", "Kept message"},
			{"unknown impact", valid(func(f url.Values) { f.Set("impact", "apocalyptic") }), "impact", "Choose one of the listed impacts.", "Kept message"},
			{"unknown component", valid(func(f url.Values) { f.Set("component_99999", "major_outage") }), "components", "does not exist", "Kept message"},
			{"malformed component field", valid(func(f url.Values) { f.Set("component_abc", "major_outage") }), "components", "Choose components from the list.", "Kept message"},
			{"unknown component status", valid(func(f url.Values) { f.Set("component_"+itoa(api), "on_fire") }), "components", "Choose one of the listed statuses", "Kept message"},
			{"back-fill with unparsable start", valid(func(f url.Values) {
				f.Set("backfill", "1")
				f.Set("started_at", "yesterday-ish")
				f.Set("resolved_at", past.Format("2006-01-02T15:04"))
			}), "started_at", "Enter a date and time in UTC", `value="yesterday-ish"`},
			{"back-fill without times", valid(func(f url.Values) { f.Set("backfill", "1") }), "started_at", "Enter when the incident started.", "Kept message"},
			{"back-fill ending before it starts", valid(func(f url.Values) {
				f.Set("backfill", "1")
				f.Set("started_at", past.Format("2006-01-02T15:04"))
				f.Set("resolved_at", past.Add(-time.Hour).Format("2006-01-02T15:04"))
			}), "resolved_at", "The end must be after the start.", "Kept message"},
			{"back-fill ending in the future", valid(func(f url.Values) {
				f.Set("backfill", "1")
				f.Set("started_at", past.Format("2006-01-02T15:04"))
				f.Set("resolved_at", time.Now().UTC().Add(48*time.Hour).Format("2006-01-02T15:04"))
			}), "resolved_at", "in the future", "Kept message"},
		}
		before := eventCount(t, s)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := c.Submit("/admin/incidents/new", "/admin/incidents", tc.form)
				if res.Status != http.StatusUnprocessableEntity {
					t.Fatalf("status %d, want 422", res.Status)
				}
				if !strings.Contains(res.Body, `id="e-`+tc.field+`"`) || !strings.Contains(res.Body, tc.error) {
					t.Fatalf("no error %q next to %s", tc.error, tc.field)
				}
				if !strings.Contains(res.Body, tc.kept) {
					t.Fatalf("typed value %q not kept", tc.kept)
				}
				// The component selects share one error on their fieldset.
				if tc.field != "components" && !strings.Contains(res.Body, `aria-invalid="true"`) {
					t.Fatal("invalid field not marked aria-invalid")
				}
			})
		}
		if n := incidentCount(t, s); n != 0 {
			t.Fatalf("bad input wrote %d incidents", n)
		}
		if n := eventCount(t, s); n != before {
			t.Fatalf("bad input wrote %d events", n-before)
		}
		if got := componentStatus(t, s, api); got != models.StatusOperational {
			t.Fatalf("bad input changed API to %s", got)
		}
		// The selects keep what was picked.
		res := c.Submit("/admin/incidents/new", "/admin/incidents", valid(func(f url.Values) { f.Set("title", "") }))
		if !strings.Contains(res.Body, `<option value="major_outage" selected`) {
			t.Error("component status choice not kept")
		}
	})
}

func TestIncidentUpdateFormsRejectBadInput(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		api := addComponent(t, s, "API", models.StatusOperational)
		id := idFromLocation(t, c.Submit("/admin/incidents/new", "/admin/incidents", url.Values{
			"title": {"Slow API"}, "status": {"investigating"}, "message": {"Looking."}, "component_" + itoa(api): {"degraded_performance"},
		}), "/admin/incidents/")
		path := fmt.Sprintf("/admin/incidents/%d", id)
		before := eventCount(t, s)
		cases := []struct {
			name   string
			action string
			form   url.Values
			field  string
			error  string
			kept   string
		}{
			{"update without message", "/updates", url.Values{"status": {"identified"}, "impact": {"major"}}, "message", "cannot be empty", `<option value="major" selected`},
			{"update with huge message", "/updates", url.Values{"status": {"identified"}, "message": {strings.Repeat("m", 50_001)}}, "message", "at most 50000", `value="identified" checked`},
			{"update with unknown status", "/updates", url.Values{"status": {"sleeping"}, "message": {"Kept update"}}, "status", "Choose one of the listed statuses.", "Kept update"},
			{"update with unknown component", "/updates", url.Values{"status": {"identified"}, "message": {"Kept update"}, "component_424242": {"major_outage"}}, "components", "does not exist", "Kept update"},
			{"resolve with huge message", "/resolve", url.Values{"message": {strings.Repeat("r", 50_001)}}, "resolve_message", "at most 50000", "rrrr"},
			{"huge postmortem", "/postmortem", url.Values{"postmortem": {strings.Repeat("p", 50_001)}}, "postmortem", "at most 50000", "pppp"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := c.Submit(path, path+tc.action, tc.form)
				if res.Status != http.StatusUnprocessableEntity {
					t.Fatalf("status %d, want 422", res.Status)
				}
				if !strings.Contains(res.Body, `id="e-`+tc.field+`"`) || !strings.Contains(res.Body, tc.error) {
					t.Fatalf("no error %q next to %s", tc.error, tc.field)
				}
				if !strings.Contains(res.Body, tc.kept) {
					t.Fatalf("typed value %q not kept", tc.kept)
				}
			})
		}
		inc, err := s.Store.Incident(t.Context(), id)
		modelstest.Fatal(t, err, "load")
		if len(inc.Updates) != 1 || inc.Status != models.IncidentInvestigating || inc.Postmortem != "" {
			t.Fatalf("bad input changed the incident: %d updates, %s, postmortem %d chars", len(inc.Updates), inc.Status, len(inc.Postmortem))
		}
		if n := eventCount(t, s); n != before {
			t.Fatalf("bad input wrote %d events", n-before)
		}
	})
}

func TestIncidentIDsMustExist(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		for _, path := range []string{
			"/admin/incidents/abc", "/admin/incidents/-1", "/admin/incidents/0", "/admin/incidents/99999",
			"/admin/incidents/1e3", "/admin/incidents/99999/delete", "/admin/incidents/abc/delete",
		} {
			if res := c.Get(path); res.Status != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", path, res.Status)
			}
		}
		for _, action := range []string{"/updates", "/resolve", "/postmortem", "/delete"} {
			for _, id := range []string{"abc", "99999"} {
				path := "/admin/incidents/" + id + action
				res := c.Submit("/admin/incidents", path, url.Values{"status": {"identified"}, "message": {"x"}})
				if res.Status != http.StatusNotFound {
					t.Errorf("POST %s: %d, want 404", path, res.Status)
				}
			}
		}
		anon := s.NewClient(t)
		for _, path := range []string{"/incidents/abc", "/incidents/99999", "/incidents/-3", "/maintenance/x", "/maintenance/99999"} {
			res := anon.Get(path)
			if res.Status != http.StatusNotFound || !strings.Contains(strings.ToLower(res.Body), "not found") {
				t.Errorf("GET %s: %d, want the 404 page", path, res.Status)
			}
			if res.Header.Get("Set-Cookie") != "" {
				t.Errorf("GET %s set a cookie", path)
			}
		}
	})
}

func TestBackfilledIncidentNotifiesNoOne(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		api := addComponent(t, s, "API", models.StatusOperational)
		before := eventCount(t, s)
		start := time.Now().UTC().Add(-26 * time.Hour).Truncate(time.Minute)
		end := start.Add(90 * time.Minute)
		res := c.Submit("/admin/incidents/new", "/admin/incidents", url.Values{
			"title": {"Yesterday's outage"}, "status": {"investigating"}, "message": {"Logged afterwards."},
			"component_" + itoa(api): {"major_outage"}, "backfill": {"1"},
			"started_at": {start.Format("2006-01-02T15:04")}, "resolved_at": {end.Format("2006-01-02T15:04")},
		})
		id := idFromLocation(t, res, "/admin/incidents/")
		if evs := eventsAfter(t, s, before); len(evs) != 0 {
			t.Errorf("back-fill wrote events %v", evs)
		}
		if got := componentStatus(t, s, api); got != models.StatusOperational {
			t.Errorf("back-fill changed API to %s", got)
		}
		inc, err := s.Store.Incident(t.Context(), id)
		modelstest.Fatal(t, err, "load")
		if !inc.Backfilled || inc.Status != models.IncidentResolved || !inc.StartedAt.Equal(start) ||
			inc.ResolvedAt == nil || !inc.ResolvedAt.Equal(end) {
			t.Errorf("back-filled incident = %+v, want resolved from %s to %s (UTC)", inc, start, end)
		}
		if page := c.Get(res.Location); !strings.Contains(page.Body, "No channels notified.") || !strings.Contains(page.Body, "Back-filled") {
			t.Error("detail page does not say the incident was back-filled")
		}
		if strings.Contains(s.NewClient(t).Get("/").Body, "Active incidents") {
			t.Error("a back-filled incident shows as active")
		}
	})
}

// liveHandler finds an on…= attribute inside a tag. Quoted attribute
// values are skipped: escaped text in a title="…" is not markup.
var liveHandler = regexp.MustCompile(`(?i)<[a-z][a-z0-9-]*(?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*\s+on[a-z]+\s*=`)

func TestIncidentMarkupIsEscapedOrSanitised(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		evil := addComponent(t, s, `<script>alert("component")</script>`, models.StatusOperational)
		title := `<img src=x onerror=alert(1)>"Title`
		message := "Hello <script>alert(2)</script>\n\n<img src=x onerror=alert(3)>\n\n" +
			"[click](javascript:alert(4)) [again](JaVaScRiPt:alert(5)) <a href=\"data:text/html,<script>alert(6)</script>\">data</a>\n\n" +
			`<div onmouseover="alert(7)">hover</div>`
		id := idFromLocation(t, c.Submit("/admin/incidents/new", "/admin/incidents", url.Values{
			"title": {title}, "status": {"investigating"}, "message": {message}, "component_" + itoa(evil): {"major_outage"},
		}), "/admin/incidents/")
		path := fmt.Sprintf("/admin/incidents/%d", id)
		c.Submit(path, path+"/postmortem", url.Values{"postmortem": {message}})

		anon := s.NewClient(t)
		pages := map[string]string{
			"admin list":   c.Get("/admin/incidents").Body,
			"admin detail": c.Get(path).Body,
			"dashboard":    c.Get("/admin").Body,
			"public page":  anon.Get("/").Body,
			"permalink":    anon.Get(fmt.Sprintf("/incidents/%d", id)).Body,
		}
		for name, body := range pages {
			for _, bad := range []string{"<script>alert", "<img src=x", `href="javascript:`, `href="JaVaScRiPt:`, `href="data:`, "<div onmouseover"} {
				if strings.Contains(body, bad) {
					t.Errorf("%s contains live markup %q", name, bad)
				}
			}
			if m := liveHandler.FindString(body); m != "" {
				t.Errorf("%s has an event handler attribute: %q", name, m)
			}
			if !strings.Contains(body, "&lt;img src=x onerror=alert(1)&gt;") {
				t.Errorf("%s does not show the title as text", name)
			}
		}
		if !strings.Contains(pages["admin detail"], "&lt;script&gt;alert(&#34;component&#34;)&lt;/script&gt;") {
			t.Error("component name not shown escaped on the detail page")
		}
	})
}
