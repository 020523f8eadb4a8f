package web_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
	"github.com/labstack/echo/v4"
)

// alphaMarker is in the name of everything on the first page in these
// tests: no answer given to a user or token limited to other pages may
// contain it.
const alphaMarker = "alphamark"

// markFirstPage seeds one of everything on the first page (seedEverything)
// and then, on the same page, objects whose names carry alphaMarker,
// aiming the seed's ids at them; the first page is named with the
// marker too.
func markFirstPage(t *testing.T, s *webtest.Server, adminID int64) roleSeed {
	t.Helper()
	ctx := context.Background()
	seed := seedEverything(t, s, adminID)
	_, err := s.Store.RenamePage(ctx, models.DefaultPageID, models.PageNameInput{Name: "Alphamark HQ", Slug: "alphamark"})
	modelstest.Fatal(t, err, "rename the first page")
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(rc.Close)
	set := func(k string, id int64) { seed.ids[k] = fmt.Sprint(id) }
	g, err := s.Store.CreateGroup(ctx, models.DefaultPageID, models.GroupInput{Name: "Alphamark group"})
	modelstest.Fatal(t, err, "group")
	set("groups", g.ID)
	comp, err := s.Store.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "Alphamark API", Visible: true, Status: models.StatusPartialOutage})
	modelstest.Fatal(t, err, "component")
	set("components", comp.ID)
	inc, err := s.Store.CreateIncident(ctx, models.DefaultPageID, models.IncidentInput{Title: "Alphamark errors", Status: models.IncidentInvestigating, Message: "Alphamark looking."})
	modelstest.Fatal(t, err, "incident")
	set("incidents", inc.ID)
	full, err := s.Store.Incident(ctx, inc.ID)
	modelstest.Fatal(t, err, "load incident")
	set("incident_update", full.Updates[0].ID)
	m, err := s.Store.ScheduleMaintenance(ctx, models.DefaultPageID, models.MaintenanceInput{Title: "Alphamark upgrade",
		WindowStart: time.Now().Add(24 * time.Hour), WindowEnd: time.Now().Add(25 * time.Hour)})
	modelstest.Fatal(t, err, "maintenance")
	set("maintenance", m.ID)
	ch, err := s.Store.CreateChannel(ctx, models.DefaultPageID, models.ChannelInput{Type: models.ChannelWebhook, Name: "Alphamark hook", URL: rc.URL + "/alphamark", Enabled: true})
	modelstest.Fatal(t, err, "channel")
	set("channels", ch.ID)
	res, err := s.Engine.SendTest(ctx, ch, models.EventIncidentCreated)
	modelstest.Fatal(t, err, "delivery")
	seed.ids["delivery"] = res.Delivery.ID
	sub, err := s.Store.CreateConfirmedSubscriber(ctx, models.DefaultPageID, models.SubscribeInput{Email: "alphamark-reader@example.com", AllComponents: true})
	modelstest.Fatal(t, err, "subscriber")
	set("subscribers", sub.ID)
	tok, _, err := s.Store.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: "Alphamark deploys", Scopes: []models.Scope{models.ScopeRead}}, adminID)
	modelstest.Fatal(t, err, "token")
	set("tokens", tok.ID)
	entries, err := s.Store.AuditEntries(ctx, models.AuditFilter{PageID: models.DefaultPageID, Limit: 1})
	modelstest.Fatal(t, err, "audit")
	set("audit", entries[0].ID)
	return seed
}

// pageObjectRoute says whether an admin route names, by :id, an object
// that belongs to one page.
func pageObjectRoute(path string) bool {
	for _, kind := range []string{"incidents", "maintenance", "components", "groups", "channels", "subscribers", "audit", "tokens"} {
		if strings.HasPrefix(path, "/admin/"+kind+"/:id") {
			return true
		}
	}
	return false
}

func limitPages(t *testing.T, admin *webtest.Client, userID int64, pageIDs ...int64) webtest.Response {
	t.Helper()
	form := url.Values{"pages": {"some"}}
	if len(pageIDs) == 0 {
		form.Set("pages", "all")
	}
	for _, id := range pageIDs {
		form.Add("page_ids", fmt.Sprint(id))
	}
	path := fmt.Sprintf("/admin/users/%d/pages", userID)
	return admin.Submit(path, path, form)
}

