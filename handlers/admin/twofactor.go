package admin

import (
	"bytes"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"strings"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/heraldstatus/herald/views/layout"
	"github.com/labstack/echo/v4"
	"github.com/pquerna/otp"
)

const (
	twoFactorPath = "/admin/account/2fa"
	// keyRecoveryCodes holds recovery codes just made, until the page
	// that shows them once takes them out of the (encrypted) cookie.
	keyRecoveryCodes = "recovery_codes"
	// qrSize is the QR code's side in pixels.
	qrSize = 200
)

// ShowTwoFactor is the user's own two-factor page: set it up, or, when it
// is on, new recovery codes and turning it off.
func (h *Handler) ShowTwoFactor(c echo.Context) error {
	return h.renderTwoFactor(c, http.StatusOK, "", nil)
}

func (h *Handler) renderTwoFactor(c echo.Context, status int, form string, errs layout.FormErrors) error {
	ctx := c.Request().Context()
	u, err := h.Store.User(ctx, serve.CurrentUser(c).ID)
	if err != nil {
		return err
	}
	required, err := h.Store.RequireTwoFactor(ctx)
	if err != nil {
		return err
	}
	ch, err := h.adminChrome(c, "Two-factor sign-in", "account")
	if err != nil {
		return err
	}
	v := views.TwoFactorView{Chrome: ch, Enabled: u.TwoFactor(), Required: required, Form: form, Errors: errs}
	switch {
	case v.Enabled:
		if v.RecoveryLeft, err = h.Store.RecoveryCodesLeft(ctx, u.ID); err != nil {
			return err
		}
	case u.TOTPSecret != "":
		en, err := h.Store.TwoFactorEnrolment(ctx, u.ID, ch.SiteName)
		if err != nil {
			return err
		}
		v.QR = twoFactorPath + "/qr.png"
		v.Pending, v.Secret = true, groupsOfFour(en.Secret)
	}
	return serve.Render(c, status, views.TwoFactorPage(v))
}

// ShowTwoFactorQR draws the key being set up as a PNG QR code, served by
// Herald itself (the admin's CSP allows no data: images, and no third
// party ever sees the key). Without a key being set up there is nothing
// to draw: back to the page.
func (h *Handler) ShowTwoFactorQR(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := h.Store.User(ctx, serve.CurrentUser(c).ID)
	if err != nil {
		return err
	}
	if u.TwoFactor() || u.TOTPSecret == "" {
		return serve.SeeOther(c, twoFactorPath)
	}
	page, err := h.managedPage(c)
	if err != nil {
		return err
	}
	en, err := h.Store.TwoFactorEnrolment(ctx, u.ID, page.Name)
	if err != nil {
		return err
	}
	img, err := qrPNG(en.URL)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "image/png", img)
}

// qrPNG draws the otpauth:// URL as a PNG QR code.
func qrPNG(otpauthURL string) ([]byte, error) {
	key, err := otp.NewKeyFromURL(otpauthURL)
	if err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	return buf.Bytes(), nil
}

// groupsOfFour spaces a key for reading aloud and typing.
func groupsOfFour(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// StartTwoFactor makes a new key to enrol with and shows it.
func (h *Handler) StartTwoFactor(c echo.Context) error {
	err := h.Store.StartTwoFactor(c.Request().Context(), serve.CurrentUser(c).ID)
	if errors.Is(err, models.ErrTwoFactorOn) {
		return h.RedirectWithFlash(c, twoFactorPath, "success", "Two-factor sign-in is already on.")
	}
	if err != nil {
		return err
	}
	return serve.SeeOther(c, twoFactorPath)
}

// EnableTwoFactor confirms the enrolment with a code from the app, then
// shows the recovery codes once.
func (h *Handler) EnableTwoFactor(c echo.Context) error {
	codes, err := h.Store.EnableTwoFactor(c.Request().Context(), serve.CurrentUser(c).ID, c.FormValue("code"))
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		return h.renderTwoFactor(c, http.StatusUnprocessableEntity, "enable", ve.Fields)
	case errors.Is(err, models.ErrWrongCode):
		return h.renderTwoFactor(c, http.StatusUnprocessableEntity, "enable", layout.FormErrors{"code": "That code is not right. Check that the app's clock is correct and enter the current code."})
	case errors.Is(err, models.ErrReusedCode):
		return h.renderTwoFactor(c, http.StatusUnprocessableEntity, "enable", layout.FormErrors{"code": "That code was used already. Wait for the next one."})
	case errors.Is(err, models.ErrTwoFactorOn):
		return h.RedirectWithFlash(c, twoFactorPath, "success", "Two-factor sign-in is already on.")
	case errors.Is(err, models.ErrTwoFactorOff):
		return h.RedirectWithFlash(c, twoFactorPath, "error", "Set up two-factor sign-in first: it gives you the key to scan.")
	case err != nil:
		return err
	}
	h.Flash(c, "success", "Two-factor sign-in is on. Save your recovery codes.")
	return h.showCodesNext(c, codes)
}

