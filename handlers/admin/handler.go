package admin

import (
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
	if u := serve.CurrentUser(c); u != nil {
		ch.UserEmail = u.Email
		ch.Allowed = h.AllowedRoutes(u.Role)
	}
	page, err := h.managedPage(c)
	if err != nil {
		return ch, err
	}
	ch.SiteName = page.Name
	return ch, nil
}

// managedPageKey holds, in the echo context, the page managedPage loaded.
const managedPageKey = "herald.managedPage"

// managedPage is the status page the admin manages, read once per
// request. Its image hosts become the answer's Content-Security-Policy,
// so the messages admin screens show load the images the public page
// shows.
func (h *Handler) managedPage(c echo.Context) (*models.Page, error) {
	if p, ok := c.Get(managedPageKey).(*models.Page); ok {
		return p, nil
	}
	p, err := h.Store.Page(c.Request().Context(), models.DefaultPageID)
	if err != nil {
		return nil, err
	}
	c.Set(managedPageKey, p)
	serve.SetPagePolicy(c, p, false)
	return p, nil
}
