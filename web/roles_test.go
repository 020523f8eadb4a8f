package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
	"github.com/labstack/echo/v4"
)

// TestEveryRouteDeclaresItsRole walks every registered admin screen and
// API endpoint: each must name the least role that may use it (or be
// declared public) where it is registered in web/routes.go.
func TestEveryRouteDeclaresItsRole(t *testing.T) {
	s := webtest.Start(t, models.SQLite)
	n := 0
	for _, route := range s.Routes {
		method, path, _ := strings.Cut(route, " ")
		if method == http.MethodHead || method == echo.RouteNotFound || !(strings.HasPrefix(path, "/admin") || strings.HasPrefix(path, "/api/v1")) {
			continue // HEAD answers as its GET route, which is checked; echo's
			// own not-found routes of groups answer 404 to everyone
		}
		n++
		if _, ok := s.RouteRole(route); !ok {
			t.Errorf("%s declares no role: register it with the least role that may use it", route)
		}
	}
	if n < 100 {
		t.Fatalf("walked %d admin and API routes; the router has more", n)
	}
}

// roleSeed is one of everything, so every route has an object to aim at.
type roleSeed struct {
	ids map[string]string
}

var routeParamRE = regexp.MustCompile(`:[a-z_]+`)

// path fills a route's parameters with the seeded objects' ids.
func (rs roleSeed) path(route string) string {
	resource := ""
	return routeParamRE.ReplaceAllStringFunc(route, func(p string) string {
		_ = resource
		switch p {
		case ":uid", ":update_id":
			if strings.Contains(route, "/maintenance/") {
				return rs.ids["maintenance_update"]
			}
			return rs.ids["incident_update"]
		case ":did":
			return rs.ids["delivery"]
		case ":delivery_id":
			return rs.ids["subscriber_delivery"]
		}
		for _, kind := range []string{"incidents", "maintenance", "components", "groups", "channels", "tokens", "audit", "users", "invitations", "subscribers", "pages"} {
			if strings.Contains(route, "/"+kind+"/:id") {
				if id, ok := rs.ids[kind]; ok {
					return id
				}
			}
		}
		return "1"
	})
}

func seedEverything(t *testing.T, s *webtest.Server, adminID int64) roleSeed {
	t.Helper()
	ctx := context.Background()
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(rc.Close)
	ids := map[string]string{}
	set := func(k string, id int64) { ids[k] = fmt.Sprint(id) }
	g, err := s.Store.CreateGroup(ctx, models.DefaultPageID, models.GroupInput{Name: "Core"})
	modelstest.Fatal(t, err, "group")
	set("groups", g.ID)
	comp, err := s.Store.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Visible: true, Status: models.StatusOperational})
	modelstest.Fatal(t, err, "component")
	set("components", comp.ID)
	inc, err := s.Store.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Errors", Status: models.IncidentInvestigating, Message: "Looking."})
	modelstest.Fatal(t, err, "incident")
	set("incidents", inc.ID)
	full, err := s.Store.Incident(ctx, inc.ID)
	modelstest.Fatal(t, err, "load incident")
	set("incident_update", full.Updates[0].ID)
	m, err := s.Store.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "Upgrade",
		WindowStart: time.Now().Add(24 * time.Hour), WindowEnd: time.Now().Add(25 * time.Hour)})
	modelstest.Fatal(t, err, "maintenance")
	set("maintenance", m.ID)
	ch, err := s.Store.CreateChannel(ctx, models.DefaultPageID, models.ChannelInput{Type: models.ChannelWebhook, Name: "R", URL: rc.URL, Enabled: true})
	modelstest.Fatal(t, err, "channel")
	set("channels", ch.ID)
	res, err := s.Engine.SendTest(ctx, ch, models.EventIncidentCreated)
	modelstest.Fatal(t, err, "delivery")
	ids["delivery"] = res.Delivery.ID
	tok, _, err := s.Store.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: "seed", Scopes: []models.Scope{models.ScopeRead}}, adminID)
	modelstest.Fatal(t, err, "token")
	set("tokens", tok.ID)
	entries, err := s.Store.AuditEntries(ctx, models.AuditFilter{PageID: models.DefaultPageID, Limit: 1})
	modelstest.Fatal(t, err, "audit")
	set("audit", entries[0].ID)
	set("users", adminID)
	inv, _, err := s.Store.CreateInvitation(ctx, models.InvitationInput{Email: "invited@example.com", Role: models.RoleViewer}, adminID)
	modelstest.Fatal(t, err, "invitation")
	set("invitations", inv.ID)
	sub, err := s.Store.CreateConfirmedSubscriber(ctx, models.DefaultPageID, models.SubscribeInput{Email: "seed-subscriber@example.com", AllComponents: true})
	modelstest.Fatal(t, err, "subscriber")
	set("subscribers", sub.ID)
	// A sign-up's confirmation e-mail, for the replay route.
	modelstest.Fatal(t, s.Store.Subscribe(ctx, models.DefaultPageID, models.SubscribeInput{Email: "seed-pending@example.com", AllComponents: true}), "pending subscriber")
	pending, err := s.Store.Subscribers(ctx, models.SubscriberFilter{State: models.SubscriberPending})
	modelstest.Fatal(t, err, "pending subscribers")
	logs, _, err := s.Store.SubscriberDeliveryLogs(ctx, pending[0].ID, 1)
	modelstest.Fatal(t, err, "subscriber deliveries")
	set("subscriber_delivery", logs[0].Delivery.ID)
	// A second, empty status page, for the Pages routes.
	pg, err := s.Store.CreatePage(ctx, models.PageNameInput{Name: "Second", Slug: "second"})
	modelstest.Fatal(t, err, "page")
	set("pages", pg.ID)
	return roleSeed{ids: ids}
}

