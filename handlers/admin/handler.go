package admin

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/sso"
	"github.com/heraldstatus/herald/views/layout"
	"github.com/labstack/echo/v4"
)

// Handler serves the admin's screens.
type Handler struct {
	*serve.Base
	limiter *loginLimiter
	// SSO is the OpenID Connect client; nil when single sign-on is off.
	SSO *sso.Client
	// Mail says whether e-mail (SMTP) is configured, so visitors can
	// subscribe.
	Mail bool
	// EmailLinks says whether private pages send sign-in links by e-mail
	// (with Mail): the Access settings then offer e-mail domains.
	EmailLinks bool
}

// New builds a Handler on base.
func New(base *serve.Base) *Handler {
	return &Handler{Base: base, limiter: newLoginLimiter(base.Now)}
}

// adminChrome is the layout data of signed-in screens.
func (h *Handler) adminChrome(c echo.Context, title, nav string) (layout.Chrome, error) {
	ch, err := h.FormChrome(c, title)
	if err != nil {
		return ch, err
	}
	ch.Nav = nav
	u := serve.CurrentUser(c)
	if u != nil {
		ch.UserEmail = u.Email
		ch.Allowed = h.AllowedRoutes(u.Role)
		if !u.AllPages {
			for route := range ch.Allowed {
				if _, path, _ := strings.Cut(route, " "); installWideRoute(path) {
					delete(ch.Allowed, route)
				}
			}
		}
	}
	page, err := h.managedPage(c)
	if err != nil {
		return ch, err
	}
	ch.SiteName = page.Name
	ch.PageID = page.ID
	ch.PageURL = PageAddress(page)
	pages, err := h.userPages(c)
	if err != nil {
		return ch, err
	}
	for _, p := range pages {
		ch.Pages = append(ch.Pages, layout.PageChoice{ID: p.ID, Name: p.Name, Slug: p.Slug})
	}
	return ch, nil
}

// managedPageKey holds, in the echo context, the page managedPage loaded.
const managedPageKey = "herald.managedPage"

// errNoPages is managedPage's answer for a user limited to pages that
// no longer exist: they see a friendly page, not a 500.
var errNoPages = errors.New("the user may see no status page")

// userAccess is the pages the signed-in user may see, as RequireUser
// loaded them on this request (every page for no user: the sign-in
// screens).
func userAccess(c echo.Context) models.PageSet {
	if u := serve.CurrentUser(c); u != nil {
		return u.Access()
	}
	return models.AllPagesAccess()
}

// userPages lists the pages the signed-in user may see, the first first.
func (h *Handler) userPages(c echo.Context) ([]models.Page, error) {
	return h.Store.PagesFor(c.Request().Context(), userAccess(c))
}

// managedPage is the status page the admin manages, read once per
// request: the one the session chose with the page switcher, else (none
// chosen, it was deleted since, or the user may no longer see it) the
// first page the user may see; errNoPages when they may see none. Its
// image hosts become the answer's Content-Security-Policy, so the
// messages admin screens show load the images the public page shows.
func (h *Handler) managedPage(c echo.Context) (*models.Page, error) {
	if p, ok := c.Get(managedPageKey).(*models.Page); ok {
		return p, nil
	}
	ctx := c.Request().Context()
	access := userAccess(c)
	var p *models.Page
	if id := h.SessionPageID(c); id != 0 && access.MaySee(id) {
		var err error
		if p, err = h.Store.Page(ctx, id); err != nil && !errors.Is(err, models.ErrNotFound) {
			return nil, err
		}
	}
	if p == nil {
		pages, err := h.Store.PagesFor(ctx, access)
		if err != nil {
			return nil, err
		}
		if len(pages) == 0 {
			return nil, errNoPages
		}
		p = &pages[0]
	}
	c.Set(managedPageKey, p)
	serve.SetPagePolicy(c, p, false)
	return p, nil
}

// pageObjectOfRoute names the kind of page object (one of
// models.PageObjectKinds) and the parameter holding its id of an admin
// route: "/admin/incidents/:id/edit" names an incident by "id".
func pageObjectOfRoute(path string) (kind, param string, ok bool) {
	rest, found := strings.CutPrefix(path, "/admin/")
	if !found {
		return "", "", false
	}
	kind, tail, _ := strings.Cut(rest, "/")
	if tail != ":id" && !strings.HasPrefix(tail, ":id/") {
		return "", "", false
	}
	for _, k := range models.PageObjectKinds() {
		if k == kind {
			return kind, "id", true
		}
	}
	return "", "", false
}

// RequireManagedPage answers 404 to a route naming, by its id, an
// object (component, group, incident, maintenance, channel, subscriber)
// that is not on the page being managed: each page's screens reach only
// its own objects. It runs after RequireUser.
//
// A user limited to some pages reaches only those pages' objects (the
// managed page is always one of them), and never the install-wide
// screens (installWideRoute): 403. A limited user whose pages were all
// deleted gets a page saying so.
func (h *Handler) RequireManagedPage(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if u := serve.CurrentUser(c); u != nil && !u.AllPages && installWideRoute(c.Path()) {
			return h.RenderError(c, http.StatusForbidden, "For admins of every page",
				"Your account is limited to some status pages. Users, pages and sign-in settings belong to the whole install: an admin who may see every page manages them.")
		}
		page, err := h.managedPage(c) // every screen's, loaded once here
		if errors.Is(err, errNoPages) {
			return h.RenderError(c, http.StatusForbidden, "No status pages",
				"Your account may see no status page: the pages it was limited to were deleted. Ask an admin to give you a page.")
		}
		if err != nil {
			return err
		}
		kind, param, ok := pageObjectOfRoute(c.Path())
		if !ok {
			return next(c)
		}
		id, err := strconv.ParseInt(c.Param(param), 10, 64)
		if err != nil || id <= 0 {
			return echo.NewHTTPError(http.StatusNotFound)
		}
		if err := h.Store.ObjectOnPage(c.Request().Context(), kind, id, page.ID); err != nil {
			return err
		}
		return next(c)
	}
}

// installWideRoute says whether an admin route manages the whole
// install rather than one page: users and invitations, the list of
// pages, the sign-in settings. Only users who may see every page use
// them; the page switcher (POST /admin/pages/current) is everyone's.
func installWideRoute(path string) bool {
	switch {
	case path == "/admin/pages/current":
		return false
	case path == "/admin/pages", strings.HasPrefix(path, "/admin/pages/"),
		path == "/admin/users", strings.HasPrefix(path, "/admin/users/"),
		strings.HasPrefix(path, "/admin/invitations/"),
		path == "/admin/settings/sign-in":
		return true
	}
	return false
}

// pageID is the id of the page being managed, which RequireManagedPage
// loaded before the handler ran.
func pageID(c echo.Context) int64 {
	if p, ok := c.Get(managedPageKey).(*models.Page); ok {
		return p.ID
	}
	return models.DefaultPageID // not behind RequireManagedPage: the sign-in screens
}