// TestUserLimitedToPages: an operator and an admin limited to pages B
// and C see only those pages in the switcher, get 404 for every admin
// route aimed at an object of page A, see nothing of page A on any
// screen, cannot switch to it, and are not team members of it; the
// limited admin gets 403 on the install-wide screens. Lifting the limit
// gives page A back; deleting one of their pages leaves the other, and
// deleting the last shows a "no pages" screen (never every page).
func TestUserLimitedToPages(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		ctx := context.Background()
		admin := s.SetUp(t)
		adminUser, err := s.Store.UserByEmail(ctx, webtest.AdminEmail)
		modelstest.Fatal(t, err, "admin")
		seed := markFirstPage(t, s, adminUser.ID)
		bravo, err := s.Store.CreatePage(ctx, models.PageNameInput{Name: "Bravo", Slug: "bravo"})
		modelstest.Fatal(t, err, "page B")
		charlie, err := s.Store.CreatePage(ctx, models.PageNameInput{Name: "Charlie", Slug: "charlie"})
		modelstest.Fatal(t, err, "page C")
		_, err = s.Store.CreateComponent(ctx, bravo.ID, models.ComponentInput{Name: "Bravo VPN", Visible: true, Status: models.StatusOperational})
		modelstest.Fatal(t, err, "component on B")

		opUser, op := s.AddUser(t, "op@example.com", models.RoleOperator)
		limAdminUser, limAdmin := s.AddUser(t, "pageadmin@example.com", models.RoleAdmin)
		for _, u := range []*models.User{opUser, limAdminUser} {
			if res := limitPages(t, admin, u.ID, bravo.ID, charlie.ID); res.Status != http.StatusSeeOther {
				t.Fatalf("limit %s: %d\n%.500s", u.Email, res.Status, res.Body)
			}
		}
		users := admin.Get("/admin/users")
		if !strings.Contains(users.Body, "Bravo, Charlie") || !strings.Contains(users.Body, "All pages") {
			t.Errorf("users screen does not show each member's pages:\n%.3000s", users.Body)
		}
		entries, err := s.Store.AuditEntries(ctx, models.AuditFilter{PageID: models.DefaultPageID, Action: "user.pages"})
		modelstest.Fatal(t, err, "audit")
		if len(entries) != 2 || !strings.Contains(entries[0].Summary, "“Bravo”, “Charlie”") {
			t.Errorf("user.pages audit entries: %+v", entries)
		}

		for _, m := range []struct {
			name   string
			role   models.Role
			client *webtest.Client
			userID int64
		}{{"operator", models.RoleOperator, op, opUser.ID}, {"admin", models.RoleAdmin, limAdmin, limAdminUser.ID}} {
			dash := m.client.Get("/admin")
			if dash.Status != http.StatusOK || !strings.Contains(dash.Body, fmt.Sprintf(`<option value="%d" selected>Bravo</option>`, bravo.ID)) ||
				!strings.Contains(dash.Body, ">Charlie</option>") || strings.Contains(dash.Body, `<option value="1"`) {
				t.Fatalf("%s: the switcher should list Bravo (managed) and Charlie only: %d\n%.3000s", m.name, dash.Status, dash.Body)
			}
			csrf := csrfValueRE.FindStringSubmatch(dash.Body)[1]
			// Every admin route aimed at an object of page A.
			checked := 0
			for _, route := range s.Routes {
				method, path, _ := strings.Cut(route, " ")
				if method == http.MethodHead || method == echo.RouteNotFound || !pageObjectRoute(path) {
					continue
				}
				min, _ := s.RouteRole(route)
				target := seed.path(path)
				var res webtest.Response
				if method == http.MethodGet {
					res = m.client.Get(target)
				} else {
					res = m.client.Post(target, url.Values{"_csrf": {csrf}})
				}
				want := http.StatusNotFound
				if !m.role.AtLeast(min) {
					want = http.StatusForbidden
				}
				if strings.HasSuffix(path, "/created") && res.Status == http.StatusSeeOther && res.Location == "/admin/tokens" {
					res.Status = want // shown once, to the session that made it: this one made none
				}
				if res.Status != want {
					t.Errorf("%s %s as a %s limited to B and C: %d, want %d\n%.300s", method, target, m.name, res.Status, want, res.Body)
				}
				if strings.Contains(strings.ToLower(res.Body), alphaMarker) {
					t.Errorf("%s %s as a %s shows page A's objects", method, target, m.name)
				}
				checked++
			}
			if checked < 40 {
				t.Fatalf("checked only %d routes naming page objects", checked)
			}
			// Every screen without an id, on page B and on page C: nothing
			// of page A.
			for _, current := range []int64{bravo.ID, charlie.ID} {
				if res := m.client.Submit("/admin", "/admin/pages/current", url.Values{"page_id": {fmt.Sprint(current)}}); res.Status != http.StatusSeeOther {
					t.Fatalf("%s switches to page %d: %d", m.name, current, res.Status)
				}
				screens := 0
				for _, route := range s.Routes {
					method, path, _ := strings.Cut(route, " ")
					if method != http.MethodGet || !strings.HasPrefix(path, "/admin") || strings.Contains(path, ":") || strings.HasSuffix(path, "/*") {
						continue
					}
					res := m.client.Get(path)
					if strings.Contains(strings.ToLower(res.Body), alphaMarker) {
						t.Errorf("GET %s as a %s on page %d shows page A: %d\n%.2000s", path, m.name, current, res.Status, res.Body)
					}
					if res.Status >= 500 {
						t.Errorf("GET %s as a %s: %d", path, m.name, res.Status)
					}
					screens++
				}
				if screens < 20 {
					t.Fatalf("walked only %d screens", screens)
				}
			}
			if res := m.client.Get("/admin?pages=all"); res.Status != http.StatusOK || !strings.Contains(res.Body, "overview-page-"+fmt.Sprint(bravo.ID)) ||
				strings.Contains(res.Body, "overview-page-1\"") {
				t.Errorf("%s's all-pages dashboard: %d\n%.2000s", m.name, res.Status, res.Body)
			}
			// Switching to page A is refused like a page that does not exist.
			res := m.client.Submit("/admin", "/admin/pages/current", url.Values{"page_id": {"1"}})
			if res.Status != http.StatusNotFound || !strings.Contains(res.Body, "not one you may manage") || strings.Contains(strings.ToLower(res.Body), alphaMarker) {
				t.Errorf("%s switches to page A: %d\n%.500s", m.name, res.Status, res.Body)
			}
			if res := m.client.Get("/admin/incidents"); strings.Contains(strings.ToLower(res.Body), alphaMarker) {
				t.Errorf("%s sees page A after trying to switch to it", m.name)
			}
			for page, want := range map[int64]bool{models.DefaultPageID: false, bravo.ID: true, charlie.ID: true, 999: false} {
				got, err := s.Store.UserMaySeePage(ctx, m.userID, page)
				modelstest.Fatal(t, err, "may see")
				if got != want {
					t.Errorf("UserMaySeePage(%s, %d) = %v, want %v", m.name, page, got, want)
				}
			}
		}
		// Install-wide screens are for admins of every page.
		for _, path := range []string{"/admin/users", "/admin/pages", fmt.Sprintf("/admin/users/%d/pages", opUser.ID), fmt.Sprintf("/admin/pages/%d/edit", bravo.ID)} {
			if res := limAdmin.Get(path); res.Status != http.StatusForbidden || !strings.Contains(res.Body, "limited to some status pages") {
				t.Errorf("GET %s as a limited admin: %d, want a friendly 403", path, res.Status)
			}
		}
		if res := limAdmin.Submit("/admin/settings", "/admin/settings/sign-in", url.Values{"require_2fa": {"1"}}); res.Status != http.StatusForbidden {
			t.Errorf("a limited admin changes the sign-in settings: %d", res.Status)
		}
		if res := limAdmin.Get("/admin"); strings.Contains(res.Body, `href="/admin/users"`) || strings.Contains(res.Body, `href="/admin/pages"`) {
			t.Error("a limited admin's navigation links install-wide screens")
		}
		// The last admin of every page cannot be limited.
		if res := limitPages(t, admin, adminUser.ID, bravo.ID); res.Status != http.StatusConflict || !strings.Contains(res.Body, "only admin who may see every page") {
			t.Errorf("limit the last admin of every page: %d\n%.500s", res.Status, res.Body)
		}

		// Lifting the limit takes effect on the next request.
		if res := limitPages(t, admin, opUser.ID); res.Status != http.StatusSeeOther {
			t.Fatalf("lift the limit: %d", res.Status)
		}
		if res := op.Submit("/admin", "/admin/pages/current", url.Values{"page_id": {"1"}}); res.Status != http.StatusSeeOther {
			t.Fatalf("switch to page A after the limit is lifted: %d", res.Status)
		}
		if res := op.Get("/admin/incidents/" + seed.ids["incidents"]); res.Status != http.StatusOK || !strings.Contains(strings.ToLower(res.Body), alphaMarker) {
			t.Errorf("page A's incident once the limit is lifted: %d", res.Status)
		}
		if ok, _ := s.Store.UserMaySeePage(ctx, opUser.ID, models.DefaultPageID); !ok {
			t.Error("UserMaySeePage after lifting the limit: false")
		}

		// Deleting one of a limited user's pages leaves the other; deleting
		// the last leaves them with no page at all, and a friendly screen.
		if res := limitPages(t, admin, opUser.ID, bravo.ID, charlie.ID); res.Status != http.StatusSeeOther {
			t.Fatalf("limit again: %d", res.Status)
		}
		modelstest.Fatal(t, s.Store.DeletePage(ctx, charlie.ID, true), "delete C")
		access, err := s.Store.UserPageAccess(ctx, opUser.ID)
		modelstest.Fatal(t, err, "access")
		if access.All || len(access.PageIDs) != 1 || access.PageIDs[0] != bravo.ID {
			t.Fatalf("after deleting C the operator has %+v, want page B only", access)
		}
		if res := op.Get("/admin/components"); res.Status != http.StatusOK || !strings.Contains(res.Body, "Bravo VPN") {
			t.Errorf("operator after C was deleted: %d", res.Status)
		}
		modelstest.Fatal(t, s.Store.DeletePage(ctx, bravo.ID, true), "delete B")
		for _, path := range []string{"/admin", "/admin/incidents", "/admin/account"} {
			res := op.Get(path)
			if res.Status != http.StatusForbidden || !strings.Contains(res.Body, "No status pages") || strings.Contains(strings.ToLower(res.Body), alphaMarker) {
				t.Errorf("GET %s with no page left: %d\n%.500s", path, res.Status, res.Body)
			}
		}
		if ok, _ := s.Store.UserMaySeePage(ctx, opUser.ID, models.DefaultPageID); ok {
			t.Error("a user whose pages were all deleted may see page A")
		}
	})
}