// writtenTables counts the rows of every table a write could touch, but
// the audit log, which records refusals.
func writtenTables(t *testing.T, s *webtest.Server) map[string]int {
	t.Helper()
	counts := snapshotTables(t, s)
	// The engine keeps delivering what allowed requests announced:
	// attempts, and channels' health, move on their own.
	delete(counts, "audit_log")
	delete(counts, "delivery_attempts")
	db, err := s.Store.SQLDB()
	modelstest.Fatal(t, err, "sql db")
	// Changes that add no row: a row's updated_at moves.
	for _, table := range []string{"components", "component_groups", "incidents", "maintenances", "pages", "users", "api_tokens", "invitations"} {
		var latest string
		col := "updated_at"
		switch table {
		case "api_tokens":
			col = "COALESCE(revoked_at, created_at)"
		case "invitations":
			col = "COALESCE(revoked_at, accepted_at, created_at)"
		}
		modelstest.Fatal(t, db.QueryRowContext(context.Background(),
			"SELECT COALESCE(CAST(MAX("+col+") AS TEXT), '') FROM "+table).Scan(&latest), "latest change of %s", table)
		counts[table+" changed "+latest]++
	}
	return counts
}

func deniedEntries(t *testing.T, s *webtest.Server) int {
	t.Helper()
	db, err := s.Store.SQLDB()
	modelstest.Fatal(t, err, "sql db")
	var n int
	modelstest.Fatal(t, db.QueryRowContext(context.Background(),
		"SELECT COUNT(*) FROM audit_log WHERE action = 'access.denied'").Scan(&n), "count refusals")
	return n
}

var csrfValueRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// TestRolesAgainstEveryRoute checks each role against each admin screen
// and API endpoint: a role at or above the route's gets through (GET:
// 2xx or 3xx; writes: anything but 401/403), one below gets 403, nothing
// written, and an audit entry of the refusal.
func TestRolesAgainstEveryRoute(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		ctx := context.Background()
		admin := s.SetUp(t)
		adminUser, err := s.Store.UserByEmail(ctx, webtest.AdminEmail)
		modelstest.Fatal(t, err, "admin")
		seed := seedEverything(t, s, adminUser.ID)

		type member struct {
			role   models.Role
			client *webtest.Client
			token  string
		}
		var team []member
		for _, role := range models.Roles {
			var c *webtest.Client
			var id int64
			if role == models.RoleAdmin {
				c, id = admin, adminUser.ID
			} else {
				u, uc := s.AddUser(t, string(role)+"@example.com", role)
				c, id = uc, u.ID
			}
			_, plain, err := s.Store.CreateToken(ctx, models.DefaultPageID,
				models.TokenInput{Name: string(role), Scopes: models.ScopesFor(role), AllPages: true}, id)
			modelstest.Fatal(t, err, "token for %s", role)
			team = append(team, member{role: role, client: c, token: plain})
		}

		// The engine delivers the seeded events in the background: let it
		// finish, so what it writes is not taken for a refused request's.
		for last, deadline := "", time.Now().Add(20*time.Second); ; time.Sleep(300 * time.Millisecond) {
			now := fmt.Sprint(writtenTables(t, s))
			if now == last {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the delivery engine did not settle in 20 s")
			}
			last = now
		}

		var routes []string
		for _, r := range s.Routes {
			method, path, _ := strings.Cut(r, " ")
			if method == http.MethodHead || method == echo.RouteNotFound || strings.HasSuffix(path, "/*") || path == "/api/v1/openapi.json" {
				continue
			}
			if strings.HasPrefix(path, "/admin") || strings.HasPrefix(path, "/api/v1") {
				routes = append(routes, r)
			}
		}
		// Reads first, then writes; within writes, those that remove or
		// revoke last, so the objects the others aim at still exist.
		rank := func(r string) int {
			switch {
			case strings.HasPrefix(r, "GET "):
				return 0
			case strings.Contains(r, "delete") || strings.HasPrefix(r, "DELETE ") || strings.Contains(r, "revoke") || strings.Contains(r, "cancel"):
				return 2
			}
			return 1
		}
		sort.SliceStable(routes, func(i, j int) bool { return rank(routes[i]) < rank(routes[j]) })

		send := func(m member, route string) (int, string) {
			method, path, _ := strings.Cut(route, " ")
			target := seed.path(path)
			if strings.HasPrefix(path, "/api/v1") {
				body := ""
				if method != http.MethodGet {
					body = "{}"
				}
				res := apiCall(t, s, m.token, method, target, body)
				return res.Status, res.Body
			}
			if method == http.MethodGet {
				res := m.client.Get(target)
				return res.Status, res.Body
			}
			page := m.client.Get("/admin")
			tok := csrfValueRE.FindStringSubmatch(page.Body)
			if tok == nil {
				t.Fatalf("no CSRF token on the dashboard for %s", m.role)
			}
			res := m.client.Post(target, url.Values{"_csrf": {tok[1]}})
			return res.Status, res.Body
		}

		checked := 0
		for _, route := range routes {
			min, ok := s.RouteRole(route)
			if !ok {
				t.Fatalf("%s declares no role", route)
			}
			// Refusals first: they must change nothing the allowed
			// requests then rely on.
			for _, m := range team {
				if m.role.AtLeast(min) {
					continue
				}
				before, denied := writtenTables(t, s), deniedEntries(t, s)
				status, body := send(m, route)
				if status != http.StatusForbidden {
					t.Errorf("%s as %s: %d, want 403 (it needs %s)\n%.300s", route, m.role, status, min, body)
					continue
				}
				if after := writtenTables(t, s); fmt.Sprint(after) != fmt.Sprint(before) {
					t.Errorf("%s as %s was refused but wrote:\nbefore %v\nafter  %v", route, m.role, before, after)
				}
				if got := deniedEntries(t, s); got != denied+1 {
					t.Errorf("%s as %s: %d new access.denied audit entries, want 1", route, m.role, got-denied)
				}
				checked++
			}
			for _, m := range team {
				if !m.role.AtLeast(min) {
					continue
				}
				status, body := send(m, route)
				method, _, _ := strings.Cut(route, " ")
				switch {
				case method == http.MethodGet && (status < 200 || status >= 400):
					t.Errorf("%s as %s: %d, want 2xx or 3xx\n%.300s", route, m.role, status, body)
				case status == http.StatusUnauthorized || status == http.StatusForbidden || status >= 500:
					t.Errorf("%s as %s: %d, want it let through\n%.300s", route, m.role, status, body)
				}
				checked++
			}
		}
		if checked < 3*len(routes) {
			t.Fatalf("checked %d role × route pairs for %d routes", checked, len(routes))
		}
	})
}

