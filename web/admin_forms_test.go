package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// xssMarkdown mixes Markdown with every trick the sanitiser must defeat.
const xssMarkdown = "We see **errors**.\n\n<script>alert(1)</script>\n\n[click](javascript:alert(2)) <img src=x onerror=alert(3)> <a href=\"#\" onclick=\"alert(4)\">x</a>"

var previewRE = regexp.MustCompile(`(?s)<section class="preview"[^>]*>(.*?)</section>`)

// previewOf returns the preview section of a page, failing without one.
func previewOf(t *testing.T, res webtest.Response) string {
	t.Helper()
	m := previewRE.FindStringSubmatch(res.Body)
	if m == nil {
		t.Fatalf("no preview on the page (status %d)\n%s", res.Status, res.Body)
	}
	return m[1]
}

// wantSafePreview checks a preview of xssMarkdown: rendered, sanitised.
func wantSafePreview(t *testing.T, res webtest.Response) {
	t.Helper()
	if res.Status != http.StatusOK {
		t.Fatalf("preview: status %d, want 200\n%s", res.Status, res.Body)
	}
	p := previewOf(t, res)
	if !strings.Contains(p, "<strong>errors</strong>") {
		t.Errorf("preview lacks the rendered Markdown:\n%s", p)
	}
	for _, bad := range []string{"<script", "javascript:", "onerror", "onclick", "alert(1)</script>"} {
		if strings.Contains(strings.ToLower(p), bad) {
			t.Errorf("preview keeps %q:\n%s", bad, p)
		}
	}
}

// Every Markdown field of the admin has a Preview button that renders the
// form again, values kept, with the text rendered through the public
// page's sanitiser, and writes nothing; text saving would refuse is
// refused by the preview too.
func TestAdminMarkdownPreview(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		api := addComponent(t, s, "API", models.StatusOperational)
		inc, err := s.Store.CreateIncident(t.Context(), models.DefaultPageID, models.IncidentInput{Title: "Errors",
			Status: models.IncidentInvestigating, Message: "Looking."})
		modelstest.Fatal(t, err, "incident")
		start := time.Now().UTC().Add(24 * time.Hour).Truncate(time.Hour)
		m, err := s.Store.ScheduleMaintenance(t.Context(), models.DefaultPageID, models.MaintenanceInput{Title: "DB upgrade",
			WindowStart: start, WindowEnd: start.Add(time.Hour)})
		modelstest.Fatal(t, err, "maintenance")
		detail := fmt.Sprintf("/admin/incidents/%d", inc.ID)
		edit := fmt.Sprintf("/admin/maintenance/%d", m.ID)

		forms := []struct {
			name, page, action, field string
			extra                     url.Values
			kept                      string // a value the re-rendered form must keep
		}{
			{"new incident", "/admin/incidents/new", "/admin/incidents", "message",
				url.Values{"title": {"Kept title"}, "status": {"identified"}, "component_" + itoa(api): {"partial_outage"}}, `value="Kept title"`},
			{"incident update", detail, detail + "/updates", "message",
				url.Values{"status": {"monitoring"}}, `value="monitoring" checked`},
			{"postmortem", detail, detail + "/postmortem", "postmortem", nil, "&lt;script&gt;"},
			{"new maintenance", "/admin/maintenance/new", "/admin/maintenance", "message",
				url.Values{"title": {"Kept window"}, "window_start": {"2030-01-14T22:00"}, "window_end": {"2030-01-15T01:00"}}, `value="2030-01-15T01:00"`},
			{"maintenance edit", edit + "/edit", edit, "message",
				url.Values{"title": {"Renamed"}, "window_start": {"bad date"}, "window_end": {"2030-01-15T01:00"}}, `value="bad date"`},
			{"maintenance update", edit + "/update", edit + "/update", "message", nil, "&lt;script&gt;"},
		}
		for _, f := range forms {
			t.Run(f.name, func(t *testing.T) {
				events, audits := eventCount(t, s), auditCount(t, s)
				form := url.Values{f.field: {xssMarkdown}, "preview": {f.field}}
				for k, v := range f.extra {
					form[k] = v
				}
				res := c.Submit(f.page, f.action, form)
				wantSafePreview(t, res)
				wantBody(t, res, f.kept, `name="preview" value="`+f.field+`"`)
				if strings.Contains(res.Body, `class="error"`) {
					t.Errorf("a preview shows field errors:\n%s", res.Body)
				}

				// Empty text previews as such.
				form.Set(f.field, "")
				if p := previewOf(t, c.Submit(f.page, f.action, form)); !strings.Contains(p, "Nothing to preview") {
					t.Errorf("empty preview = %q", p)
				}
				// NUL and invalid UTF-8: a 422 naming the field.
				for _, bad := range []string{"a\x00b", "caf\xe9"} {
					form.Set(f.field, bad)
					res := c.Submit(f.page, f.action, form)
					if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `id="e-`+f.field+`"`) {
						t.Errorf("preview of %q: status %d, want 422 with the field error", bad, res.Status)
					}
				}
				if eventCount(t, s) != events || auditCount(t, s) != audits {
					t.Errorf("a preview wrote something: events %d → %d, audit %d → %d", events, eventCount(t, s), audits, auditCount(t, s))
				}
			})
		}
		list, err := s.Store.Incidents(t.Context(), models.DefaultPageID, models.IncidentFilter{Limit: 10})
		modelstest.Fatal(t, err, "incidents")
		again, err := s.Store.Incident(t.Context(), inc.ID)
		modelstest.Fatal(t, err, "incident")
		if len(list) != 1 || len(again.Updates) != 1 || again.Postmortem != "" {
			t.Errorf("previews changed incidents: %d incidents, %d updates, postmortem %q", len(list), len(again.Updates), again.Postmortem)
		}
		if got := componentStatus(t, s, api); got != models.StatusOperational {
			t.Errorf("a preview set API to %s", got)
		}
	})
}