// TestAPITokenLimitedToPage: a token of page B walks every GET endpoint
// of the API, aimed at page A's objects and with page_id of page A:
// nothing of page A is in any answer. An install-wide token reaches both
// pages; a user limited to some pages cannot make one; narrowing a user
// narrows the tokens they already have, at once.
func TestAPITokenLimitedToPage(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		ctx := context.Background()
		s.SetUp(t)
		adminUser, err := s.Store.UserByEmail(ctx, webtest.AdminEmail)
		modelstest.Fatal(t, err, "admin")
		seed := markFirstPage(t, s, adminUser.ID)
		bravo, err := s.Store.CreatePage(ctx, models.PageNameInput{Name: "Bravo", Slug: "bravo"})
		modelstest.Fatal(t, err, "page B")
		_, err = s.Store.CreateComponent(ctx, bravo.ID, models.ComponentInput{Name: "Bravo VPN", Visible: true, Status: models.StatusOperational})
		modelstest.Fatal(t, err, "component on B")
		scopes := models.ScopesFor(models.RoleAdmin)
		_, pageTok, err := s.Store.CreateToken(ctx, bravo.ID, models.TokenInput{Name: "bravo", Scopes: scopes}, adminUser.ID)
		modelstest.Fatal(t, err, "token of B")
		_, wideTok, err := s.Store.CreateToken(ctx, bravo.ID, models.TokenInput{Name: "everything", Scopes: scopes, AllPages: true}, adminUser.ID)
		modelstest.Fatal(t, err, "install-wide token")
		a := fmt.Sprint(models.DefaultPageID)
		b := fmt.Sprint(bravo.ID)

		checked := 0
		for _, route := range s.Routes {
			method, path, _ := strings.Cut(route, " ")
			if method != http.MethodGet || !strings.HasPrefix(path, "/api/v1/") || strings.HasSuffix(path, "/*") || path == "/api/v1/openapi.json" {
				continue
			}
			targets := []string{seed.path(path)}
			if !strings.Contains(path, ":") {
				targets = append(targets, path+"?page_id="+a)
			}
			for _, target := range targets {
				res := apiCall(t, s, pageTok, method, target, "")
				if strings.Contains(strings.ToLower(res.Body), alphaMarker) {
					t.Errorf("GET %s with page B's token shows page A: %d\n%.1000s", target, res.Status, res.Body)
				}
				switch {
				case res.Status >= 500:
					t.Errorf("GET %s: %d", target, res.Status)
				case strings.HasPrefix(path, "/api/v1/users"):
					if res.Status != http.StatusForbidden {
						t.Errorf("GET %s with a page token: %d, want 403 (install-wide)", target, res.Status)
					}
				case strings.Contains(path, ":"):
					if res.Status != http.StatusNotFound {
						t.Errorf("GET %s (page A's object) with page B's token: %d, want 404", target, res.Status)
					}
				case strings.Contains(target, "page_id=") && path != "/api/v1/pages":
					if res.Status != http.StatusUnprocessableEntity || res.Err.Field != "page_id" {
						t.Errorf("GET %s with page B's token: %d %s, want 422 on page_id", target, res.Status, res.Body)
					}
				case res.Status != http.StatusOK:
					t.Errorf("GET %s with page B's token: %d %s", target, res.Status, res.Body)
				}
				checked++
			}
		}
		if checked < 20 {
			t.Fatalf("checked only %d GET requests", checked)
		}
		// Every write aimed at one of page A's objects: 404 (403 for the
		// install-wide users and pages), nothing of A in the answer.
		writes := 0
		for _, route := range s.Routes {
			method, path, _ := strings.Cut(route, " ")
			if method == http.MethodGet || method == http.MethodHead || !strings.HasPrefix(path, "/api/v1/") || !strings.Contains(path, ":") {
				continue
			}
			if _, declared := s.RouteRole(route); !declared {
				continue
			}
			target := seed.path(path)
			res := apiCall(t, s, pageTok, method, target, "{}")
			want := http.StatusNotFound
			if strings.HasPrefix(path, "/api/v1/users") || strings.HasPrefix(path, "/api/v1/pages") {
				want = http.StatusForbidden
			}
			if res.Status != want || strings.Contains(strings.ToLower(res.Body), alphaMarker) {
				t.Errorf("%s %s (page A's object) with page B's token: %d, want %d\n%.300s", method, target, res.Status, want, res.Body)
			}
			writes++
		}
		if writes < 20 {
			t.Fatalf("checked only %d writes", writes)
		}
		if res := apiCall(t, s, pageTok, http.MethodGet, "/api/v1/components", ""); !strings.Contains(res.Body, "Bravo VPN") {
			t.Errorf("page B's token lists its own components: %s", res.Body)
		}
		if res := apiCall(t, s, pageTok, http.MethodGet, "/api/v1/pages", ""); !strings.Contains(res.Body, `"Bravo"`) || strings.Count(res.Body, `"id"`) != 1 {
			t.Errorf("page B's token lists pages: %s", res.Body)
		}
		if res := apiCall(t, s, pageTok, http.MethodPost, "/api/v1/pages", `{"name":"Delta","slug":"delta"}`); res.Status != http.StatusForbidden {
			t.Errorf("page B's token creates a page: %d", res.Status)
		}

		// The install-wide token reaches both pages, page_id choosing.
		for target, want := range map[string]string{
			"/api/v1/components":                           "Alphamark API",
			"/api/v1/components?page_id=" + a:              "Alphamark API",
			"/api/v1/components?page_id=" + b:              "Bravo VPN",
			"/api/v1/components/" + seed.ids["components"]: "Alphamark API",
			"/api/v1/pages":                                "Bravo",
			"/api/v1/page?page_id=" + b:                    "Bravo",
			"/api/v1/users":                                webtest.AdminEmail,
		} {
			if res := apiCall(t, s, wideTok, http.MethodGet, target, ""); res.Status != http.StatusOK || !strings.Contains(res.Body, want) {
				t.Errorf("GET %s with the install-wide token: %d, want %q in\n%.500s", target, res.Status, want, res.Body)
			}
		}
		if res := apiCall(t, s, wideTok, http.MethodPost, "/api/v1/incidents", `{"name":"Bravo outage","status":"investigating","body":"Looking.","page_id":"`+b+`"}`); res.Status != http.StatusCreated || !strings.Contains(res.Body, `"page_id":"`+b+`"`) {
			t.Errorf("install-wide token creates on page B: %d %s", res.Status, res.Body)
		}

		// A user limited to some pages cannot make an install-wide token.
		limited, limitedClient := s.AddUser(t, "limited@example.com", models.RoleAdmin)
		_, err = s.Store.SetUserPages(ctx, limited.ID, models.PageSet{PageIDs: []int64{bravo.ID}})
		modelstest.Fatal(t, err, "limit")
		_, _, err = s.Store.CreateToken(ctx, bravo.ID, models.TokenInput{Name: "wide", Scopes: []models.Scope{models.ScopeRead}, AllPages: true}, limited.ID)
		if ve := (*models.ValidationError)(nil); !errors.As(err, &ve) || ve.Fields["page"] == "" {
			t.Errorf("a limited user's install-wide token: %v", err)
		}
		for _, page := range []string{"all", a} {
			res := limitedClient.Submit("/admin/tokens/new", "/admin/tokens", url.Values{"name": {"x"}, "scopes": {"read"}, "page": {page}})
			if res.Status != http.StatusUnprocessableEntity || strings.Contains(strings.ToLower(res.Body), alphaMarker) {
				t.Errorf("a limited admin makes a token for page %q: %d", page, res.Status)
			}
		}
		if res := limitedClient.Get("/admin/tokens/new"); strings.Contains(res.Body, `value="all"`) {
			t.Error("the token form offers all pages to a limited user")
		}

		// Narrowing a user narrows their tokens at once.
		opUser, _ := s.AddUser(t, "op@example.com", models.RoleOperator)
		_, opWide, err := s.Store.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: "op wide", Scopes: []models.Scope{models.ScopeRead}, AllPages: true}, opUser.ID)
		modelstest.Fatal(t, err, "operator's install-wide token")
		_, opFirst, err := s.Store.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: "op first", Scopes: []models.Scope{models.ScopeRead}}, opUser.ID)
		modelstest.Fatal(t, err, "operator's token of page A")
		if res := apiCall(t, s, opWide, http.MethodGet, "/api/v1/components?page_id="+a, ""); !strings.Contains(res.Body, "Alphamark API") {
			t.Fatalf("operator's install-wide token before narrowing: %d %s", res.Status, res.Body)
		}
		res := apiCall(t, s, wideTok, http.MethodPatch, fmt.Sprintf("/api/v1/users/%d", opUser.ID), `{"page_ids":["`+b+`"]}`)
		if res.Status != http.StatusOK || !strings.Contains(res.Body, `"page_ids":["`+b+`"]`) {
			t.Fatalf("limit the operator through the API: %d %s", res.Status, res.Body)
		}
		for target, want := range map[string]int{
			"/api/v1/components?page_id=" + a:              http.StatusUnprocessableEntity,
			"/api/v1/components/" + seed.ids["components"]: http.StatusNotFound,
			"/api/v1/incidents/" + seed.ids["incidents"]:   http.StatusNotFound,
			"/api/v1/components":                           http.StatusOK,
		} {
			res := apiCall(t, s, opWide, http.MethodGet, target, "")
			if res.Status != want || strings.Contains(strings.ToLower(res.Body), alphaMarker) {
				t.Errorf("GET %s with the narrowed operator's install-wide token: %d, want %d\n%.300s", target, res.Status, want, res.Body)
			}
		}
		if res := apiCall(t, s, opWide, http.MethodGet, "/api/v1/components", ""); !strings.Contains(res.Body, "Bravo VPN") {
			t.Errorf("the narrowed install-wide token's default page is the operator's page: %s", res.Body)
		}
		if res := apiCall(t, s, opFirst, http.MethodGet, "/api/v1/components", ""); res.Status != http.StatusForbidden || strings.Contains(strings.ToLower(res.Body), alphaMarker) {
			t.Errorf("the narrowed operator's token of page A: %d %s", res.Status, res.Body)
		}
		if res := apiCall(t, s, wideTok, http.MethodGet, "/api/v1/users", ""); !strings.Contains(res.Body, `"page_ids":["`+b+`"]`) || !strings.Contains(res.Body, `"page_ids":null`) {
			t.Errorf("users list shows page_ids: %s", res.Body)
		}
		res = apiCall(t, s, wideTok, http.MethodPatch, fmt.Sprintf("/api/v1/users/%d", opUser.ID), `{"page_ids":null}`)
		if res.Status != http.StatusOK || !strings.Contains(res.Body, `"page_ids":null`) {
			t.Errorf("let the operator see every page again: %d %s", res.Status, res.Body)
		}
	})
}

