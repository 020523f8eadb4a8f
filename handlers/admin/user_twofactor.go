package admin

import (
	"fmt"
	"net/http"

	"github.com/heraldstatus/herald/handlers/serve"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/labstack/echo/v4"
)

func resetTwoFactorPath(id int64) string { return fmt.Sprintf("/admin/users/%d/reset-2fa", id) }

// ConfirmResetTwoFactor asks before turning a user's two-factor sign-in
// off, for someone who lost their phone and their recovery codes.
func (h *Handler) ConfirmResetTwoFactor(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	u, err := h.Store.User(c.Request().Context(), id)
	if err != nil {
		return err
	}
	ch, err := h.adminChrome(c, "Reset two-factor sign-in of "+u.Email, "users")
	if err != nil {
		return err
	}
	detail := fmt.Sprintf("%s has no two-factor sign-in to reset; resetting changes nothing.", u.Email)
	if u.TwoFactor() {
		detail = fmt.Sprintf("%s signs in with the password alone until they set up two-factor sign-in again (at once, if your team requires it). Their authenticator app's entry and recovery codes stop working. Check that the request really comes from them.", u.Email)
	}
	return serve.Render(c, http.StatusOK, views.ConfirmPage(views.ConfirmView{
		Chrome:   ch,
		Question: fmt.Sprintf("Reset two-factor sign-in of %s?", u.Email),
		Detail:   detail,
		Action:   resetTwoFactorPath(id),
		Confirm:  "Reset two-factor sign-in",
		Cancel:   "/admin/users",
	}))
}

// ResetTwoFactor turns a user's two-factor sign-in off after confirmation.
func (h *Handler) ResetTwoFactor(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u, err := h.Store.User(ctx, id)
	if err != nil {
		return err
	}
	if err := h.Store.ResetTwoFactor(ctx, id); err != nil {
		return err
	}
	return h.RedirectWithFlash(c, "/admin/users", "success",
		fmt.Sprintf("Two-factor sign-in of %s is reset: they sign in with their password and set it up again.", u.Email))
}
