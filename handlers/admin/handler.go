package admin

import (
	"time"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/notify"
	"github.com/heraldstatus/herald/views/layout"
	"github.com/labstack/echo/v4"
)

// Options configure a Handler.
type Options struct {
	// Base is the session, store and rendering every audience shares.
	Base *serve.Base
	// Notifier sends test notifications; nil disables "Send test".
	Notifier *notify.Engine
	// Egress is the delivery egress policy, for warnings in forms.
	Egress notify.Policy
	// RotationWindow is how long a rotated-out signing secret keeps
	// signing; 0 means models.DefaultRotationWindow.
	RotationWindow time.Duration
}

// Handler serves the admin's screens.
type Handler struct {
	*serve.Base
	limiter  *loginLimiter
	notifier *notify.Engine
	egress   notify.Policy
	rotation time.Duration
}

// New builds a Handler.
func New(o Options) *Handler {
	rotation := o.RotationWindow
	if rotation == 0 {
		rotation = models.DefaultRotationWindow
	}
	return &Handler{
		Base:     o.Base,
		limiter:  newLoginLimiter(o.Base.Now),
		notifier: o.Notifier,
		egress:   o.Egress,
		rotation: rotation,
	}
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
	}
	page, err := h.Store.Page(c.Request().Context(), models.DefaultPageID)
	if err != nil {
		return ch, err
	}
	ch.SiteName = page.Name
	return ch, nil
}