// TestPageIDsBadInput: page_ids with unknown ids, wrong types,
// duplicates or too many are refused with 422 and a sentence, through
// the API (users and invitations) and the admin's forms; nothing changes.
func TestPageIDsBadInput(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		ctx := context.Background()
		admin := s.SetUp(t)
		adminUser, err := s.Store.UserByEmail(ctx, webtest.AdminEmail)
		modelstest.Fatal(t, err, "admin")
		bravo, err := s.Store.CreatePage(ctx, models.PageNameInput{Name: "Bravo", Slug: "bravo"})
		modelstest.Fatal(t, err, "page B")
		_, tok, err := s.Store.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: "team", Scopes: models.ScopesFor(models.RoleAdmin), AllPages: true}, adminUser.ID)
		modelstest.Fatal(t, err, "token")
		opUser, _ := s.AddUser(t, "op@example.com", models.RoleOperator)
		b := fmt.Sprint(bravo.ID)
		huge := make([]string, models.MaxPageIDs+1)
		for i := range huge {
			huge[i] = fmt.Sprint(i + 1)
		}
		for _, tc := range []struct{ name, value, says string }{
			{"unknown id", `["999"]`, "No status page has the id 999"},
			{"a string", `"` + b + `"`, "must be null (every page) or a list"},
			{"an object", `{"id":"` + b + `"}`, "must be null (every page) or a list"},
			{"a boolean item", `[true]`, "page_ids[0] is not a page id"},
			{"a negative id", `[-1]`, "page_ids[0] is not a page id"},
			{"a NUL", `["2\u0000"]`, "page_ids[0] is not a page id"},
			{"duplicates", `["` + b + `","` + b + `"]`, "listed twice"},
			{"empty", `[]`, "Choose at least one page"},
			{"too many", `[` + strings.Join(huge, ",") + `]`, "at most"},
		} {
			for _, req := range []struct{ method, path, body string }{
				{http.MethodPatch, fmt.Sprintf("/api/v1/users/%d", opUser.ID), `{"page_ids":` + tc.value + `}`},
				{http.MethodPatch, fmt.Sprintf("/api/v1/users/%d", opUser.ID), `{"role":"viewer","page_ids":` + tc.value + `}`},
				{http.MethodPost, "/api/v1/users", `{"email":"new@example.com","role":"viewer","page_ids":` + tc.value + `}`},
			} {
				res := apiCall(t, s, tok, req.method, req.path, req.body)
				if res.Status != http.StatusUnprocessableEntity || res.Err.Field != "page_ids" || !strings.Contains(res.Body, tc.says) {
					t.Errorf("%s %s with %s: %d %s", req.method, req.path, tc.name, res.Status, res.Body)
				}
			}
		}
		u, err := s.Store.User(ctx, opUser.ID)
		modelstest.Fatal(t, err, "operator")
		if !u.AllPages || u.Role != models.RoleOperator {
			t.Errorf("refused changes changed the operator: %+v", u)
		}
		if inv, _ := s.Store.PendingInvitations(ctx); len(inv) != 0 {
			t.Errorf("refused invitations stored: %d", len(inv))
		}
		// The forms.
		path := fmt.Sprintf("/admin/users/%d/pages", opUser.ID)
		for _, tc := range []struct {
			name string
			form url.Values
			says string
		}{
			{"unknown id", url.Values{"pages": {"some"}, "page_ids": {"999"}}, "No status page has the id 999"},
			{"not a number", url.Values{"pages": {"some"}, "page_ids": {"abc"}}, "Tick pages from the list"},
			{"NUL", url.Values{"pages": {"some"}, "page_ids": {"2\x00"}}, "Tick pages from the list"},
			{"duplicates", url.Values{"pages": {"some"}, "page_ids": {b, b}}, "listed twice"},
			{"none ticked", url.Values{"pages": {"some"}}, "Choose at least one page"},
			{"unknown choice", url.Values{"pages": {"<script>"}}, "Choose all pages, or only the pages you tick"},
			{"too many", url.Values{"pages": {"some"}, "page_ids": huge}, "at most"},
		} {
			res := admin.Submit(path, path, tc.form)
			if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, tc.says) || !strings.Contains(res.Body, `aria-invalid="true"`) {
				t.Errorf("pages form with %s: %d\n%.500s", tc.name, res.Status, res.Body)
			}
			inv := url.Values{"email": {"new@example.com"}, "role": {"viewer"}}
			for k, v := range tc.form {
				inv[k] = v
			}
			if res := admin.Submit("/admin/users", "/admin/users/invitations", inv); res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, tc.says) {
				t.Errorf("invite form with %s: %d", tc.name, res.Status)
			}
		}
		u, err = s.Store.User(ctx, opUser.ID)
		modelstest.Fatal(t, err, "operator")
		if !u.AllPages {
			t.Errorf("refused forms limited the operator: %+v", u)
		}
		// An invitation limited to page B makes a user limited to it.
		res := admin.Submit("/admin/users", "/admin/users/invitations", url.Values{"email": {"new@example.com"}, "role": {"viewer"}, "pages": {"some"}, "page_ids": {b}})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("invite for page B: %d\n%.500s", res.Status, res.Body)
		}
		link := admin.Get(res.Location)
		m := invitationLinkRE.FindStringSubmatch(link.Body)
		if m == nil {
			t.Fatalf("no invitation link:\n%.1000s", link.Body)
		}
		_, secret, _ := strings.Cut(html.UnescapeString(m[1]), "/invite/")
		joined, err := s.Store.AcceptInvitation(ctx, secret, "a much longer passphrase 42")
		modelstest.Fatal(t, err, "accept")
		if joined.AllPages || len(joined.PageIDs) != 1 || joined.PageIDs[0] != bravo.ID {
			t.Errorf("the invited user sees %+v, want page B only", joined.Access())
		}
	})
}

