package web_test

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

var (
	formTagRE = regexp.MustCompile(`(?is)<form\b[^>]*>`)
	attrRE    = regexp.MustCompile(`(?is)\b(method|action)="([^"]*)"`)
	adminHref = regexp.MustCompile(`href="(/admin[^"#?]*)`)
)

// routeOf finds the registered route ("METHOD /pattern") a request to
// path would reach: the pattern with the fewest parameters wins, as in
// Echo's router, where static segments beat parameters.
func routeOf(s *webtest.Server, method, path string) (string, bool) {
	best, bestParams := "", -1
	for _, r := range s.Routes {
		m, pattern, _ := strings.Cut(r, " ")
		if m != method || strings.HasSuffix(pattern, "/*") {
			continue
		}
		re := "^" + routeParamRE.ReplaceAllString(regexp.QuoteMeta(pattern), `[^/]+`) + "$"
		if !regexp.MustCompile(re).MatchString(path) {
			continue
		}
		if n := strings.Count(pattern, ":"); bestParams < 0 || n < bestParams {
			best, bestParams = r, n
		}
	}
	return best, bestParams >= 0
}

// refusedTargets lists the forms and admin links on body that role would
// be refused: a form or link it should not have been shown.
func refusedTargets(t *testing.T, s *webtest.Server, role models.Role, body string) []string {
	t.Helper()
	var out []string
	check := func(method, target, what string) {
		path, _, _ := strings.Cut(html.UnescapeString(target), "#")
		path, _, _ = strings.Cut(path, "?")
		route, ok := routeOf(s, method, path)
		if !ok {
			t.Errorf("%s %s %s matches no route", what, method, path)
			return
		}
		_, pattern, _ := strings.Cut(route, " ")
		if !strings.HasPrefix(pattern, "/admin") && !strings.HasPrefix(pattern, "/api/v1") {
			return // public: sign-out, the status page
		}
		min, declared := s.RouteRole(route)
		if !declared {
			t.Errorf("%s %s declares no role", what, route)
			return
		}
		if min != "" && !role.AtLeast(min) {
			out = append(out, what+" "+method+" "+path+" (needs "+string(min)+")")
		}
	}
	for _, tag := range formTagRE.FindAllString(body, -1) {
		method, action := http.MethodGet, ""
		for _, a := range attrRE.FindAllStringSubmatch(tag, -1) {
			switch strings.ToLower(a[1]) {
			case "method":
				method = strings.ToUpper(a[2])
			case "action":
				action = a[2]
			}
		}
		if action == "" {
			t.Errorf("a form without an action posts to its own page: %s", tag)
			continue
		}
		check(method, action, "form")
	}
	for _, m := range adminHref.FindAllStringSubmatch(body, -1) {
		check(http.MethodGet, m[1], "link")
	}
	return out
}

// TestScreensShowOnlyWhatTheRoleMayUse: a viewer's and an operator's
// admin pages hold no form, and no link, to a route their role would be
// refused (forms and links parsed from the HTML, checked against the
// roles web/routes.go declares); an admin's do hold the forms.
func TestScreensShowOnlyWhatTheRoleMayUse(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		ctx := context.Background()
		admin := s.SetUp(t)
		me, err := s.Store.UserByEmail(ctx, webtest.AdminEmail)
		modelstest.Fatal(t, err, "admin")
		seed := seedEverything(t, s, me.ID)
		// A disabled channel shows its notice, with "Re-enable", on the
		// dashboard and its page.
		chID, _ := strconv.ParseInt(seed.ids["channels"], 10, 64)
		modelstest.Fatal(t, s.Store.SetChannelEnabled(ctx, chID, false), "disable channel")
		pages := []string{"/admin", "/admin/incidents", "/admin/incidents/:id", "/admin/maintenance", "/admin/components",
			"/admin/channels", "/admin/channels/:id", "/admin/channels/:id/deliveries/:did", "/admin/settings", "/admin/audit"}
		for _, role := range []models.Role{models.RoleViewer, models.RoleOperator} {
			_, c := s.AddUser(t, string(role)+"@example.com", role)
			for _, p := range pages {
				path := seed.path(p)
				res := c.Get(path)
				if res.Status != http.StatusOK {
					t.Fatalf("%s GET %s: %d", role, path, res.Status)
				}
				for _, bad := range refusedTargets(t, s, role, res.Body) {
					t.Errorf("%s on %s is shown a %s", role, path, bad)
				}
				if !strings.Contains(res.Body, `action="/logout"`) {
					t.Errorf("%s on %s: no sign-out form", role, path)
				}
			}
		}
		// The admin's pages do offer them: the test above is not passing
		// on pages that show nothing.
		for path, want := range map[string]string{
			"/admin":                          `/enable"`,
			seed.path("/admin/incidents/:id"): `/resolve"`,
			seed.path("/admin/channels/:id"):  `/test#test"`,
			"/admin/components":               `/status"`,
			"/admin/settings":                 `action="/admin/settings"`,
		} {
			if res := admin.Get(path); !strings.Contains(res.Body, want) {
				t.Errorf("admin on %s: no %s", path, want)
			}
		}
		for _, nav := range []string{`href="/admin/users"`, `href="/admin/tokens"`} {
			if res := admin.Get("/admin"); !strings.Contains(res.Body, nav) {
				t.Errorf("admin navigation lacks %s", nav)
			}
		}
	})
}
