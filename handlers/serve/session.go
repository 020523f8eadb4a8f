package serve

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
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

// Session returns the browser's cookie session; a broken or forged cookie
// yields a fresh, empty session.
func (b *Base) Session(c echo.Context) *sessions.Session {
	if s, ok := c.Get("herald.session").(*sessions.Session); ok {
		return s
	}
	s, err := b.cookies.Get(c.Request(), sessionName)
	if err != nil {
		s, _ = b.cookies.New(c.Request(), sessionName)
	}
	s.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   int(b.sessionTTL.Seconds()),
		HttpOnly: true,
		Secure:   b.secure,
		SameSite: http.SameSiteLaxMode,
	}
	c.Set("herald.session", s)
	return s
}

// HasSessionCookie reports whether the request carries a session cookie,
// valid or not, without reading it.
func HasSessionCookie(c echo.Context) bool {
	_, err := c.Cookie(sessionName)
	return err == nil
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
func (b *Base) VerifyCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		want, _ := b.Session(c).Values[keyCSRF].(string)
		got := c.FormValue(csrfField)
		if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
			return ErrCSRF
		}
		return next(c)
	}
}

// RequireUser lets only signed-in team members through, whatever their
// role; others are sent to the login page, and back here afterwards.
// RequireRole then checks each route's role.
func (b *Base) RequireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sid, _ := b.Session(c).Values[keySID].(string)
		if sid != "" {
			u, err := b.Store.SessionUser(c.Request().Context(), sid)
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
		return SeeOther(c, target)
	}
}

// RequireRole refuses, with 403 and an audit entry, a signed-in user whose
// role lacks the powers of min. It runs after RequireUser (and, for
// forms, after the CSRF check), before the handler: nothing is written.
func (b *Base) RequireRole(min models.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u := CurrentUser(c)
			if u != nil && u.Can(min) {
				return next(c)
			}
			req := c.Request()
			role := models.Role("")
			if u != nil {
				role = u.Role
			}
			if err := b.Store.AuditDenied(req.Context(), req.Method, echo.GetPath(req), role, min); err != nil {
				b.Logger.Error("audit refused request", "err", err)
			}
			return echo.NewHTTPError(http.StatusForbidden, fmt.Sprintf(
				"Your role, %s, cannot do this: it needs %s. Ask an admin if you need it.",
				strings.ToLower(role.Label()), strings.ToLower(min.Label())))
		}
	}
}

// SessionID is the id of the browser's server-side session ("" when
// signed out), for screens that tell it from the user's other sessions.
func (b *Base) SessionID(c echo.Context) string {
	sid, _ := b.Session(c).Values[keySID].(string)
	return sid
}

// CurrentUser is the team member RequireUser let through, or nil.
func CurrentUser(c echo.Context) *models.User {
	u, _ := c.Get(ctxUser).(*models.User)
	return u
}

// StartSession signs u in: a new server-side session, and a new CSRF
// token for the browser's cookie.
func (b *Base) StartSession(c echo.Context, u *models.User) error {
	sess, err := b.Store.CreateSession(c.Request().Context(), u.ID, b.sessionTTL,
		models.SessionOrigin{IP: c.RealIP(), UserAgent: c.Request().UserAgent()})
	if err != nil {
		return err
	}
	s := b.Session(c)
	s.Values[keySID] = sess.ID
	s.Values[keyCSRF] = randomToken() // a new token per sign-in
	return s.Save(c.Request(), c.Response())
}

// EndSession signs the browser out: the session ends on the server and
// leaves the cookie, which gets a new CSRF token. The caller saves the
// cookie.
func (b *Base) EndSession(c echo.Context) error {
	s := b.Session(c)
	if sid, _ := s.Values[keySID].(string); sid != "" {
		if err := b.Store.DeleteSession(c.Request().Context(), sid); err != nil {
			return err
		}
	}
	delete(s.Values, keySID)
	s.Values[keyCSRF] = randomToken()
	return nil
}

// FormChrome is the layout data of any page with a form: it carries the
// CSRF token and pending flash messages.
func (b *Base) FormChrome(c echo.Context, title string) (layout.Chrome, error) {
	sess := b.Session(c)
	token := csrfToken(sess)
	flashes := takeFlashes(sess)
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return layout.Chrome{}, fmt.Errorf("save session: %w", err)
	}
	return layout.Chrome{
		Title:   title + " · Herald",
		CSS:     b.Assets.URL("css/herald.css"),
		CSRF:    token,
		Flashes: flashes,
	}, nil
}

// Flash stores a message for the next page. The messages of this request
// replace any left by earlier ones that no page has shown (a client that
// does not follow redirects): the cookie holds the newest notice only,
// however many posts come before a page is viewed.
func (b *Base) Flash(c echo.Context, kind, text string) {
	sess := b.Session(c)
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

// RedirectWithFlash stores a message for the next page and redirects.
// It is called after a change has committed, so it never fails: a
// session that cannot be saved only loses the message.
func (b *Base) RedirectWithFlash(c echo.Context, path, kind, text string) error {
	b.Flash(c, kind, text)
	b.SaveSessionAfterChange(c)
	return SeeOther(c, path)
}

// SaveSessionAfterChange saves the session after a change that has
// committed. The change stands whatever happens to the cookie, so a
// failure is logged, not answered with a 5xx the client would take for a
// failed change.
func (b *Base) SaveSessionAfterChange(c echo.Context) {
	if err := b.Session(c).Save(c.Request(), c.Response()); err != nil {
		b.Logger.Error("save session after a change; the change is saved", "path", c.Request().URL.Path, "error", err)
	}
}

// keyPage holds, in the session, the id of the status page the admin
// manages (the page switcher's choice).
const keyPage = "page"

// SessionPageID is the page the browser's session manages; 0 when it
// never chose one.
func (b *Base) SessionPageID(c echo.Context) int64 {
	id, _ := b.Session(c).Values[keyPage].(int64)
	return id
}

// SetSessionPage remembers page id as the one the session manages; the
// caller saves the session.
func (b *Base) SetSessionPage(c echo.Context, id int64) {
	b.Session(c).Values[keyPage] = id
}

// SignedInUser is the team member whose session this browser holds, or
// nil, for pages outside the admin (a private status page open to its
// team). A user the install requires to set up two-factor sign-in, who
// has not, counts as signed out, as the admin would only show them that.
// It saves no cookie.
func (b *Base) SignedInUser(c echo.Context) (*models.User, error) {
	if !HasSessionCookie(c) {
		return nil, nil
	}
	sid, _ := b.Session(c).Values[keySID].(string)
	if sid == "" {
		return nil, nil
	}
	ctx := models.ReadOnly(c.Request().Context())
	u, err := b.Store.SessionUser(ctx, sid)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !u.TwoFactor() && u.PasswordHash != "" {
		required, err := b.Store.RequireTwoFactor(ctx)
		if err != nil {
			return nil, err
		}
		if required {
			return nil, nil
		}
	}
	return u, nil
}
