package admin

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/labstack/echo/v4"
)

// A password sign-in of a user with two-factor sign-in waits in the
// cookie for its second step: the user's id, until when (Unix seconds)
// and where to go next. No session exists until the second factor passes.
const (
	keyPendingUser  = "2fa_user"
	keyPendingUntil = "2fa_until"
	keyPendingNext  = "2fa_next"
	// pendingSignIn is how long the second step may take.
	pendingSignIn = 5 * time.Minute
)

// holdSignIn keeps u's password sign-in for its second step.
func (h *Handler) holdSignIn(c echo.Context, u *models.User, next string) error {
	s := h.Session(c)
	s.Values[keyPendingUser] = u.ID
	s.Values[keyPendingUntil] = h.Store.Now().Add(pendingSignIn).Unix()
	s.Values[keyPendingNext] = next
	if err := s.Save(c.Request(), c.Response()); err != nil {
		return fmt.Errorf("save pending sign-in: %w", err)
	}
	return serve.SeeOther(c, "/login/2fa")
}

// pendingUser returns the user whose password sign-in waits for its
// second step, or nil when there is none or it has expired.
func (h *Handler) pendingUser(c echo.Context) (*models.User, string, error) {
	s := h.Session(c)
	id, _ := s.Values[keyPendingUser].(int64)
	until, _ := s.Values[keyPendingUntil].(int64)
	next, _ := s.Values[keyPendingNext].(string)
	if id == 0 || h.Store.Now().Unix() >= until {
		return nil, "", nil
	}
	u, err := h.Store.User(c.Request().Context(), id)
	if errors.Is(err, models.ErrNotFound) || (err == nil && !u.TwoFactor()) {
		return nil, "", nil // removed, or reset by an admin, meanwhile
	}
	return u, next, err
}

func (h *Handler) forgetPending(c echo.Context) {
	s := h.Session(c)
	delete(s.Values, keyPendingUser)
	delete(s.Values, keyPendingUntil)
	delete(s.Values, keyPendingNext)
}

// startOver sends the browser back to the password step.
func (h *Handler) startOver(c echo.Context) error {
	h.forgetPending(c)
	return h.RedirectWithFlash(c, "/login", "error", "Your sign-in expired. Enter your e-mail and password again.")
}

// ShowSecondFactor asks for the code after a correct password.
func (h *Handler) ShowSecondFactor(c echo.Context) error {
	u, _, err := h.pendingUser(c)
	if err != nil {
		return err
	}
	if u == nil {
		return h.startOver(c)
	}
	return h.renderSecondFactor(c, http.StatusOK, views.SecondFactorView{Email: u.Email})
}

func (h *Handler) renderSecondFactor(c echo.Context, status int, v views.SecondFactorView) error {
	ch, err := h.FormChrome(c, "Two-factor sign-in")
	if err != nil {
		return err
	}
	page, err := h.Store.Page(c.Request().Context(), models.DefaultPageID)
	if err != nil {
		return err
	}
	ch.SiteName = page.Name
	v.Chrome = ch
	return serve.Render(c, status, views.SecondFactorPage(v))
}

// CheckSecondFactor finishes a password sign-in with a TOTP code or a
// recovery code, within the same limits as the password.
func (h *Handler) CheckSecondFactor(c echo.Context) error {
	u, next, err := h.pendingUser(c)
	if err != nil {
		return err
	}
	if u == nil {
		return h.startOver(c)
	}
	ip := c.RealIP()
	if blocked, wait, _ := h.limiter.check(ip, u.Email); blocked {
		c.Response().Header().Set("Retry-After", fmt.Sprint(int(math.Ceil(wait.Seconds()))))
		h.Logger.Warn("second sign-in step rate limited", "ip", ip)
		return echo.NewHTTPError(http.StatusTooManyRequests,
			fmt.Sprintf("Too many sign-in attempts. For your account's safety, wait %d minute(s) and try again.", int(math.Ceil(wait.Minutes()))))
	}
	ctx := models.WithActor(c.Request().Context(), models.Actor{Type: models.ActorUser, IP: ip})
	res, err := h.Store.CheckSecondFactor(ctx, u.ID, c.FormValue("code"))
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		// Not a code at all: it cannot be right, so it is not a guess
		// to count, nor worth an audit row.
		return h.renderSecondFactor(c, http.StatusUnprocessableEntity, views.SecondFactorView{Email: u.Email, Error: ve.Fields["code"]})
	case errors.Is(err, models.ErrWrongCode), errors.Is(err, models.ErrReusedCode):
		h.limiter.fail(ip, u.Email)
		reason, msg := models.SignInBadCode, "That code is not right. Enter the current code from your app, or a recovery code."
		if errors.Is(err, models.ErrReusedCode) {
			reason, msg = models.SignInReusedCode, "That code was used already. Wait for the next one and enter it."
		}
		if err := h.Store.AuditSignInFailed(ctx, u.Email, reason); err != nil {
			return err
		}
		return h.renderSecondFactor(c, http.StatusUnauthorized, views.SecondFactorView{Email: u.Email, Error: msg})
	case errors.Is(err, models.ErrTwoFactorOff):
		return h.startOver(c)
	case errors.Is(err, models.ErrSecretUnreadable):
		h.Logger.Error("second sign-in step", "user_id", u.ID, "error", err)
		return h.renderSecondFactor(c, http.StatusInternalServerError, views.SecondFactorView{Email: u.Email,
			Error: "Herald cannot read your authenticator key: its secret key was changed since you set it up. Sign in with one of your recovery codes, or ask an admin to reset your two-factor sign-in."})
	case err != nil:
		return err
	}
	h.limiter.succeed(ip, u.Email)
	h.forgetPending(c)
	if res.Recovery {
		h.Flash(c, "warning", fmt.Sprintf("You signed in with a recovery code; %d left. Make new ones under Two-factor sign-in if you are running out.", res.RecoveryLeft))
	}
	if err := h.StartSession(c, u); err != nil {
		return err
	}
	return serve.SeeOther(c, safeNext(next))
}
