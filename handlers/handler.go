// Package handlers turns HTTP requests into calls on models and renders the
// answers with views. Handlers parse and validate, make one call, then
// render or redirect; they hold no SQL.
package handlers

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
	"github.com/heraldstatus/herald/public"
	"github.com/heraldstatus/herald/static"
	"github.com/heraldstatus/herald/views/layout"
	"github.com/labstack/echo/v4"
)

// Options configure a Handler.
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
	// Notifier sends test notifications; nil disables "Send test".
	Notifier *notify.Engine
	// Egress is the delivery egress policy, for warnings in forms.
	Egress notify.Policy
	// RotationWindow is how long a rotated-out signing secret keeps
	// signing; 0 means models.DefaultRotationWindow.
	RotationWindow time.Duration
	// PublicMaxAge is the Cache-Control max-age of public responses.
	PublicMaxAge time.Duration
	// RequestTimeout is the deadline of a request's database calls; the
	// public snapshot's rebuilds get the same.
	RequestTimeout time.Duration
}

// Handler serves Herald's pages.
type Handler struct {
	store      *models.Store
	cookies    sessions.Store
	assets     *static.Assets
	logger     *slog.Logger
	sessionTTL time.Duration
	secure     bool
	now        func() time.Time
	limiter    *loginLimiter
	markdown   *markdown.Renderer
	notifier   *notify.Engine
	egress     notify.Policy
	rotation   time.Duration
	public     *public.Manager
	// publicCacheControl is the Cache-Control of public responses.
	publicCacheControl string
}

// New builds a Handler.
func New(o Options) *Handler {
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
	h := &Handler{
		notifier:   o.Notifier,
		egress:     o.Egress,
		rotation:   rotation,
		store:      o.Store,
		cookies:    o.Cookies,
		assets:     o.Assets,
		logger:     o.Logger,
		sessionTTL: ttl,
		secure:     o.SecureCookies,
		now:        now,
		limiter:    newLoginLimiter(now),
		markdown:   md,
	}
	maxAge := o.PublicMaxAge
	if maxAge == 0 {
		maxAge = 10 * time.Second
	}
	h.publicCacheControl = fmt.Sprintf("public, max-age=%d", int(maxAge.Seconds()))
	h.public = public.NewManager(public.Options{Store: o.Store, PageID: models.DefaultPageID,
		Markdown: md, HTML: h.renderPublicPage, Logger: o.Logger, BuildTimeout: o.RequestTimeout})
	return h
}

// render writes comp into a buffer first, so a failed render is a clean 500
// instead of half a page.
func render(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return fmt.Errorf("render %s: %w", c.Path(), err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// publicChrome is the layout data of public pages: no session, no cookie.
func (h *Handler) publicChrome(title, siteName string) layout.Chrome {
	return layout.Chrome{
		Title:    title,
		SiteName: siteName,
		CSS:      h.assets.URL("css/herald.css"),
		Script:   h.assets.URL("js/localtime.js"),
	}
}

// adminChrome is the layout data of signed-in screens.
func (h *Handler) adminChrome(c echo.Context, title, nav string) (layout.Chrome, error) {
	ch, err := h.formChrome(c, title)
	if err != nil {
		return ch, err
	}
	ch.Nav = nav
	if u := currentUser(c); u != nil {
		ch.UserEmail = u.Email
	}
	page, err := h.store.Page(c.Request().Context(), models.DefaultPageID)
	if err != nil {
		return ch, err
	}
	ch.SiteName = page.Name
	return ch, nil
}

// formChrome is the layout data of any page with a form: it carries the
// CSRF token and pending flash messages.
func (h *Handler) formChrome(c echo.Context, title string) (layout.Chrome, error) {
	sess := h.session(c)
	token := csrfToken(sess)
	flashes := takeFlashes(sess)
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return layout.Chrome{}, fmt.Errorf("save session: %w", err)
	}
	return layout.Chrome{
		Title:   title + " · Herald",
		CSS:     h.assets.URL("css/herald.css"),
		CSRF:    token,
		Flashes: flashes,
	}, nil
}

// ErrorChrome is the layout data for error pages rendered by the server's
// error handler.
func (h *Handler) ErrorChrome(title string) layout.Chrome {
	return layout.Chrome{Title: title + " · Herald", CSS: h.assets.URL("css/herald.css")}
}

// seeOther redirects after a successful POST.
func seeOther(c echo.Context, path string) error {
	return c.Redirect(http.StatusSeeOther, path)
}
