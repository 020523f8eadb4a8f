package admin

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/heraldstatus/herald/views/layout"
	"github.com/labstack/echo/v4"
)

// The own account: every role may change their password and e-mail and
// end their sessions.

// sessionHandleRE is the shape of models.Session.Handle.
var sessionHandleRE = regexp.MustCompile(`^[A-Za-z0-9_-]{16}$`)

// tooManyPasswords answers a user who gave a wrong current password too
// often lately: 429, with when to come back.
func tooManyPasswords(c echo.Context) error {
	c.Response().Header().Set("Retry-After", "900")
	return echo.NewHTTPError(http.StatusTooManyRequests,
		"Too many wrong passwords. Wait a quarter of an hour, then try again.")
}

// ShowAccount shows the signed-in user's account.
func (h *Handler) ShowAccount(c echo.Context) error {
	return h.renderAccount(c, http.StatusOK, views.AccountView{})
}

// renderAccount fills in the user, their sessions and two-factor state
// around whatever form state v carries.
func (h *Handler) renderAccount(c echo.Context, status int, v views.AccountView) error {
	ctx := c.Request().Context()
	u, err := h.Store.User(ctx, serve.CurrentUser(c).ID) // fresh: a change in this request shows
	if err != nil {
		return err
	}
	ch, err := h.adminChrome(c, "Your account", "account")
	if err != nil {
		return err
	}
	ch.UserEmail = u.Email
	v.Chrome = ch
	v.Email = u.Email
	v.Role, v.RoleHelp = u.Role.Label(), u.Role.Describe()
	v.HasPassword = u.PasswordHash != ""
	v.TwoFactorOn, v.TwoFactorSince = u.TwoFactor(), serve.TimePtr(u.TOTPEnabledAt)
	sessions, err := h.Store.UserSessions(ctx, u.ID)
	if err != nil {
		return err
	}
	now, current := h.Now(), h.SessionID(c)
	for i := range sessions {
		s := &sessions[i]
		seen := s.CreatedAt
		if s.LastSeenAt != nil {
			seen = *s.LastSeenAt
		}
		v.Sessions = append(v.Sessions, views.SessionRow{Handle: s.Handle(), Browser: s.Browser(), IP: s.IP,
			SignedIn: layout.Time{At: s.CreatedAt}, LastSeen: layout.Time{At: seen}, LastSeenAgo: relativeTime(now, seen),
			Current: s.ID == current})
	}
	return serve.Render(c, status, views.AccountPage(v))
}

// ChangePassword sets a new password after checking the current one; the
// user's other sessions end.
func (h *Handler) ChangePassword(c echo.Context) error {
	u := serve.CurrentUser(c)
	in := models.PasswordChangeInput{CurrentPassword: c.FormValue("current_password"), NewPassword: c.FormValue("new_password")}
	if again := c.FormValue("new_password_again"); again != in.NewPassword && in.NewPassword != "" {
		return h.renderAccount(c, http.StatusUnprocessableEntity, views.AccountView{
			PasswordErrors: layout.FormErrors{"new_password_again": "The two new passwords differ. Type the same one twice."}})
	}
	ended, err := h.Store.ChangePassword(c.Request().Context(), u.ID, h.SessionID(c), in)
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		return h.renderAccount(c, http.StatusUnprocessableEntity, views.AccountView{PasswordErrors: ve.Fields})
	case errors.Is(err, models.ErrTooManyAttempts):
		return tooManyPasswords(c)
	case err != nil:
		return err
	}
	msg := "Password changed."
	switch ended {
	case 0:
	case 1:
		msg += " Your other session was signed out."
	default:
		msg += fmt.Sprintf(" Your %d other sessions were signed out.", ended)
	}
	return h.RedirectWithFlash(c, "/admin/account", "success", msg)
}

// ChangeEmail sets a new e-mail address after checking the password.
func (h *Handler) ChangeEmail(c echo.Context) error {
	u := serve.CurrentUser(c)
	in := models.EmailChangeInput{Email: c.FormValue("email"), CurrentPassword: c.FormValue("email_password")}
	changed, err := h.Store.ChangeEmail(c.Request().Context(), u.ID, in)
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		errs := layout.FormErrors{"email": ve.Fields["email"]}
		if msg, ok := ve.Fields["current_password"]; ok {
			errs["email_password"] = msg
		}
		return h.renderAccount(c, http.StatusUnprocessableEntity, views.AccountView{NewEmail: in.Email, EmailErrors: errs})
	case errors.Is(err, models.ErrTooManyAttempts):
		return tooManyPasswords(c)
	case err != nil:
		return err
	}
	return h.RedirectWithFlash(c, "/admin/account", "success",
		fmt.Sprintf("E-mail address changed. Sign in with %s from now on.", changed.Email))
}

// SignOutOtherSessions signs the user out everywhere but this browser.
func (h *Handler) SignOutOtherSessions(c echo.Context) error {
	ended, err := h.Store.EndOtherSessions(c.Request().Context(), serve.CurrentUser(c).ID, h.SessionID(c))
	if err != nil {
		return err
	}
	msg := "You were signed in nowhere else."
	switch {
	case ended == 1:
		msg = "Signed out 1 other session."
	case ended > 1:
		msg = fmt.Sprintf("Signed out %d other sessions.", ended)
	}
	return h.RedirectWithFlash(c, "/admin/account", "success", msg)
}

// SignOutSession signs out one other session of the user.
func (h *Handler) SignOutSession(c echo.Context) error {
	handle := c.Param("id")
	if !sessionHandleRE.MatchString(handle) {
		return serve.ErrNotFound
	}
	err := h.Store.EndUserSession(c.Request().Context(), serve.CurrentUser(c).ID, h.SessionID(c), handle)
	switch {
	case errors.Is(err, models.ErrCurrentSession):
		return echo.NewHTTPError(http.StatusUnprocessableEntity, "This is the browser you are using. Use “Sign out” to leave it.")
	case errors.Is(err, models.ErrNotFound):
		return h.RedirectWithFlash(c, "/admin/account", "warning", "That session had already ended.")
	case err != nil:
		return err
	}
	return h.RedirectWithFlash(c, "/admin/account", "success", "Signed out that session.")
}
