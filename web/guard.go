package web

import (
	"net/http"

	"github.com/heraldstatus/herald/models"
	"github.com/labstack/echo/v4"
)

// routeAccess is who may use each admin screen and API endpoint, keyed by
// "METHOD /full/path": the least role, or public (no sign-in needed).
// TestEveryRouteDeclaresItsRole walks the router against it.
type routeAccess struct {
	Roles  map[string]models.Role
	Public map[string]bool
}

// screenGroup registers admin screens, each with the least role that may
// use it.
type screenGroup struct {
	g      *echo.Group
	prefix string
	access *routeAccess
	check  func(models.Role) echo.MiddlewareFunc
}

func guard(g *echo.Group, prefix string, access *routeAccess, check func(models.Role) echo.MiddlewareFunc) screenGroup {
	return screenGroup{g: g, prefix: prefix, access: access, check: check}
}

func (s screenGroup) add(method, path string, min models.Role, h echo.HandlerFunc) {
	s.access.Roles[method+" "+s.prefix+path] = min
	s.g.Add(method, path, h, s.check(min))
}

// GET registers a screen readable by min and above.
func (s screenGroup) GET(path string, min models.Role, h echo.HandlerFunc) {
	s.add(http.MethodGet, path, min, h)
}

// POST registers a form action usable by min and above.
func (s screenGroup) POST(path string, min models.Role, h echo.HandlerFunc) {
	s.add(http.MethodPost, path, min, h)
}

// apiGroup registers API endpoints, each with the least role of the
// token's owner and the scope the token needs.
type apiGroup struct {
	g      *echo.Group
	prefix string
	access *routeAccess
	allow  func(models.Role, models.Scope) echo.MiddlewareFunc
}

func guardAPI(g *echo.Group, prefix string, access *routeAccess, allow func(models.Role, models.Scope) echo.MiddlewareFunc) apiGroup {
	return apiGroup{g: g, prefix: prefix, access: access, allow: allow}
}

func (a apiGroup) add(method, path string, min models.Role, scope models.Scope, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	a.access.Roles[method+" "+a.prefix+path] = min
	a.g.Add(method, path, h, append([]echo.MiddlewareFunc{a.allow(min, scope)}, m...)...)
}

// GET registers an endpoint that reads.
func (a apiGroup) GET(path string, min models.Role, scope models.Scope, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	a.add(http.MethodGet, path, min, scope, h, m...)
}

// POST registers an endpoint that creates or acts.
func (a apiGroup) POST(path string, min models.Role, scope models.Scope, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	a.add(http.MethodPost, path, min, scope, h, m...)
}

// PATCH registers an endpoint that changes.
func (a apiGroup) PATCH(path string, min models.Role, scope models.Scope, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	a.add(http.MethodPatch, path, min, scope, h, m...)
}

// DELETE registers an endpoint that removes.
func (a apiGroup) DELETE(path string, min models.Role, scope models.Scope, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	a.add(http.MethodDelete, path, min, scope, h, m...)
}

// Public registers an endpoint that needs no token.
func (a apiGroup) Public(method, path string, h echo.HandlerFunc) {
	a.access.Public[method+" "+a.prefix+path] = true
	a.g.Add(method, path, h)
}

// PublicAny registers a public catch-all for every method.
func (a apiGroup) PublicAny(path string, h echo.HandlerFunc) {
	for _, r := range a.g.Any(path, h) {
		a.access.Public[r.Method+" "+r.Path] = true
	}
}

// RouteRole is the least role route ("METHOD /path" as registered) needs,
// and whether the route is declared at all; public routes have role "".
func (s *Server) RouteRole(route string) (role models.Role, declared bool) {
	if s.access.Public[route] {
		return "", true
	}
	role, declared = s.access.Roles[route]
	return role, declared
}
