// Package web assembles Herald's HTTP server: routes, middleware, the cookie
// store and the error handler.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/sessions"
	"github.com/heraldstatus/herald/handlers/admin"
	"github.com/heraldstatus/herald/handlers/api"
	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/handlers/site"
	"github.com/heraldstatus/herald/markdown"
	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/notify"
	"github.com/heraldstatus/herald/public"
	"github.com/heraldstatus/herald/sso"
	"github.com/heraldstatus/herald/static"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// Deps are the parts the server is built from.
type Deps struct {
	Config Config
	Store  *models.Store
	Logger *slog.Logger
	Now    func() time.Time
	// Notifier is the running delivery engine, for test sends; nil
	// disables them.
	Notifier *notify.Engine
}

// Server is Herald's HTTP handler and the background work it owns.
type Server struct {
	*echo.Echo
	// Public keeps the public snapshot fresh; run it beside the server.
	Public *public.Manager
	// access is who may use each admin and API route.
	access *routeAccess
}

// New builds the Echo server with every route.
func New(d Deps) (*Server, error) {
	assets, err := static.New()
	if err != nil {
		return nil, err
	}
	cookies := sessions.NewCookieStore(
		DeriveKey(d.Config.SecretKey, "cookie-auth"),
		DeriveKey(d.Config.SecretKey, "cookie-encrypt"),
	)
	base := serve.New(serve.Options{
		Store:          d.Store,
		Cookies:        cookies,
		Assets:         assets,
		Logger:         d.Logger,
		SessionTTL:     d.Config.SessionTTL,
		SecureCookies:  d.Config.SecureCookies(),
		Now:            d.Now,
		Markdown:       markdown.New(),
		Notifier:       d.Notifier,
		Egress:         d.Config.Egress(),
		RotationWindow: d.Config.RotationWindow,
	})
	adminHandler := admin.New(base)
	adminHandler.Mail = d.Config.SMTP() != nil
	if sc := d.Config.SSO(); sc.Enabled() {
		adminHandler.SSO = sso.New(sc, d.Logger)
		// Discover the provider now, within its timeout; if it is down,
		// Herald starts anyway and tries again at the next SSO sign-in.
		adminHandler.SSO.Discover(context.Background())
	}
	// Private pages offer e-mailed sign-in links when e-mail is set up.
	adminHandler.EmailLinks = d.Config.SMTP() != nil
	apiHandler := api.New(base)
	apiHandler.EmailLinks = d.Config.SMTP() != nil
	siteHandler := site.New(site.Options{
		Base:           base,
		PublicMaxAge:   d.Config.PublicMaxAge,
		RequestTimeout: requestTimeout(d.Config),
		Mail:           d.Config.SMTP() != nil,
		AccessKey:      DeriveKey(d.Config.SecretKey, "page-access-cookie"),
		SMTP:           d.Config.SMTP(),
		MailTimeout:    d.Config.WebhookTimeout,
	})

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.IPExtractor = ipExtractor(d.Config.TrustedProxies)
	e.HTTPErrorHandler = errorHandler(base, d.Logger)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true}))
	// Outside the request logger, which turns errors into responses, so
	// the metrics see the status the client got.
	m := newMetrics(d.Store, d.Notifier, siteHandler.Public(), d.Config.MetricsToken)
	e.Use(m.middleware)
	e.Use(requestLogger(d.Logger))
	// The subscriber import takes a CSV file of up to 5 MiB (and its
	// confirmation carries it back, base64): its own, larger limit; the
	// handler says "larger than 5 MiB" itself below it.
	isImport := func(c echo.Context) bool { return c.Request().URL.Path == admin.SubscriberImportPath }
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: bodyLimit(d.Config.MaxBodyBytes), Skipper: isImport}))
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: bodyLimit(admin.MaxSubscriberImportBody),
		Skipper: func(c echo.Context) bool { return !isImport(c) }}))
	// A test send also waits on the receiver, up to the webhook timeout.
	e.Use(requestDeadline(requestTimeout(d.Config), map[string]time.Duration{
		"/admin/channels/:id/test":  d.Config.WebhookTimeout,
		"/api/v1/channels/:id/test": d.Config.WebhookTimeout,
		// A 5 MiB import (200,000 addresses) and a large export take
		// seconds; both stay within the server's 60 s write timeout.
		admin.SubscriberImportPath: 30 * time.Second,
		"/admin/subscribers.csv":   45 * time.Second,
	}))
	e.Use(securityHeaders)
	access := registerRoutes(e, siteHandler, adminHandler, apiHandler, health{store: d.Store, logger: d.Logger}, assets, m)
	base.SetRouteRoles(access.Roles)
	return &Server{Echo: e, Public: siteHandler.Public(), access: access}, nil
}

