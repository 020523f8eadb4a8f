package handlers

import (
	"errors"
	"fmt"
	"math"
	"net/http"

	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/labstack/echo/v4"
)

// showSetup renders the first-run form while no admin exists.
func (h *Handler) ShowSetup(c echo.Context) error {
	if done, err := h.store.HasUsers(c.Request().Context()); err != nil || done {
		return h.setupGone(c, err)
	}
	return h.renderSetup(c, http.StatusOK, views.SetupView{})
}

func (h *Handler) setupGone(c echo.Context, err error) error {
	if err != nil {
		return err
	}
	return errNotFound
}

func (h *Handler) renderSetup(c echo.Context, status int, v views.SetupView) error {
	ch, err := h.formChrome(c, "Set up")
	if err != nil {
		return err
	}
	v.Chrome = ch
	return render(c, status, views.SetupPage(v))
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
	u, err := h.store.CompleteSetup(ctx, in)
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		return h.renderSetup(c, http.StatusUnprocessableEntity, views.SetupView{PageName: in.PageName, Email: in.Email, Errors: ve.Fields})
	case errors.Is(err, models.ErrSetupDone):
		return errNotFound
	case err != nil:
		return err
	}
	h.logger.Info("first admin created", "user_id", u.ID)
	if err := h.startSession(c, u); err != nil {
		return err
	}
	return h.redirectWithFlash(c, "/admin/components", "success", "Welcome to Herald. Add the components of your service to start your status page.")
}

// ShowLogin renders the sign-in form.
func (h *Handler) ShowLogin(c echo.Context) error {
	if done, err := h.store.HasUsers(c.Request().Context()); err != nil {
		return err
	} else if !done {
		return seeOther(c, "/setup")
	}
	return h.renderLogin(c, http.StatusOK, views.LoginView{Next: c.QueryParam("next")})
}

func (h *Handler) renderLogin(c echo.Context, status int, v views.LoginView) error {
	ch, err := h.formChrome(c, "Sign in")
	if err != nil {
		return err
	}
	page, err := h.store.Page(c.Request().Context(), models.DefaultPageID)
	if err != nil {
		return err
	}
	ch.SiteName = page.Name
	v.Chrome = ch
	return render(c, status, views.LoginPage(v))
}

// Login checks the credentials, within the rate limits.
func (h *Handler) Login(c echo.Context) error {
	email := models.NormalizeEmail(c.FormValue("email"))
	password := c.FormValue("password")
	next := c.FormValue("next")
	ip := c.RealIP()
	if blocked, wait := h.limiter.blocked(ip, email); blocked {
		minutes := int(math.Ceil(wait.Minutes()))
		c.Response().Header().Set("Retry-After", fmt.Sprint(int(math.Ceil(wait.Seconds()))))
		h.logger.Warn("login rate limited", "ip", ip)
		return echo.NewHTTPError(http.StatusTooManyRequests,
			fmt.Sprintf("Too many sign-in attempts. For your account's safety, wait %d minute(s) and try again.", minutes))
	}
	u, err := h.store.Authenticate(c.Request().Context(), email, password)
	if errors.Is(err, models.ErrBadCredentials) {
		h.limiter.fail(ip, email)
		return h.renderLogin(c, http.StatusUnauthorized, views.LoginView{Email: email, Next: next,
			Error: "That e-mail and password do not match an admin account."})
	}
	if err != nil {
		return err
	}
	h.limiter.succeed(email)
	if err := h.startSession(c, u); err != nil {
		return err
	}
	return seeOther(c, safeNext(next))
}

func (h *Handler) startSession(c echo.Context, u *models.User) error {
	sess, err := h.store.CreateSession(c.Request().Context(), u.ID, h.sessionTTL)
	if err != nil {
		return err
	}
	s := h.session(c)
	s.Values[keySID] = sess.ID
	s.Values[keyCSRF] = randomToken() // a new token per sign-in
	return s.Save(c.Request(), c.Response())
}

// Logout ends the session on the server and clears the cookie.
func (h *Handler) Logout(c echo.Context) error {
	s := h.session(c)
	if sid, _ := s.Values[keySID].(string); sid != "" {
		if err := h.store.DeleteSession(c.Request().Context(), sid); err != nil {
			return err
		}
	}
	delete(s.Values, keySID)
	s.Values[keyCSRF] = randomToken()
	h.flash(c, "success", "You are signed out.")
	h.saveSessionAfterChange(c)
	return seeOther(c, "/login")
}
