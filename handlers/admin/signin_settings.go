package admin

import (
	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/labstack/echo/v4"
)

// signInSettings is the settings page's "Sign-in" section, for admins
// only: nil for the others, who cannot change it.
func (h *Handler) signInSettings(c echo.Context) (*views.SignInSettings, error) {
	if u := serve.CurrentUser(c); u == nil || !u.Can(models.RoleAdmin) {
		return nil, nil
	}
	required, err := h.Store.RequireTwoFactor(c.Request().Context())
	if err != nil {
		return nil, err
	}
	return &views.SignInSettings{RequireTwoFactor: required}, nil
}

// SaveSignInSettings turns the install's two-factor requirement on or
// off. An unticked checkbox sends nothing: off.
func (h *Handler) SaveSignInSettings(c echo.Context) error {
	on := c.FormValue("require_2fa") == "on"
	if err := h.Store.SetRequireTwoFactor(c.Request().Context(), on); err != nil {
		return err
	}
	msg := "Sign-in settings saved. Two-factor sign-in is optional."
	if on {
		msg = "Sign-in settings saved. Everyone who signs in with a password now needs two-factor sign-in."
	}
	return h.RedirectWithFlash(c, "/admin/settings#sign-in", "success", msg)
}
