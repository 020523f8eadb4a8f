package admin

import (
	"context"
	"net/http"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/labstack/echo/v4"
)

// signInSettings is the settings page's "Sign-in" section, for admins
// only: nil for the others, who cannot change it.
func (h *Handler) signInSettings(c echo.Context) (*views.SignInSettings, error) {
	if u := serve.CurrentUser(c); u == nil || !u.Can(models.RoleAdmin) || !u.AllPages { // install-wide: see installWideRoute
		return nil, nil
	}
	ctx := c.Request().Context()
	required, err := h.Store.RequireTwoFactor(ctx)
	if err != nil {
		return nil, err
	}
	on, err := h.Store.PasswordSignIn(ctx)
	if err != nil {
		return nil, err
	}
	s := &views.SignInSettings{RequireTwoFactor: required, SSO: h.SSO != nil, PasswordSignIn: on}
	if h.SSO != nil {
		s.Issuer = h.SSO.Issuer()
	}
	return s, nil
}

// SaveSignInSettings sets the install's sign-in rules: whether two-factor
// sign-in is required (an unticked checkbox sends nothing: off) and, when
// the form offered it, whether password sign-in stays on. Password
// sign-in goes off only while single sign-on is configured, so nobody is
// locked out.
func (h *Handler) SaveSignInSettings(c echo.Context) error {
	ctx := c.Request().Context()
	require := c.FormValue("require_2fa") == "on"
	shown := c.FormValue("password_sign_in_shown") != ""
	passwordOn := c.FormValue("password_sign_in") != ""
	if shown && !passwordOn && h.SSO == nil {
		s, err := h.signInSettings(c)
		if err != nil {
			return err
		}
		s.Error = "Password sign-in stays on: single sign-on is not configured, so nobody could sign in without it."
		p, err := h.Store.Page(ctx, models.DefaultPageID)
		if err != nil {
			return err
		}
		return h.renderSettings(c, http.StatusUnprocessableEntity, views.SettingsView{Name: p.Name, Description: p.Description,
			LogoURL: p.LogoURL, AccentColor: p.Accent(), TimeZone: p.TimeZone, SignIn: s})
	}
	err := h.Store.InTransaction(ctx, func(ctx context.Context) error {
		if err := h.Store.SetRequireTwoFactor(ctx, require); err != nil {
			return err
		}
		if shown {
			return h.Store.SetPasswordSignIn(ctx, passwordOn)
		}
		return nil
	})
	if err != nil {
		return err
	}
	msg := "Sign-in settings saved. Two-factor sign-in is optional."
	if require {
		msg = "Sign-in settings saved. Everyone who signs in with a password now needs two-factor sign-in."
	}
	if shown && !passwordOn {
		msg += " Password sign-in is off: the team signs in with SSO."
	}
	return h.RedirectWithFlash(c, "/admin/settings#sign-in", "success", msg)
}
