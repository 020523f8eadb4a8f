package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/handlers/api"
	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// textTables are the tables a form or an API call could write to.
var textTables = append(slices.Clone(allTables), "api_tokens")

func countTextTables(t *testing.T, s *webtest.Server) map[string]int {
	t.Helper()
	settleFanOut(t, s)
	db, err := s.Store.SQLDB()
	modelstest.Fatal(t, err, "sql db")
	out := map[string]int{}
	for _, table := range textTables {
		var n int
		modelstest.Fatal(t, db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n), "count %s", table)
		out[table] = n
	}
	return out
}

func wantSameRows(t *testing.T, what string, before, after map[string]int) {
	t.Helper()
	for table, n := range after {
		if n != before[table] {
			t.Errorf("%s: %s went from %d to %d rows", what, table, before[table], n)
		}
	}
}

// formBadText is what a browser (or anything posting a form) can send
// that Herald must refuse: NUL, bytes that are not UTF-8, a control
// character.
var formBadText = []struct{ name, value string }{
	{"NUL", "ab\x00cd"},
	{"invalid UTF-8", "ab\xff\xfecd"},
	{"control character", "ab\x1bcd"},
}

// adminForm is one admin form: where it is shown, where it posts, a
// valid filling, and every field that carries text, with the id of the
// element its error shows in when that is not e-<field>.
type adminForm struct {
	name, page, action string
	valid              url.Values
	fields             []string
	errorID            map[string]string
}