// showCodesNext keeps the codes in the encrypted cookie for the one page
// that shows them. Should the cookie fail, the codes exist all the same;
// the page then says to make new ones.
func (h *Handler) showCodesNext(c echo.Context, codes []string) error {
	h.Session(c).Values[keyRecoveryCodes] = strings.Join(codes, " ")
	h.SaveSessionAfterChange(c)
	return serve.SeeOther(c, twoFactorPath+"/recovery-codes")
}

// ShowRecoveryCodes shows recovery codes just made, the first time it is
// asked for; afterwards they are gone for good.
func (h *Handler) ShowRecoveryCodes(c echo.Context) error {
	sess := h.Session(c)
	held, _ := sess.Values[keyRecoveryCodes].(string)
	if held == "" {
		return h.RedirectWithFlash(c, twoFactorPath, "warning",
			"Recovery codes are shown only once, right after they are made. If you did not save them, make new ones.")
	}
	delete(sess.Values, keyRecoveryCodes)
	ch, err := h.adminChrome(c, "Recovery codes", "account") // saves the session: the codes leave the cookie
	if err != nil {
		return err
	}
	return serve.Render(c, http.StatusOK, views.RecoveryCodesPage(views.RecoveryCodesView{Chrome: ch, Codes: strings.Fields(held)}))
}

// RegenerateRecoveryCodes replaces the recovery codes after the password
// and a code.
func (h *Handler) RegenerateRecoveryCodes(c echo.Context) error {
	codes, err := h.Store.RegenerateRecoveryCodes(c.Request().Context(), serve.CurrentUser(c).ID,
		c.FormValue("password"), c.FormValue("code"))
	if done, err := h.reauthFailed(c, "codes", err); done {
		return err
	}
	h.Flash(c, "success", "New recovery codes made; the old ones no longer work.")
	return h.showCodesNext(c, codes)
}

// DisableTwoFactor turns two-factor sign-in off after the password and a
// code, unless the install requires it.
func (h *Handler) DisableTwoFactor(c echo.Context) error {
	err := h.Store.DisableTwoFactor(c.Request().Context(), serve.CurrentUser(c).ID,
		c.FormValue("password"), c.FormValue("code"))
	if errors.Is(err, models.ErrTwoFactorRequired) {
		return echo.NewHTTPError(http.StatusConflict, "Your team requires two-factor sign-in, so it cannot be turned off. An admin can reset it for you if you lost your phone.")
	}
	if done, err := h.reauthFailed(c, "disable", err); done {
		return err
	}
	return h.RedirectWithFlash(c, twoFactorPath, "success", "Two-factor sign-in is off. Remove Herald's entry from your authenticator app.")
}

// reauthFailed answers a failed password + code check; done is false
// when err is nil.
func (h *Handler) reauthFailed(c echo.Context, form string, err error) (done bool, _ error) {
	var ve *models.ValidationError
	switch {
	case err == nil:
		return false, nil
	case errors.As(err, &ve):
		return true, h.renderTwoFactor(c, http.StatusUnprocessableEntity, form, ve.Fields)
	case errors.Is(err, models.ErrTwoFactorOff):
		return true, h.RedirectWithFlash(c, twoFactorPath, "error", "Two-factor sign-in is off.")
	}
	return true, err
}

// RequireTwoFactor sends a signed-in user who signs in with a password
// but has no second factor to the enrolment page, when the install
// requires one, before any other admin screen. Accounts without a
// password sign in only through SSO, whose identity provider decides on
// a second factor: they pass. API tokens never come through here.
func (h *Handler) RequireTwoFactor(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := serve.CurrentUser(c)
		path := c.Request().URL.Path
		if u == nil || u.TwoFactor() || u.PasswordHash == "" || path == twoFactorPath || strings.HasPrefix(path, twoFactorPath+"/") {
			return next(c)
		}
		required, err := h.Store.RequireTwoFactor(c.Request().Context())
		if err != nil {
			return err
		}
		if !required {
			return next(c)
		}
		return h.RedirectWithFlash(c, twoFactorPath, "warning", "Your team requires two-factor sign-in. Set it up to continue.")
	}
}