// auditCount is how many audit entries there are.
func auditCount(t *testing.T, s *webtest.Server) int {
	t.Helper()
	rows, err := s.Store.AuditEntries(t.Context(), models.AuditFilter{})
	modelstest.Fatal(t, err, "audit")
	return len(rows)
}

// waitForEvent waits until r has received an event of type want.
func waitForEvent(t *testing.T, r *receiver, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, req := range r.requests() {
			if req.Header.Get("X-Webhook-Event") == want {
				return
			}
		}
		select {
		case <-r.seen:
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("receiver never got %s", want)
}

// "Notify channels" is ticked by default; unticked, the change is saved
// and shown but no event reaches any channel. The flash says how many
// channels were notified.
func TestAdminNotifyChannelsAndFlashCount(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		api := addComponent(t, s, "API", models.StatusOperational)
		all, incidents := newReceiver(t, http.StatusNoContent, ""), newReceiver(t, http.StatusNoContent, "")
		for _, ch := range []models.ChannelInput{
			{Type: models.ChannelWebhook, Name: "All", URL: all.URL, Enabled: true},
			{Type: models.ChannelWebhook, Name: "Incidents", URL: incidents.URL, Enabled: true,
				Events: []models.EventType{models.EventIncidentCreated, models.EventIncidentUpdated, models.EventIncidentResolved}},
			{Type: models.ChannelWebhook, Name: "Maintenance", URL: "https://hooks.example.com/m", Enabled: true,
				Events: []models.EventType{models.EventMaintenanceScheduled}},
			{Type: models.ChannelWebhook, Name: "Off", URL: "https://hooks.example.com/off", Enabled: false},
		} {
			_, err := s.Store.CreateChannel(t.Context(), models.DefaultPageID, ch)
			modelstest.Fatal(t, err, "channel %s", ch.Name)
		}

		// The forms come with the box ticked.
		for _, page := range []string{"/admin/incidents/new", "/admin/maintenance/new"} {
			wantBody(t, c.Get(page), `<input type="hidden" name="notify" value="0">`,
				`<input type="checkbox" id="f-notify" name="notify" value="1" checked`)
		}

		// Ticked: incident.created reaches All and Incidents.
		res := c.Submit("/admin/incidents/new", "/admin/incidents", url.Values{"title": {"Loud"}, "status": {"investigating"},
			"message": {"Errors."}, "component_" + itoa(api): {"major_outage"}, "notify": {"0", "1"}})
		loud := idFromLocation(t, res, "/admin/incidents/")
		wantBody(t, c.Get(res.Location), "Incident “Loud” published. 2 channels notified.")
		waitForEvent(t, incidents, "incident.created")
		waitForEvent(t, all, "component.status_changed")

		// Unticked: on the page and the admin, no event at all.
		before := eventCount(t, s)
		res = c.Submit("/admin/incidents/new", "/admin/incidents", url.Values{"title": {"Quiet"}, "status": {"identified"},
			"message": {"Shh."}, "component_" + itoa(api): {"partial_outage"}, "notify": {"0"}})
		quiet := idFromLocation(t, res, "/admin/incidents/")
		wantBody(t, c.Get(res.Location), "Incident “Quiet” published. No channels notified.")
		if n := eventCount(t, s); n != before {
			t.Errorf("a silent incident wrote %d events", n-before)
		}
		if got := componentStatus(t, s, api); got != models.StatusPartialOutage {
			t.Errorf("silent incident left API %s, want partial_outage", got)
		}
		if pub := c.Get(fmt.Sprintf("/incidents/%d", quiet)); pub.Status != http.StatusOK || !strings.Contains(pub.Body, "Quiet") {
			t.Errorf("silent incident is not public: %d", pub.Status)
		}

		// Updates: ticked, then unticked.
		path := fmt.Sprintf("/admin/incidents/%d", loud)
		wantBody(t, c.Get(path), `<input type="checkbox" id="f-notify" name="notify" value="1" checked`)
		res = c.Submit(path, path+"/updates", url.Values{"status": {"identified"}, "message": {"Found it."}, "notify": {"0", "1"}})
		wantBody(t, c.Get(res.Location), "Update posted. 2 channels notified.")
		before = eventCount(t, s)
		res = c.Submit(path, path+"/updates", url.Values{"status": {"monitoring"}, "message": {"Watching."}, "notify": {"0"}})
		wantBody(t, c.Get(res.Location), "Update posted. No channels notified.")
		if n := eventCount(t, s); n != before {
			t.Errorf("a silent update wrote %d events", n-before)
		}
		// Resolving notifies All and Incidents; a correction ticked, the same.
		res = c.Submit(path, path+"/resolve", url.Values{"message": {"Fixed."}})
		wantBody(t, c.Get(res.Location), "resolved.", "2 channels notified.")
		loaded, err := s.Store.Incident(t.Context(), loud)
		modelstest.Fatal(t, err, "incident")
		updatePath := fmt.Sprintf("%s/updates/%d", path, loaded.Updates[0].ID)
		res = c.Submit(updatePath+"/edit", updatePath, url.Values{"message": {"Fixed for good."}, "notify": {"1"}})
		wantBody(t, c.Get(res.Location), "Update corrected. 2 channels notified.")

		// Maintenance: one channel wants maintenance.scheduled, plus All.
		start := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Hour)
		window := url.Values{"title": {"DB"}, "window_start": {start.Format("2006-01-02T15:04")},
			"window_end": {start.Add(time.Hour).Format("2006-01-02T15:04")}, "notify": {"0", "1"}}
		res = c.Submit("/admin/maintenance/new", "/admin/maintenance", window)
		wantBody(t, c.Get(res.Location), "Maintenance “DB” scheduled. 2 channels notified.")
		before = eventCount(t, s)
		window.Set("title", "Quiet DB")
		window["notify"] = []string{"0"}
		res = c.Submit("/admin/maintenance/new", "/admin/maintenance", window)
		wantBody(t, c.Get(res.Location), "Maintenance “Quiet DB” scheduled. No channels notified.")
		if n := eventCount(t, s); n != before {
			t.Errorf("silent maintenance wrote %d events", n-before)
		}
		ms, err := s.Store.Maintenances(t.Context(), models.DefaultPageID, models.MaintenanceFilter{})
		modelstest.Fatal(t, err, "maintenance")
		var quietID int64
		for _, m := range ms {
			if m.Title == "Quiet DB" {
				quietID = m.ID
			}
		}
		// The maintenance update form comes ticked too; 1 channel (All)
		// wants maintenance.updated.
		upd := fmt.Sprintf("/admin/maintenance/%d/update", quietID)
		wantBody(t, c.Get(upd), `id="f-notify" name="notify" value="1" checked`)
		res = c.Submit(upd, upd, url.Values{"message": {"Still on."}, "notify": {"1"}})
		wantBody(t, c.Get(res.Location), "Update posted to “Quiet DB”. 1 channel notified.")
		res = c.Submit(upd, upd, url.Values{"message": {"Quietly on."}})
		wantBody(t, c.Get(res.Location), "Update posted to “Quiet DB”. No channels notified.")

		// The API: deliver_notifications: false is a silent incident; left
		// out, channels are notified.
		before = eventCount(t, s)
		_, token := createToken(t, c, "Bot", models.ScopeIncidentsWrite, models.ScopeMaintenanceWrite)
		r := apiCall(t, s, token, http.MethodPost, "/api/v1/incidents", `{"name":"API quiet","body":"Shh.","deliver_notifications":false}`)
		if r.Status != http.StatusCreated || eventCount(t, s) != before {
			t.Errorf("API silent incident: %d, %d events\n%s", r.Status, eventCount(t, s)-before, r.Body)
		}
		var created struct {
			ID string `json:"id"`
		}
		decodeJSONBody(t, r.Body, &created)
		r = apiCall(t, s, token, http.MethodPost, "/api/v1/incidents/"+created.ID+"/updates", `{"body":"Still quiet.","deliver_notifications":false}`)
		if r.Status != http.StatusCreated || eventCount(t, s) != before {
			t.Errorf("API silent update: %d, %d events\n%s", r.Status, eventCount(t, s)-before, r.Body)
		}
		r = apiCall(t, s, token, http.MethodPost, "/api/v1/maintenance", fmt.Sprintf(`{"name":"API quiet window","scheduled_for":"%s","scheduled_until":"%s","deliver_notifications":false}`,
			start.Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339)))
		if r.Status != http.StatusCreated || eventCount(t, s) != before {
			t.Errorf("API silent maintenance: %d, %d events\n%s", r.Status, eventCount(t, s)-before, r.Body)
		}
		r = apiCall(t, s, token, http.MethodPost, "/api/v1/incidents", `{"name":"API loud","body":"Hey."}`)
		if r.Status != http.StatusCreated || eventCount(t, s) != before+1 {
			t.Errorf("API incident: %d, %d events, want 1", r.Status, eventCount(t, s)-before)
		}
	})
}

func decodeJSONBody(t *testing.T, body string, out any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), out); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
}
