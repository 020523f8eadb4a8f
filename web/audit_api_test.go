package web_test

import (
	"encoding/json"
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

// uiAPIPair makes the same change twice: once in the admin, once through
// the API, each on its own copy of the objects setup makes.
type uiAPIPair struct {
	name  string
	setup func(t *testing.T, s *webtest.Server) side
	// ui and api make the change and return the id of its object.
	ui  func(t *testing.T, c *webtest.Client, sd side) int64
	api func(t *testing.T, s *webtest.Server, token string, sd side) int64
}

// side is one copy of what a pair works on: the object (0 when the change
// creates it) and a component it involves.
type side struct{ obj, comp int64 }

func wantStatus(t *testing.T, what string, got, want int) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: status %d, want %d", what, got, want)
	}
}

func apiID(t *testing.T, body string) int64 {
	t.Helper()
	var v struct {
		ID string `json:"id"`
	}
	modelstest.Fatal(t, json.Unmarshal([]byte(body), &v), "decode %s", body)
	id, err := strconv.ParseInt(v.ID, 10, 64)
	modelstest.Fatal(t, err, "id of %s", body)
	return id
}

func componentSide(name string) func(t *testing.T, s *webtest.Server) side {
	return func(t *testing.T, s *webtest.Server) side {
		return side{obj: addComponent(t, s, name, models.StatusOperational)}
	}
}

func groupSide(t *testing.T, s *webtest.Server) side {
	g, err := s.Store.CreateGroup(t.Context(), models.DefaultPageID, models.GroupInput{Name: "Core"})
	modelstest.Fatal(t, err, "create group")
	return side{obj: g.ID}
}

func withComponent(t *testing.T, s *webtest.Server) side {
	return side{comp: addComponent(t, s, "Checkout", models.StatusOperational)}
}

func openIncidentSide(t *testing.T, s *webtest.Server) side {
	comp := addComponent(t, s, "Checkout", models.StatusOperational)
	inc, err := s.Store.CreateIncident(t.Context(), models.DefaultPageID, models.IncidentInput{Title: "Checkout errors",
		Status: models.IncidentIdentified, Message: "Found it", Components: map[int64]models.ComponentStatus{comp: models.StatusPartialOutage}})
	modelstest.Fatal(t, err, "create incident")
	return side{obj: inc.ID, comp: comp}
}

var auditWindowStart = time.Date(2030, 1, 14, 10, 0, 0, 0, time.UTC)

func maintenanceSide(t *testing.T, s *webtest.Server) side {
	m, err := s.Store.ScheduleMaintenance(t.Context(), models.DefaultPageID, models.MaintenanceInput{Title: "Upgrade",
		WindowStart: auditWindowStart, WindowEnd: auditWindowStart.Add(time.Hour)})
	modelstest.Fatal(t, err, "schedule")
	return side{obj: m.ID}
}

func channelSide(t *testing.T, s *webtest.Server) side {
	cn, err := s.Store.CreateChannel(t.Context(), models.DefaultPageID, models.ChannelInput{Type: models.ChannelWebhook,
		Name: "Ops hook", URL: "https://example.com/hook?key=k3y", Enabled: true})
	modelstest.Fatal(t, err, "create channel")
	return side{obj: cn.ID}
}

