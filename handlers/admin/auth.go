package admin

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/labstack/echo/v4"
)

// showSetup renders the first-run form while no admin exists.
func (h *Handler) ShowSetup(c echo.Context) error {
	if done, err := h.Store.HasUsers(c.Request().Context()); err != nil || done {
		return h.setupGone(c, err)
	}
	return h.renderSetup(c, http.StatusOK, views.SetupView{})
}

func (h *Handler) setupGone(c echo.Context, err error) error {
	if err != nil {
		return err
	}
	return serve.ErrNotFound
}

func (h *Handler) renderSetup(c echo.Context, status int, v views.SetupView) error {
	ch, err := h.FormChrome(c, "Set up")
	if err != nil {
		return err
	}
	v.Chrome = ch
	return serve.Render(c, status, views.SetupPage(v))
}

// CompleteSetup creates the first admin and signs them in.
func (h *Handler) CompleteSetup(c echo.Context) error {
	// The store audits setup as the admin it creates; only the IP comes
	// from here.
	ctx := models.WithActor(c.Request().Context(), models.Actor{Type: models.ActorUser, IP: c.RealIP()})
	in := models.SetupInput{
		PageName: c.FormValue("page_name"),
		Email:    c.FormValue("email"),
		Password: c.FormValue("password"),
	}
	u, err := h.Store.CompleteSetup(ctx, in)
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		return h.renderSetup(c, http.StatusUnprocessableEntity, views.SetupView{PageName: in.PageName, Email: in.Email, Errors: ve.Fields})
	case errors.Is(err, models.ErrSetupDone):
		return serve.ErrNotFound
	case err != nil:
		return err
	}
	h.Logger.Info("first admin created", "user_id", u.ID)
	if err := h.StartSession(c, u); err != nil {
		return err
	}
	return h.RedirectWithFlash(c, "/admin/components", "success", "Welcome to Herald. Add the components of your service to start your status page.")
}

// ShowLogin renders the sign-in form.
func (h *Handler) ShowLogin(c echo.Context) error {
	if done, err := h.Store.HasUsers(c.Request().Context()); err != nil {
		return err
	} else if !done {
		return serve.SeeOther(c, "/setup")
	}
	return h.renderLogin(c, http.StatusOK, views.LoginView{Next: c.QueryParam("next")})
}

func (h *Handler) renderLogin(c echo.Context, status int, v views.LoginView) error {
	ch, err := h.FormChrome(c, "Sign in")
	if err != nil {
		return err
	}
	page, err := h.Store.Page(c.Request().Context(), models.DefaultPageID)
	if err != nil {
		return err
	}
	ch.SiteName = page.Name
	v.Chrome = ch
	if err := h.loginSSO(c, &v); err != nil {
		return err
	}
	return serve.Render(c, status, views.LoginPage(v))
}

// Login checks the credentials, within the rate limits.
func (h *Handler) Login(c echo.Context) error {
	if on, err := h.passwordSignIn(c); err != nil {
		return err
	} else if !on {
		return echo.NewHTTPError(http.StatusForbidden, passwordSignInOff)
	}
	email := models.NormalizeEmail(c.FormValue("email"))
	password := c.FormValue("password")
	next := c.FormValue("next")
	ip := c.RealIP()
	blocked, wait, delay := h.limiter.check(ip, email)
	if blocked {
		minutes := int(math.Ceil(wait.Minutes()))
		c.Response().Header().Set("Retry-After", fmt.Sprint(int(math.Ceil(wait.Seconds()))))
		h.Logger.Warn("login rate limited", "ip", ip)
		return echo.NewHTTPError(http.StatusTooManyRequests,
			fmt.Sprintf("Too many sign-in attempts. For your account's safety, wait %d minute(s) and try again.", minutes))
	}
	if delay > 0 {
		// The account is under attack from elsewhere: slow every attempt
		// on it down, but let the right password in.
		// Half the request's remaining time at most, so the answer is
		// never the deadline's 503.
		if dl, ok := c.Request().Context().Deadline(); ok && delay > time.Until(dl)/2 {
			delay = time.Until(dl) / 2
		}
		h.Logger.Warn("login slowed down", "ip", ip, "delay", delay)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-c.Request().Context().Done():
			t.Stop()
			return c.Request().Context().Err()
		}
	}
	u, err := h.Store.Authenticate(c.Request().Context(), email, password)
	if errors.Is(err, models.ErrBadCredentials) {
		h.limiter.fail(ip, email)
		actx := models.WithActor(c.Request().Context(), models.Actor{Type: models.ActorUser, IP: ip})
		if err := h.Store.AuditSignInFailed(actx, c.FormValue("email"), models.SignInBadPassword); err != nil {
			return err
		}
		return h.renderLogin(c, http.StatusUnauthorized, views.LoginView{Email: email, Next: next,
			Error: "That e-mail and password do not match an admin account."})
	}
	if err != nil {
		return err
	}
	if u.TwoFactor() {
		// The password's failures stay counted until the code passes too.
		return h.holdSignIn(c, u, next)
	}
	h.limiter.succeed(ip, email)
	if err := h.StartSession(c, u); err != nil {
		return err
	}
	return serve.SeeOther(c, safeNext(next))
}

// Logout ends the session on the server and clears the cookie.
func (h *Handler) Logout(c echo.Context) error {
	if err := h.EndSession(c); err != nil {
		return err
	}
	h.Flash(c, "success", "You are signed out.")
	h.SaveSessionAfterChange(c)
	return serve.SeeOther(c, "/login")
}

// safeNext keeps post-login redirects on Herald: a path on this host
// (the admin, or a private status page the team may read), never another
// site; "/admin" otherwise.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") ||
		strings.IndexFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 || len(next) > 2000 {
		return "/admin"
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/admin"
	}
	return next
}
