package handlers

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/sessions"
	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/views/layout"
	"github.com/labstack/echo/v4"
)

const (
	sessionName = "herald_session"
	keySID      = "sid"
	keyCSRF     = "csrf"
	ctxUser     = "herald.user"
	ctxFlashed  = "herald.flashed"
	csrfField   = "_csrf"
)

// ErrCSRF is returned when a form arrives without the right token.
var ErrCSRF = echo.NewHTTPError(http.StatusForbidden, "This form has expired or did not come from Herald. Go back, reload the page and try again.")

// session returns the browser's cookie session; a broken or forged cookie
// yields a fresh, empty session.
func (h *Handler) session(c echo.Context) *sessions.Session {
	if s, ok := c.Get("herald.session").(*sessions.Session); ok {
		return s
	}
	s, err := h.cookies.Get(c.Request(), sessionName)
	if err != nil {
		s, _ = h.cookies.New(c.Request(), sessionName)
	}
	s.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   int(h.sessionTTL.Seconds()),
		HttpOnly: true,
		Secure:   h.secure,
		SameSite: http.SameSiteLaxMode,
	}
	c.Set("herald.session", s)
	return s
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func csrfToken(s *sessions.Session) string {
	if t, ok := s.Values[keyCSRF].(string); ok && t != "" {
		return t
	}
	t := randomToken()
	s.Values[keyCSRF] = t
	return t
}

// VerifyCSRF refuses state-changing requests whose form token does not match
// the session's.
func (h *Handler) VerifyCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		want, _ := h.session(c).Values[keyCSRF].(string)
		got := c.FormValue(csrfField)
		if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
			return ErrCSRF
		}
		return next(c)
	}
}

// RequireAdmin lets only signed-in admins through; others are sent to the
// login page, and back here afterwards.
func (h *Handler) RequireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sid, _ := h.session(c).Values[keySID].(string)
		if sid != "" {
			u, err := h.store.SessionUser(c.Request().Context(), sid)
			if err == nil {
				c.Set(ctxUser, u)
				// Changes made in this request are audited as this admin's.
				req := c.Request()
				c.SetRequest(req.WithContext(models.WithActor(req.Context(), models.UserActor(u.ID, u.Email, c.RealIP()))))
				c.Response().Header().Set("Cache-Control", "no-store")
				return next(c)
			}
			if !errors.Is(err, models.ErrNotFound) {
				return err
			}
		}
		target := "/login"
		if c.Request().Method == http.MethodGet {
			target += "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
		}
		return seeOther(c, target)
	}
}

func currentUser(c echo.Context) *models.User {
	u, _ := c.Get(ctxUser).(*models.User)
	return u
}

// safeNext keeps post-login redirects inside the admin.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/admin") && !strings.HasPrefix(next, "//") && !strings.Contains(next, "\\") {
		return next
	}
	return "/admin"
}

// flash stores a message for the next page. The messages of this request
// replace any left by earlier ones that no page has shown (a client that
// does not follow redirects): the cookie holds the newest notice only,
// however many posts come before a page is viewed.
func (h *Handler) flash(c echo.Context, kind, text string) {
	sess := h.session(c)
	if c.Get(ctxFlashed) == nil {
		sess.Flashes() // takes, and so drops, older messages
		c.Set(ctxFlashed, true)
	}
	sess.AddFlash(kind + "|" + text)
}

func takeFlashes(s *sessions.Session) []layout.Flash {
	var out []layout.Flash
	for _, f := range s.Flashes() {
		str, _ := f.(string)
		kind, text, ok := strings.Cut(str, "|")
		if !ok {
			continue
		}
		out = append(out, layout.Flash{Kind: kind, Text: text})
	}
	return out
}

// redirectWithFlash stores a message for the next page and redirects.
// It is called after a change has committed, so it never fails: a
// session that cannot be saved only loses the message.
func (h *Handler) redirectWithFlash(c echo.Context, path, kind, text string) error {
	h.flash(c, kind, text)
	h.saveSessionAfterChange(c)
	return seeOther(c, path)
}

// saveSessionAfterChange saves the session after a change that has
// committed. The change stands whatever happens to the cookie, so a
// failure is logged, not answered with a 5xx the client would take for a
// failed change.
func (h *Handler) saveSessionAfterChange(c echo.Context) {
	if err := h.session(c).Save(c.Request(), c.Response()); err != nil {
		h.logger.Error("save session after a change; the change is saved", "path", c.Request().URL.Path, "error", err)
	}
}