var uiAPIPairs = []uiAPIPair{
	{name: "create component",
		ui: func(t *testing.T, c *webtest.Client, _ side) int64 {
			wantStatus(t, "create", c.Submit("/admin/components/new", "/admin/components",
				url.Values{"name": {"Web"}, "description": {"Site"}, "status": {"degraded_performance"}, "visible": {"1"}}).Status, http.StatusSeeOther)
			return 0 // found from the audit row
		},
		api: func(t *testing.T, s *webtest.Server, token string, _ side) int64 {
			res := apiCall(t, s, token, http.MethodPost, "/api/v1/components", `{"name":"Web","description":"Site","status":"degraded_performance"}`)
			wantStatus(t, "create", res.Status, http.StatusCreated)
			return apiID(t, res.Body)
		}},
	{name: "quick status change",
		setup: componentSide("Web"),
		ui: func(t *testing.T, c *webtest.Client, sd side) int64 {
			id := sd.obj
			wantStatus(t, "status", c.Submit("/admin/components", fmt.Sprintf("/admin/components/%d/status", id), url.Values{"status": {"major_outage"}}).Status, http.StatusSeeOther)
			return id
		},
		api: func(t *testing.T, s *webtest.Server, token string, sd side) int64 {
			id := sd.obj
			wantStatus(t, "status", apiCall(t, s, token, http.MethodPatch, fmt.Sprintf("/api/v1/components/%d", id), `{"status":"major_outage"}`).Status, http.StatusOK)
			return id
		}},
	{name: "edit component",
		setup: componentSide("Web"),
		ui: func(t *testing.T, c *webtest.Client, sd side) int64 {
			id := sd.obj
			path := fmt.Sprintf("/admin/components/%d", id)
			wantStatus(t, "edit", c.Submit(path+"/edit", path, url.Values{"name": {"Website"}, "description": {"Docs too"},
				"status": {"partial_outage"}}).Status, http.StatusSeeOther)
			return id
		},
		api: func(t *testing.T, s *webtest.Server, token string, sd side) int64 {
			id := sd.obj
			wantStatus(t, "edit", apiCall(t, s, token, http.MethodPatch, fmt.Sprintf("/api/v1/components/%d", id),
				`{"name":"Website","description":"Docs too","status":"partial_outage","visible":false}`).Status, http.StatusOK)
			return id
		}},
	{name: "delete component",
		setup: componentSide("Web"),
		ui: func(t *testing.T, c *webtest.Client, sd side) int64 {
			id := sd.obj
			path := fmt.Sprintf("/admin/components/%d/delete", id)
			wantStatus(t, "delete", c.Submit(path, path, nil).Status, http.StatusSeeOther)
			return id
		},
		api: func(t *testing.T, s *webtest.Server, token string, sd side) int64 {
			id := sd.obj
			wantStatus(t, "delete", apiCall(t, s, token, http.MethodDelete, fmt.Sprintf("/api/v1/components/%d", id), "").Status, http.StatusNoContent)
			return id
		}},
	{name: "create group",
		ui: func(t *testing.T, c *webtest.Client, _ side) int64 {
			wantStatus(t, "create", c.Submit("/admin/groups/new", "/admin/groups", url.Values{"name": {"Core"}, "collapsed": {"1"}}).Status, http.StatusSeeOther)
			return 0
		},
		api: func(t *testing.T, s *webtest.Server, token string, _ side) int64 {
			res := apiCall(t, s, token, http.MethodPost, "/api/v1/groups", `{"name":"Core","collapsed":true}`)
			wantStatus(t, "create", res.Status, http.StatusCreated)
			return apiID(t, res.Body)
		}},
	{name: "rename group",
		setup: groupSide,
		ui: func(t *testing.T, c *webtest.Client, sd side) int64 {
			id := sd.obj
			path := fmt.Sprintf("/admin/groups/%d", id)
			wantStatus(t, "rename", c.Submit(path+"/edit", path, url.Values{"name": {"Core services"}}).Status, http.StatusSeeOther)
			return id
		},
		api: func(t *testing.T, s *webtest.Server, token string, sd side) int64 {
			id := sd.obj
			wantStatus(t, "rename", apiCall(t, s, token, http.MethodPatch, fmt.Sprintf("/api/v1/groups/%d", id), `{"name":"Core services"}`).Status, http.StatusOK)
			return id
		}},
	{name: "delete group",
		setup: groupSide,
		ui: func(t *testing.T, c *webtest.Client, sd side) int64 {
			id := sd.obj
			path := fmt.Sprintf("/admin/groups/%d/delete", id)
			wantStatus(t, "delete", c.Submit(path, path, nil).Status, http.StatusSeeOther)
			return id
		},
		api: func(t *testing.T, s *webtest.Server, token string, sd side) int64 {
			id := sd.obj
			wantStatus(t, "delete", apiCall(t, s, token, http.MethodDelete, fmt.Sprintf("/api/v1/groups/%d", id), "").Status, http.StatusNoContent)
			return id
		}},
	{name: "open incident", setup: withComponent,
		ui: func(t *testing.T, c *webtest.Client, sd side) int64 {
			return idFromLocation(t, c.Submit("/admin/incidents/new", "/admin/incidents", url.Values{"title": {"Checkout errors"},
				"status": {"investigating"}, "impact": {""}, "message": {"Looking into it"}, "component_" + itoa(sd.comp): {"major_outage"}}), "/admin/incidents/")
		},
		api: func(t *testing.T, s *webtest.Server, token string, sd side) int64 {
			res := apiCall(t, s, token, http.MethodPost, "/api/v1/incidents", fmt.Sprintf(
				`{"name":"Checkout errors","status":"investigating","body":"Looking into it","components":{"%d":"major_outage"}}`, sd.comp))
			wantStatus(t, "open", res.Status, http.StatusCreated)
			return apiID(t, res.Body)
		}},
	{name: "resolve incident", setup: openIncidentSide,
		ui: func(t *testing.T, c *webtest.Client, sd side) int64 {
			path := fmt.Sprintf("/admin/incidents/%d", sd.obj)
			wantStatus(t, "resolve", c.Submit(path, path+"/resolve", nil).Status, http.StatusSeeOther)
			return sd.obj
		},
		api: func(t *testing.T, s *webtest.Server, token string, sd side) int64 {
			wantStatus(t, "resolve", apiCall(t, s, token, http.MethodPost, fmt.Sprintf("/api/v1/incidents/%d/resolve", sd.obj), "").Status, http.StatusOK)
			return sd.obj
		}},
	{name: "schedule maintenance", setup: withComponent,
		ui: func(t *testing.T, c *webtest.Client, sd side) int64 {
			res := c.Submit("/admin/maintenance/new", "/admin/maintenance", url.Values{"title": {"Upgrade"}, "message": {"Short"},
				"window_start": {"2030-01-14T10:00"}, "window_end": {"2030-01-14T11:00"}, "component_ids": {itoa(sd.comp)}, "set_maintenance": {"1"}})
			wantStatus(t, "schedule", res.Status, http.StatusSeeOther)
			return 0
		},
		api: func(t *testing.T, s *webtest.Server, token string, sd side) int64 {
			res := apiCall(t, s, token, http.MethodPost, "/api/v1/maintenance", fmt.Sprintf(`{"name":"Upgrade","body":"Short",
				"scheduled_for":"2030-01-14T10:00:00Z","scheduled_until":"2030-01-14T11:00:00Z","components":["%d"],
				"auto_transition_to_maintenance_state":true}`, sd.comp))
			wantStatus(t, "schedule", res.Status, http.StatusCreated)
			return apiID(t, res.Body)
		}},
	{name: "cancel maintenance", setup: maintenanceSide,
		ui: func(t *testing.T, c *webtest.Client, sd side) int64 {
			path := fmt.Sprintf("/admin/maintenance/%d/cancel", sd.obj)
			wantStatus(t, "cancel", c.Submit(path, path, nil).Status, http.StatusSeeOther)
			return sd.obj
		},
		api: func(t *testing.T, s *webtest.Server, token string, sd side) int64 {
			wantStatus(t, "cancel", apiCall(t, s, token, http.MethodPost, fmt.Sprintf("/api/v1/maintenance/%d/cancel", sd.obj), "").Status, http.StatusOK)
			return sd.obj
		}},
	{name: "create channel",
		ui: func(t *testing.T, c *webtest.Client, _ side) int64 {
			return createChannel(t, c, url.Values{"type": {"webhook"}, "name": {"Ops hook"}, "url": {"https://example.com/hook?key=k3y"},
				"enabled": {"1"}, "headers": {"Authorization: Bearer h3ader"}})
		},
		api: func(t *testing.T, s *webtest.Server, token string, _ side) int64 {
			res := apiCall(t, s, token, http.MethodPost, "/api/v1/channels",
				`{"type":"webhook","name":"Ops hook","url":"https://example.com/hook?key=k3y","headers":{"Authorization":"Bearer h3ader"}}`)
			wantStatus(t, "create", res.Status, http.StatusCreated)
			return apiID(t, res.Body)
		}},
	{name: "rotate signing secret", setup: channelSide,
		ui: func(t *testing.T, c *webtest.Client, sd side) int64 {
			path := channelURL(sd.obj) + "/rotate"
			wantStatus(t, "rotate", c.Submit(path, path, nil).Status, http.StatusSeeOther)
			return sd.obj
		},
		api: func(t *testing.T, s *webtest.Server, token string, sd side) int64 {
			wantStatus(t, "rotate", apiCall(t, s, token, http.MethodPost, fmt.Sprintf("/api/v1/channels/%d/rotate-secret", sd.obj), "").Status, http.StatusOK)
			return sd.obj
		}},
}