// TestEveryAdminFormRefusesBadText sends NUL, invalid UTF-8 and a
// control character in every text field of every admin form (setup
// included), on both engines: each is a 422 with the error shown under
// that field, and not one row is written anywhere. Sign-in with such an
// e-mail is a wrong password, not a 500.
func TestEveryAdminFormRefusesBadText(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		ctx := context.Background()
		submit := func(t *testing.T, c *webtest.Client, f adminForm) {
			t.Helper()
			for _, field := range f.fields {
				for _, bad := range formBadText {
					form := url.Values{}
					for k, v := range f.valid {
						form[k] = slices.Clone(v)
					}
					form.Set(field, bad.value)
					before := countTextTables(t, s)
					res := c.Submit(f.page, f.action, form)
					errID := "e-" + field
					if id, ok := f.errorID[field]; ok {
						errID = id
					}
					if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `id="`+errID+`"`) {
						t.Errorf("%s, %s in %s: %d, want 422 with the error at #%s\n%.600s", f.name, bad.name, field, res.Status, errID, errorText(res.Body))
					}
					wantSameRows(t, fmt.Sprintf("%s, %s in %s", f.name, bad.name, field), before, countTextTables(t, s))
				}
			}
		}

		// First run: the setup form.
		submit(t, s.NewClient(t), adminForm{name: "setup", page: "/setup", action: "/setup",
			valid:  url.Values{"page_name": {"Acme Status"}, "email": {"first@example.com"}, "password": {"a long enough password"}},
			fields: []string{"page_name", "email", "password"}})
		c := s.SetUp(t)

		// Sign-in with bad text in the e-mail: a wrong password.
		for _, bad := range formBadText {
			res := s.NewClient(t).Submit("/login", "/login", url.Values{"email": {webtest.AdminEmail + bad.value}, "password": {webtest.AdminPassword}})
			if res.Status != http.StatusUnauthorized {
				t.Errorf("sign-in with %s in the e-mail: %d, want 401", bad.name, res.Status)
			}
		}

		rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
		defer rc.Close()
		g, err := s.Store.CreateGroup(ctx, models.DefaultPageID, models.GroupInput{Name: "Core"})
		modelstest.Fatal(t, err, "group")
		comp, err := s.Store.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Visible: true, Status: models.StatusOperational})
		modelstest.Fatal(t, err, "component")
		inc, err := s.Store.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Errors", Status: models.IncidentInvestigating,
			Message: "Looking.", Components: map[int64]models.ComponentStatus{comp.ID: models.StatusDegradedPerformance}})
		modelstest.Fatal(t, err, "incident")
		start := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Minute)
		m, err := s.Store.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "Upgrade",
			WindowStart: start, WindowEnd: start.Add(time.Hour)})
		modelstest.Fatal(t, err, "maintenance")
		ch, err := s.Store.CreateChannel(ctx, models.DefaultPageID, models.ChannelInput{Type: models.ChannelWebhook, Name: "R", URL: rc.URL + "/hook", Enabled: true})
		modelstest.Fatal(t, err, "channel")

		compField := fmt.Sprintf("component_%d", comp.ID)
		incPath := fmt.Sprintf("/admin/incidents/%d", inc.ID)
		chPath := fmt.Sprintf("/admin/channels/%d", ch.ID)
		component := url.Values{"name": {"Web"}, "description": {"The site"}, "status": {"operational"}, "visible": {"1"}, "group_id": {fmt.Sprint(g.ID)}}
		maintenance := url.Values{"title": {"Upgrade"}, "message": {"Short."}, "window_start": {start.Format("2006-01-02T15:04")},
			"window_end": {start.Add(time.Hour).Format("2006-01-02T15:04")}, "component_ids": {fmt.Sprint(comp.ID)}}
		channel := url.Values{"type": {"webhook"}, "name": {"Hook"}, "url": {rc.URL + "/in"}, "events": {"incident.created"}, "enabled": {"1"},
			"headers": {"X-Team: ops"}, "retry_schedule": {"0s, 1m"}}
		forms := []adminForm{
			{name: "new component", page: "/admin/components/new", action: "/admin/components", valid: component,
				fields: []string{"name", "description", "status", "group_id"}},
			{name: "edit component", page: fmt.Sprintf("/admin/components/%d/edit", comp.ID), action: fmt.Sprintf("/admin/components/%d", comp.ID),
				valid: component, fields: []string{"name", "description", "status", "group_id"}},
			{name: "new group", page: "/admin/groups/new", action: "/admin/groups", valid: url.Values{"name": {"Edge"}}, fields: []string{"name"}},
			{name: "edit group", page: fmt.Sprintf("/admin/groups/%d/edit", g.ID), action: fmt.Sprintf("/admin/groups/%d", g.ID),
				valid: url.Values{"name": {"Edge"}}, fields: []string{"name"}},
			{name: "new incident", page: "/admin/incidents/new", action: "/admin/incidents",
				valid:  url.Values{"title": {"Slow"}, "status": {"investigating"}, "impact": {"minor"}, "message": {"Looking."}, compField: {"degraded_performance"}},
				fields: []string{"title", "status", "impact", "message", compField}, errorID: map[string]string{compField: "e-components"}},
			{name: "back-filled incident", page: "/admin/incidents/new", action: "/admin/incidents",
				valid: url.Values{"title": {"Past"}, "message": {"Was down."}, "backfill": {"1"},
					"started_at": {"2025-01-01T10:00"}, "resolved_at": {"2025-01-01T11:00"}},
				fields: []string{"title", "message", "started_at", "resolved_at"}},
			{name: "incident update", page: incPath, action: incPath + "/updates",
				valid:  url.Values{"status": {"identified"}, "impact": {"major"}, "message": {"Found it."}, compField: {"partial_outage"}},
				fields: []string{"status", "impact", "message", compField}, errorID: map[string]string{compField: "e-components"}},
			{name: "resolve incident", page: incPath, action: incPath + "/resolve", valid: url.Values{"message": {"Fixed."}},
				fields: []string{"message"}, errorID: map[string]string{"message": "e-resolve_message"}},
			{name: "postmortem", page: incPath, action: incPath + "/postmortem", valid: url.Values{"postmortem": {"What happened."}},
				fields: []string{"postmortem"}},
			{name: "correct title", page: incPath + "/edit", action: incPath, valid: url.Values{"title": {"Errors on the API"}, "notify": {"1"}},
				fields: []string{"title"}},
			{name: "correct update", page: fmt.Sprintf("%s/updates/%d/edit", incPath, firstUpdate(t, s, inc.ID)),
				action: fmt.Sprintf("%s/updates/%d", incPath, firstUpdate(t, s, inc.ID)), valid: url.Values{"message": {"Looking hard."}, "notify": {"1"}},
				fields: []string{"message"}},
			{name: "new maintenance", page: "/admin/maintenance/new", action: "/admin/maintenance", valid: maintenance,
				fields: []string{"title", "message", "window_start", "window_end", "component_ids"}, errorID: map[string]string{"component_ids": "e-components"}},
			{name: "edit maintenance", page: fmt.Sprintf("/admin/maintenance/%d/edit", m.ID), action: fmt.Sprintf("/admin/maintenance/%d", m.ID), valid: maintenance,
				fields: []string{"title", "message", "window_start", "window_end", "component_ids"}, errorID: map[string]string{"component_ids": "e-components"}},
			{name: "new channel", page: "/admin/channels/new", action: "/admin/channels", valid: channel,
				fields: []string{"type", "name", "url", "events", "headers", "retry_schedule"}},
			{name: "edit channel", page: chPath + "/edit", action: chPath, valid: channel,
				fields: []string{"name", "url", "events", "headers", "retry_schedule"}},
			{name: "test send", page: chPath, action: chPath + "/test", valid: url.Values{"event": {"incident.created"}}, fields: []string{"event"}},
			{name: "settings", page: "/admin/settings", action: "/admin/settings",
				valid: url.Values{"name": {"Acme Status"}, "description": {"Our services."}, "logo_url": {"https://example.com/logo.svg"},
					"accent_color": {models.Accents[0]}, "time_zone": {"Europe/Paris"}},
				fields: []string{"name", "description", "logo_url", "accent_color", "time_zone"}},
			{name: "new token", page: "/admin/tokens/new", action: "/admin/tokens",
				valid:  url.Values{"name": {"Deploys"}, "scopes": {"read"}, "expires_at": {time.Now().AddDate(0, 1, 0).Format(time.DateOnly)}},
				fields: []string{"name", "scopes", "expires_at"}},
		}
		n := 0
		for _, f := range forms {
			submit(t, c, f)
			n += len(f.fields)
		}
		if n < 50 {
			t.Errorf("only %d form fields were checked", n)
		}
	})
}