// ipExtractor is how c.RealIP finds the client's address, which rate
// limits, the audit log and private pages' IP allowlists use. Without
// trusted proxies it is the TCP peer: a client must not pick the address
// the limits count against. With them, X-Forwarded-For is read from
// right to left, past the trusted proxies only: the first address not in
// their ranges is the client. Loopback and private ranges are trusted
// only when listed.
func ipExtractor(proxies []netip.Prefix) echo.IPExtractor {
	if len(proxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range proxies {
		opts = append(opts, echo.TrustIPRange(&net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

func bodyLimit(n int64) string {
	if n <= 0 {
		n = 1 << 20
	}
	return strconv.FormatInt(n, 10) + "B"
}

// requestTimeout is the configured request deadline, or the default.
func requestTimeout(cfg Config) time.Duration {
	if cfg.RequestTimeout <= 0 {
		return 10 * time.Second
	}
	return cfg.RequestTimeout
}

// requestDeadline bounds how long a request may wait on the database:
// every database call takes the request's context, so past the deadline
// they fail, a connection that stalls is abandoned, and the error handler
// answers 503. Routes in extra also wait on something else and get that
// much longer.
func requestDeadline(limit time.Duration, extra map[string]time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			ctx, cancel := context.WithTimeout(req.Context(), limit+extra[c.Path()])
			defer cancel()
			c.SetRequest(req.WithContext(ctx))
			// The error handler runs after this returns: give it back the
			// client's own context, which tells whether the client left.
			defer c.SetRequest(req)
			err := next(c)
			if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && !models.IsUnavailable(err) {
				// Whatever failed, it failed because the time ran out.
				err = fmt.Errorf("%w: %w", models.ErrUnavailable, err)
			}
			return err
		}
	}
}

// securityHeaders keeps pages from being framed or sniffed.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		hd := c.Response().Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		// Herald's own images only; pages that show a page's logo or
		// messages widen img-src to that page's hosts (serve.SetPagePolicy).
		hd.Set("Content-Security-Policy", serve.ContentSecurityPolicy())
		return next(c)
	}
}

// logPath is the request's path as logs show it. A path that carries a
// link token (subscription, invitation) is logged as its route,
// "/subscriptions/:token": whoever reads the logs could otherwise open
// a subscriber's preferences or take an invitation.
func logPath(c echo.Context) string {
	if route := c.Path(); strings.Contains(route, ":token") {
		return route
	}
	return c.Request().URL.Path
}

// requestLogger writes one slog line per request.
func requestLogger(logger *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus:    true,
		LogURIPath:   true,
		LogMethod:    true,
		LogLatency:   true,
		LogRemoteIP:  true,
		LogError:     true,
		HandleError:  true,
		LogUserAgent: false,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			attrs := []slog.Attr{
				slog.String("method", v.Method),
				slog.String("path", logPath(c)),
				slog.Int("status", v.Status),
				slog.Duration("duration", v.Latency),
				slog.String("ip", v.RemoteIP),
			}
			level := slog.LevelInfo
			if v.Error != nil && v.Status >= 500 {
				level = slog.LevelError
				attrs = append(attrs, slog.String("error", v.Error.Error()))
			}
			logger.LogAttrs(c.Request().Context(), level, "request", attrs...)
			return nil
		},
	})
}

// errorHandler turns errors into friendly pages: not found → 404, a
// database that does not answer → 503, HTTP errors keep their code and
// message, anything else is a logged 500.
func errorHandler(base *serve.Base, logger *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		code := http.StatusInternalServerError
		heading := "Something went wrong"
		msg := "Herald could not finish this request. The details are in the server log; try again in a moment."
		var he *echo.HTTPError
		switch {
		case errors.Is(err, models.ErrNotFound):
			code, heading, msg = http.StatusNotFound, "Not found", "That page does not exist, or what it showed has been deleted."
		case models.IsUnavailable(err):
			// An outage, not a bug: the client may retry, and nothing of
			// the request was kept (each change is one transaction).
			code, heading, msg = http.StatusServiceUnavailable, "Database unavailable", serve.UnavailableMessage
			c.Response().Header().Set("Retry-After", "60")
			logger.Warn("database unavailable", "method", c.Request().Method, "path", logPath(c), "error", err)
		case errors.Is(err, context.Canceled) && c.Request().Context().Err() != nil:
			// The client went away; nobody reads this answer.
			code, heading, msg = http.StatusServiceUnavailable, "Request cancelled", "The request was cancelled before it finished."
		case errors.As(err, &he):
			code = he.Code
			heading = http.StatusText(code)
			msg = friendlyMessage(he)
		default:
			logger.Error("request failed", "method", c.Request().Method, "path", logPath(c), "error", err)
		}
		if code == http.StatusTooManyRequests {
			heading = "Slow down"
		}
		if c.Request().Method == http.MethodHead {
			c.NoContent(code)
			return
		}
		if err := base.RenderError(c, code, heading, msg); err != nil {
			logger.Error("render error page", "error", err)
		}
	}
}

func friendlyMessage(he *echo.HTTPError) string {
	switch he.Code {
	case http.StatusRequestEntityTooLarge:
		return "What you sent is larger than Herald accepts. Shorten it and try again."
	case http.StatusNotFound:
		return "That page does not exist, or what it showed has been deleted."
	case http.StatusMethodNotAllowed:
		return "That address does not accept this kind of request."
	}
	if s, ok := he.Message.(string); ok && s != "" && he.Code < 500 {
		return s
	}
	return http.StatusText(he.Code)
}