// The same change made in the admin and through the API writes the same
// events and the same audit row; only the actor differs: the signed-in
// admin for one, the token for the other.
func TestUIAndAPIWritesAuditAlike(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		tokenID, token := createToken(t, c, "Automation", models.ScopeComponentsWrite, models.ScopeIncidentsWrite,
			models.ScopeMaintenanceWrite, models.ScopeChannelsWrite)
		for _, p := range uiAPIPairs {
			t.Run(p.name, func(t *testing.T) {
				var uiSide, apiSide side
				if p.setup != nil {
					uiSide, apiSide = p.setup(t, s), p.setup(t, s)
				}
				rowsBefore, eventsBefore := len(auditRows(t, s)), eventCount(t, s)
				uiSide.obj = p.ui(t, c, uiSide)
				rowsMid, eventsMid := len(auditRows(t, s)), eventCount(t, s)
				apiSide.obj = p.api(t, s, token, apiSide)
				rows := auditRows(t, s)[rowsBefore:]
				if len(rows) != 2 || rowsMid != rowsBefore+1 {
					t.Fatalf("%d audit rows (%d from the admin), want one from each side", len(rows), rowsMid-rowsBefore)
				}
				ui, api := rows[0], rows[1]
				if uiSide.obj == 0 {
					uiSide.obj, _ = strconv.ParseInt(ui.ObjectID, 10, 64)
				}
				if ui.ObjectID != itoa(uiSide.obj) || api.ObjectID != itoa(apiSide.obj) {
					t.Fatalf("rows name objects %s and %s, want %d and %d", ui.ObjectID, api.ObjectID, uiSide.obj, apiSide.obj)
				}
				if ui.ActorType != models.ActorUser || ui.ActorName != webtest.AdminEmail || ui.IP != "127.0.0.1" {
					t.Errorf("admin row by %s %q from %q", ui.ActorType, ui.ActorName, ui.IP)
				}
				if api.ActorType != models.ActorToken || api.ActorName != "Automation" || api.ActorID == nil || *api.ActorID != tokenID || api.IP != "127.0.0.1" {
					t.Errorf("API row by %s %q #%v from %q, want token “Automation” #%d", api.ActorType, api.ActorName, api.ActorID, api.IP, tokenID)
				}
				if ui.Action != api.Action || ui.ObjectType != api.ObjectType {
					t.Errorf("admin wrote %s on %s, API %s on %s", ui.Action, ui.ObjectType, api.Action, api.ObjectType)
				}
				same := func(what, a, b string) {
					t.Helper()
					if na, nb := sameShape(a, uiSide), sameShape(b, apiSide); na != nb {
						t.Errorf("%s differs:\nadmin %s\nAPI   %s", what, na, nb)
					}
				}
				same("summary", ui.Summary, api.Summary)
				same("before", ui.Before, api.Before)
				same("after", ui.After, api.After)

				evs, err := s.Store.Events(t.Context(), models.EventFilter{})
				modelstest.Fatal(t, err, "events")
				uiEvents, apiEvents := evs[eventsBefore:eventsMid], evs[eventsMid:]
				// Events of one change may share a millisecond: compare them by type.
				byType := func(a, b models.Event) int { return strings.Compare(string(a.Type), string(b.Type)) }
				slices.SortStableFunc(uiEvents, byType)
				slices.SortStableFunc(apiEvents, byType)
				if len(uiEvents) != len(apiEvents) {
					t.Fatalf("admin wrote %d events, API %d", len(uiEvents), len(apiEvents))
				}
				for i := range uiEvents {
					if uiEvents[i].Type != apiEvents[i].Type {
						t.Errorf("event %d: admin %s, API %s", i, uiEvents[i].Type, apiEvents[i].Type)
					}
					same(string(uiEvents[i].Type)+" data", uiEvents[i].Data, apiEvents[i].Data)
				}
			})
		}
	})
}

var (
	auditTimeRE = regexp.MustCompile(`\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d| UTC)?`)
	auditNumRE  = regexp.MustCompile(`\d+`)
	// Uptime depends on how many milliseconds passed between the two sides.
	auditUptimeRE = regexp.MustCompile(`"uptimePercent":[0-9.]+`)
)

// sameShape blanks what must differ between the two sides: times (the
// second side runs a moment later) and the ids of each side's own
// objects.
func sameShape(s string, sd side) string {
	s = auditTimeRE.ReplaceAllString(s, "<time>")
	s = auditUptimeRE.ReplaceAllString(s, `"uptimePercent":<uptime>`)
	return auditNumRE.ReplaceAllStringFunc(s, func(n string) string {
		switch n {
		case itoa(sd.obj):
			return "<object>"
		case itoa(sd.comp):
			return "<component>"
		}
		return n
	})
}