// errorText keeps the error paragraphs of a page, for failure messages.
func errorText(body string) string {
	var out []string
	for part := range strings.SplitSeq(body, `<p class="error"`) {
		if i := strings.Index(part, "</p>"); i > 0 && len(out) < 6 {
			out = append(out, part[:i])
		}
	}
	if len(out) <= 1 {
		return body
	}
	return strings.Join(out[1:], " | ")
}

// apiBadText are JSON string escapes that decode to text Herald must
// refuse. A raw NUL or invalid UTF-8 is not JSON at all (400, in
// TestAPIEveryWriteEndpointRefusesMalformedBodies); these are valid JSON.
var apiBadText = []struct{ name, escaped string }{
	{"\\u0000", `ab\u0000cd`},
	{"\\u001b", `ab\u001bcd`},
	{"\\u0085", `ab\u0085cd`},
}

// TestEveryAPIWriteEndpointRefusesBadText reads every write endpoint and
// its body's fields from the OpenAPI document, puts \u0000 and other
// control characters into each text field of a valid body, on both
// engines: a 422 naming the field (ids: the 400 of a wrong type, naming
// it), and not one row written.
func TestEveryAPIWriteEndpointRefusesBadText(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		ctx := context.Background()
		c := s.SetUp(t)
		_, token := createWideToken(t, c, "Everything", models.Scopes...)
		rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
		defer rc.Close()
		g, err := s.Store.CreateGroup(ctx, models.DefaultPageID, models.GroupInput{Name: "Core"})
		modelstest.Fatal(t, err, "group")
		comp, err := s.Store.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Visible: true, Status: models.StatusOperational})
		modelstest.Fatal(t, err, "component")
		inc, err := s.Store.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Errors", Status: models.IncidentInvestigating, Message: "Looking."})
		modelstest.Fatal(t, err, "incident")
		start := time.Now().UTC().Add(48 * time.Hour)
		m, err := s.Store.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "Upgrade", WindowStart: start, WindowEnd: start.Add(time.Hour)})
		modelstest.Fatal(t, err, "maintenance")
		ch, err := s.Store.CreateChannel(ctx, models.DefaultPageID, models.ChannelInput{Type: models.ChannelWebhook, Name: "R", URL: rc.URL + "/hook", Enabled: true})
		modelstest.Fatal(t, err, "channel")
		ids := map[string]string{"components": fmt.Sprint(comp.ID), "groups": fmt.Sprint(g.ID), "incidents": fmt.Sprint(inc.ID),
			"maintenance": fmt.Sprint(m.ID), "channels": fmt.Sprint(ch.ID)}
		lee, _ := s.AddUser(t, "lee@example.com", models.RoleViewer)
		ids["users"] = fmt.Sprint(lee.ID)
		pg, err := s.Store.CreatePage(ctx, models.PageNameInput{Name: "Internal", Slug: "internal"})
		modelstest.Fatal(t, err, "page")
		ids["pages"] = fmt.Sprint(pg.ID)

		component := fmt.Sprintf(`{"name": "Web", "description": "The site", "status": "operational", "group_id": "%d", "visible": true}`, g.ID)
		channel := fmt.Sprintf(`{"type": "webhook", "name": "Hook", "url": "%s/in", "events": ["incident.created"], "enabled": true,
			"headers": {"X-Team": "ops"}, "retry_schedule": ["0s", "1m"]}`, rc.URL)
		maintenance := fmt.Sprintf(`{"name": "Upgrade", "body": "Short.", "scheduled_for": "%s", "scheduled_until": "%s", "components": ["%d"],
			"auto_transition_to_maintenance_state": true}`, start.Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339), comp.ID)
		valid := map[string]string{
			"POST /components":        component,
			"PATCH /components/:id":   component,
			"POST /groups":            `{"name": "Edge", "collapsed": false}`,
			"PATCH /groups/:id":       `{"name": "Edge", "collapsed": false}`,
			"POST /channels":          channel,
			"PATCH /channels/:id":     channel,
			"POST /channels/:id/test": `{"event": "incident.created"}`,
			"POST /incidents": fmt.Sprintf(`{"name": "Slow", "status": "investigating", "impact_override": "minor", "body": "Looking.",
				"components": {"%d": "degraded_performance"}, "deliver_notifications": true}`, comp.ID),
			"PATCH /incidents/:id":                    `{"postmortem_body": "What happened."}`,
			"POST /incidents/:id/updates":             fmt.Sprintf(`{"status": "identified", "body": "Found it.", "impact_override": "major", "components": {"%d": "partial_outage"}}`, comp.ID),
			"POST /incidents/:id/resolve":             `{"body": "Fixed."}`,
			"PATCH /incidents/:id/updates/:update_id": `{"body": "Looking hard.", "deliver_notifications": true}`,
			"POST /maintenance":                       maintenance,
			"PATCH /maintenance/:id":                  maintenance,
			"POST /maintenance/:id/updates":           `{"body": "Halfway.", "deliver_notifications": true}`,
			"PATCH /page": `{"name": "Acme", "description": "All of it.", "logo_url": "https://cdn.example.com/l.svg",
				"accent_color": "teal", "time_zone": "UTC"}`,
			"POST /pages":       `{"name": "Staff", "slug": "staff"}`,
			"PATCH /pages/:id":  `{"name": "Staff", "slug": "staff"}`,
			"POST /users":       `{"email": "new@example.com", "role": "operator"}`,
			"PATCH /users/:id":  `{"role": "operator"}`,
			"POST /subscribers": fmt.Sprintf(`{"email": "visitor@example.com", "components": ["%d"]}`, comp.ID),
		}

		var doc struct {
			Paths map[string]map[string]struct {
				RequestBody *struct {
					Content map[string]struct {
						Schema openAPISchema `json:"schema"`
					} `json:"content"`
				} `json:"requestBody"`
			} `json:"paths"`
		}
		res := apiCall(t, s, "", "GET", "/api/v1/openapi.json", "")
		if err := json.Unmarshal([]byte(res.Body), &doc); err != nil {
			t.Fatalf("openapi.json: %v", err)
		}
		n := 0
		for _, op := range api.APIOperations() {
			method, path, _ := strings.Cut(op, " ")
			if method == http.MethodGet {
				continue
			}
			rel := strings.TrimPrefix(path, "/api/v1")
			spec := doc.Paths[openAPIPathOf(rel)][strings.ToLower(method)]
			if spec.RequestBody == nil {
				continue // no body, no text
			}
			schema := spec.RequestBody.Content["application/json"].Schema
			base, ok := valid[method+" "+rel]
			if !ok {
				t.Errorf("%s %s takes a body: give it a valid one in this test", method, rel)
				continue
			}
			resource := strings.Split(strings.TrimPrefix(rel, "/"), "/")[0]
			target := "/api/v1" + strings.Replace(strings.Replace(rel, ":id", ids[resource], 1), ":update_id", fmt.Sprint(firstUpdate(t, s, inc.ID)), 1)
			for field, prop := range schema.Properties {
				if !prop.holdsText() {
					continue
				}
				for _, bad := range apiBadText {
					body := spoilJSON(t, base, field, prop, bad.escaped)
					before := countTextTables(t, s)
					got := apiCall(t, s, token, method, target, body)
					isID := prop.Pattern != "" || prop.Items != nil && prop.Items.Pattern != ""
					switch {
					case isID && got.Status == http.StatusBadRequest && got.Err.Code == "invalid_type" && got.Err.Field == field:
					case got.Status == http.StatusUnprocessableEntity && got.Err.Fields[field] != "":
					default:
						t.Errorf("%s %s with %s in %s: %d %s field %q %v, want 422 naming %s\n%s", method, rel, bad.name, field,
							got.Status, got.Err.Code, got.Err.Field, got.Err.Fields, field, body)
					}
					wantSameRows(t, fmt.Sprintf("%s %s with %s in %s", method, rel, bad.name, field), before, countTextTables(t, s))
					n++
				}
			}
		}
		if n < 60 {
			t.Errorf("only %d bad bodies were checked", n)
		}
		// The valid bodies really are valid: the refusals are the text's.
		for _, op := range []string{"POST /groups", "POST /components", "POST /channels", "POST /incidents", "POST /maintenance"} {
			method, rel, _ := strings.Cut(op, " ")
			if got := apiCall(t, s, token, method, "/api/v1"+rel, valid[op]); got.Status != http.StatusCreated {
				t.Errorf("%s with the valid body: %d %s", op, got.Status, got.Body)
			}
		}
	})
}