// TestOperatorTokensSetComponentStatusOnly: an operator's token may set a
// component's status through PATCH, but not rename or hide it; a demoted
// user's token shrinks with them at once.
func TestOperatorTokensSetComponentStatusOnly(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		ctx := context.Background()
		s.SetUp(t)
		comp, err := s.Store.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Visible: true, Status: models.StatusOperational})
		modelstest.Fatal(t, err, "component")
		op, _ := s.AddUser(t, "op@example.com", models.RoleOperator)
		_, plain, err := s.Store.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: "op",
			Scopes: []models.Scope{models.ScopeComponentsWrite, models.ScopeIncidentsWrite}}, op.ID)
		modelstest.Fatal(t, err, "token")
		path := fmt.Sprintf("/api/v1/components/%d", comp.ID)

		if res := apiCall(t, s, plain, http.MethodPatch, path, `{"status":"major_outage"}`); res.Status != http.StatusOK {
			t.Fatalf("operator sets status: %d\n%s", res.Status, res.Body)
		}
		res := apiCall(t, s, plain, http.MethodPatch, path, `{"name":"Renamed","status":"operational"}`)
		wantAPIError(t, res, http.StatusForbidden, "forbidden", "")
		got, err := s.Store.Component(ctx, comp.ID)
		modelstest.Fatal(t, err, "reload")
		if got.Name != "API" || got.Status != models.StatusMajorOutage {
			t.Fatalf("after the refused rename: %q %s, want API major_outage", got.Name, got.Status)
		}

		// Demoted to viewer: the token keeps its scopes on paper, but acts
		// as a viewer from the next request on.
		_, err = s.Store.SetUserRole(ctx, op.ID, models.RoleViewer)
		modelstest.Fatal(t, err, "demote")
		res = apiCall(t, s, plain, http.MethodPatch, path, `{"status":"operational"}`)
		wantAPIError(t, res, http.StatusForbidden, "forbidden", "")
		if res := apiCall(t, s, plain, http.MethodGet, path, ""); res.Status != http.StatusOK {
			t.Fatalf("demoted user's token reading: %d", res.Status)
		}
		res = apiCall(t, s, plain, http.MethodPost, "/api/v1/incidents", `{"name":"x","status":"investigating","body":"y"}`)
		wantAPIError(t, res, http.StatusForbidden, "forbidden", "")
	})
}

// TestLastAdminStays: the only admin can be neither demoted nor removed;
// with a second admin both work, and removal ends sessions and revokes
// tokens at once.
func TestLastAdminStays(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		ctx := context.Background()
		s.SetUp(t)
		first, err := s.Store.UserByEmail(ctx, webtest.AdminEmail)
		modelstest.Fatal(t, err, "admin")
		if _, err := s.Store.SetUserRole(ctx, first.ID, models.RoleOperator); !errors.Is(err, models.ErrLastAdmin) {
			t.Fatalf("demote the last admin: %v, want ErrLastAdmin", err)
		}
		if err := s.Store.RemoveUser(ctx, first.ID); !errors.Is(err, models.ErrLastAdmin) {
			t.Fatalf("remove the last admin: %v, want ErrLastAdmin", err)
		}
		second, c2 := s.AddUser(t, "second@example.com", models.RoleAdmin)
		_, plain, err := s.Store.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: "t", Scopes: []models.Scope{models.ScopeRead}}, second.ID)
		modelstest.Fatal(t, err, "token")
		if res := c2.Get("/admin"); res.Status != http.StatusOK {
			t.Fatalf("second admin's dashboard: %d", res.Status)
		}
		modelstest.Fatal(t, s.Store.RemoveUser(ctx, second.ID), "remove second admin")
		if res := c2.Get("/admin"); res.Status != http.StatusSeeOther {
			t.Fatalf("removed admin's session: %d, want 303 to sign in", res.Status)
		}
		res := apiCall(t, s, plain, http.MethodGet, "/api/v1/components", "")
		wantAPIError(t, res, http.StatusUnauthorized, "unauthorized", "")
		if _, err := s.Store.SetUserRole(ctx, first.ID, models.RoleViewer); !errors.Is(err, models.ErrLastAdmin) {
			t.Fatalf("demote the last admin after the other left: %v, want ErrLastAdmin", err)
		}
	})
}
