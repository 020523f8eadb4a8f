package admin

import (
	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/views/layout"
	"github.com/labstack/echo/v4"
)

// Handler serves the admin's screens.
type Handler struct {
	*serve.Base
	limiter *loginLimiter
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
	page, err := h.Store.Page(c.Request().Context(), models.DefaultPageID)
	if err != nil {
		return ch, err
	}
	ch.SiteName = page.Name
	return ch, nil
}