// openAPISchema is the part of a JSON Schema this test reads.
type openAPISchema struct {
	Type                 any                      `json:"type"`
	Pattern              string                   `json:"pattern"`
	Properties           map[string]openAPISchema `json:"properties"`
	Items                *openAPISchema           `json:"items"`
	AdditionalProperties json.RawMessage          `json:"additionalProperties"` // a schema, or false
}

func (s openAPISchema) values() *openAPISchema {
	var v openAPISchema
	if len(s.AdditionalProperties) == 0 || s.AdditionalProperties[0] != '{' || json.Unmarshal(s.AdditionalProperties, &v) != nil {
		return nil
	}
	return &v
}

func (s openAPISchema) is(typ string) bool {
	switch v := s.Type.(type) {
	case string:
		return v == typ
	case []any:
		for _, x := range v {
			if x == typ {
				return true
			}
		}
	}
	return false
}

// holdsText: a string, a list of strings, or an object of strings.
func (s openAPISchema) holdsText() bool {
	switch {
	case s.is("string"):
		return true
	case s.is("array"):
		return s.Items != nil && s.Items.is("string")
	case s.is("object"):
		return s.values() != nil && s.values().is("string")
	}
	return false
}

func openAPIPathOf(echoPath string) string {
	segs := strings.Split(echoPath, "/")
	for i, seg := range segs {
		if name, ok := strings.CutPrefix(seg, ":"); ok {
			segs[i] = "{" + name + "}"
		}
	}
	return strings.Join(segs, "/")
}

// spoilJSON puts the JSON string escaped (without quotes) into field of
// the object base: as the value, the list's first item, or every value
// of an object (which base must fill).
func spoilJSON(t *testing.T, base, field string, prop openAPISchema, escaped string) string {
	t.Helper()
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(base), &obj); err != nil {
		t.Fatalf("valid body %s: %v", base, err)
	}
	str := json.RawMessage(`"` + escaped + `"`)
	switch {
	case prop.is("string"):
		obj[field] = str
	case prop.is("array"):
		obj[field] = json.RawMessage(`[` + string(str) + `]`)
	default:
		var m map[string]json.RawMessage
		if err := json.Unmarshal(obj[field], &m); err != nil || len(m) == 0 {
			t.Fatalf("the valid body needs entries in %s to spoil: %s", field, base)
		}
		for k := range m {
			m[k] = str
		}
		b, _ := json.Marshal(m)
		obj[field] = b
	}
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// firstUpdate is the id of the first update of incident id.
func firstUpdate(t *testing.T, s *webtest.Server, id int64) int64 {
	t.Helper()
	inc, err := s.Store.Incident(t.Context(), id)
	modelstest.Fatal(t, err, "load incident %d", id)
	return inc.Updates[len(inc.Updates)-1].ID
}
