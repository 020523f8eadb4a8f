package serve

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/a-h/templ"
	"github.com/gorilla/sessions"
	"github.com/heraldstatus/herald/markdown"
	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/notify"
	"github.com/heraldstatus/herald/static"
	"github.com/heraldstatus/herald/views/layout"
	"github.com/labstack/echo/v4"
)

// Options configure a Base.
type Options struct {
	Store      *models.Store
	Cookies    sessions.Store
	Assets     *static.Assets
	Logger     *slog.Logger
	SessionTTL time.Duration
	// SecureCookies marks cookies Secure (Herald is served over HTTPS).
	SecureCookies bool
	Now           func() time.Time
	// Markdown renders and sanitises admin-written Markdown; nil builds
	// one.
	Markdown *markdown.Renderer
	// Notifier sends test notifications; nil disables test sends.
	Notifier *notify.Engine
	// Egress is the delivery egress policy, for warnings when a channel's
	// URL is saved.
	Egress notify.Policy
	// RotationWindow is how long a rotated-out signing secret keeps
	// signing; 0 means models.DefaultRotationWindow.
	RotationWindow time.Duration
}

// Base is what the handlers of every audience stand on: the store, the
// cookie session, the assets, the Markdown renderer, and the delivery
// engine's settings the admin and the API manage channels with. Each
// audience's Handler embeds one; web builds it once and hands it to all
// of them.
type Base struct {
	Store    *models.Store
	Assets   *static.Assets
	Logger   *slog.Logger
	Now      func() time.Time
	Markdown *markdown.Renderer
	Notifier *notify.Engine
	Egress   notify.Policy
	// Rotation is how long a rotated-out signing secret keeps signing.
	Rotation time.Duration

	cookies    sessions.Store
	sessionTTL time.Duration
	secure     bool
	// routeRoles is the least role of every admin route, as web
	// registered them ("POST /admin/incidents").
	routeRoles map[string]models.Role
}

// SetRouteRoles tells the handlers the least role of every admin route
// ("METHOD /path" as registered), once web has registered them, so
// screens can leave out what the signed-in user may not use.
func (b *Base) SetRouteRoles(roles map[string]models.Role) { b.routeRoles = roles }

// AllowedRoutes lists the routes role may use, for layout.Chrome.
func (b *Base) AllowedRoutes(role models.Role) map[string]bool {
	out := make(map[string]bool, len(b.routeRoles))
	for route, min := range b.routeRoles {
		if role.AtLeast(min) {
			out[route] = true
		}
	}
	return out
}

// SecureCookies reports whether cookies are marked Secure (Herald is
// served over HTTPS).
func (b *Base) SecureCookies() bool { return b.secure }

// New builds a Base.
func New(o Options) *Base {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	md := o.Markdown
	if md == nil {
		md = markdown.New()
	}
	ttl := o.SessionTTL
	if ttl == 0 {
		ttl = 7 * 24 * time.Hour
	}
	rotation := o.RotationWindow
	if rotation == 0 {
		rotation = models.DefaultRotationWindow
	}
	return &Base{
		Store:      o.Store,
		Assets:     o.Assets,
		Logger:     o.Logger,
		Now:        now,
		Markdown:   md,
		Notifier:   o.Notifier,
		Egress:     o.Egress,
		Rotation:   rotation,
		cookies:    o.Cookies,
		sessionTTL: ttl,
		secure:     o.SecureCookies,
	}
}

// Render writes comp into a buffer first, so a failed render is a clean 500
// instead of half a page.
func Render(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return fmt.Errorf("render %s: %w", c.Path(), err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// ErrorChrome is the layout data for error pages rendered by the server's
// error handler.
func (b *Base) ErrorChrome(title string) layout.Chrome {
	return layout.Chrome{Title: title + " · Herald", CSS: b.Assets.URL("css/herald.css")}
}

// SeeOther redirects after a successful POST.
func SeeOther(c echo.Context, path string) error {
	return c.Redirect(http.StatusSeeOther, path)
}