// TestLimitedUserAuditLeavesOutTheInstall: the first page records what
// belongs to the whole install (users, invitations, refused access,
// other pages' creation). A user limited to the first page and another
// sees the first page's own entries there, not those: no other member's
// address, no other page's name.
func TestLimitedUserAuditLeavesOutTheInstall(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		ctx := context.Background()
		admin := s.SetUp(t)
		secret, err := s.Store.CreatePage(ctx, models.PageNameInput{Name: "Secret Project", Slug: "secret-project"})
		modelstest.Fatal(t, err, "page")
		bravo, err := s.Store.CreatePage(ctx, models.PageNameInput{Name: "Bravo", Slug: "bravo"})
		modelstest.Fatal(t, err, "page B")
		_, err = s.Store.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "Front door", Visible: true, Status: models.StatusOperational})
		modelstest.Fatal(t, err, "component")
		_, _ = s.AddUser(t, "hidden.member@example.com", models.RoleViewer)
		opUser, op := s.AddUser(t, "op@example.com", models.RoleOperator)
		if res := limitPages(t, admin, opUser.ID, models.DefaultPageID, bravo.ID); res.Status != http.StatusSeeOther {
			t.Fatalf("limit: %d\n%.500s", res.Status, res.Body)
		}

		// The unrestricted admin sees all of it on the first page.
		if res := admin.Get("/admin/audit"); !strings.Contains(res.Body, "hidden.member@example.com") || !strings.Contains(res.Body, "Secret Project") {
			t.Fatalf("the admin's log lacks the install's entries:\n%.3000s", res.Body)
		}
		res := op.Get("/admin/audit")
		if res.Status != http.StatusOK || !strings.Contains(res.Body, "Front door") {
			t.Fatalf("the limited user's log of the first page: %d\n%.3000s", res.Status, res.Body)
		}
		for _, leak := range []string{"hidden.member@example.com", "Secret Project", "secret-project"} {
			if strings.Contains(res.Body, leak) {
				t.Errorf("the limited user's log shows %q", leak)
			}
		}
		// Nor one by one.
		entries, err := s.Store.AuditEntries(ctx, models.AuditFilter{PageID: models.DefaultPageID})
		modelstest.Fatal(t, err, "audit")
		checked := 0
		for _, e := range entries {
			if e.ObjectType != models.AuditUser && !(e.ObjectType == models.AuditPage && e.ObjectID == fmt.Sprint(secret.ID)) {
				continue
			}
			checked++
			if got := op.Get(fmt.Sprintf("/admin/audit/%d", e.ID)); got.Status != http.StatusNotFound {
				t.Errorf("GET /admin/audit/%d (%s) as the limited user: %d, want 404", e.ID, e.Action, got.Status)
			}
			if got := admin.Get(fmt.Sprintf("/admin/audit/%d", e.ID)); got.Status != http.StatusOK {
				t.Errorf("GET /admin/audit/%d (%s) as the admin: %d, want 200", e.ID, e.Action, got.Status)
			}
		}
		if checked < 3 {
			t.Fatalf("only %d install-wide entries to check", checked)
		}
	})
}
