package admin

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/sso"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/labstack/echo/v4"
)

// Keys of a sign-in with SSO in progress, in the signed and encrypted
// cookie session: single use, and good for ssoAttemptTTL.
const (
	keySSOState    = "oidc_state"
	keySSONonce    = "oidc_nonce"
	keySSOVerifier = "oidc_verifier"
	keySSOExpires  = "oidc_expires"
	keySSONext     = "oidc_next"
	ssoAttemptTTL  = 10 * time.Minute
)

// ssoUnavailable is what the sign-in page says while the identity
// provider cannot be reached.
const ssoUnavailable = "Single sign-on is unavailable: Herald cannot reach the identity provider. Try again in a minute."

// StartSSO sends the browser to the identity provider with a fresh state,
// nonce and PKCE challenge, kept in the cookie session for the callback.
func (h *Handler) StartSSO(c echo.Context) error {
	if h.SSO == nil {
		return serve.ErrNotFound
	}
	a := sso.NewAttempt()
	target, err := h.SSO.AuthURL(c.Request().Context(), a)
	if errors.Is(err, sso.ErrUnavailable) {
		return h.renderLogin(c, http.StatusServiceUnavailable, views.LoginView{Next: c.QueryParam("next"), Error: ssoUnavailable})
	}
	if err != nil {
		return err
	}
	s := h.Session(c)
	s.Values[keySSOState] = a.State
	s.Values[keySSONonce] = a.Nonce
	s.Values[keySSOVerifier] = a.Verifier
	s.Values[keySSOExpires] = h.Now().Add(ssoAttemptTTL).Unix()
	s.Values[keySSONext] = c.QueryParam("next")
	if err := s.Save(c.Request(), c.Response()); err != nil {
		return fmt.Errorf("save sso attempt: %w", err)
	}
	return c.Redirect(http.StatusFound, target)
}

// takeSSOAttempt reads the sign-in in progress and forgets it, so a
// callback works once; ok is false when there is none or it expired.
func (h *Handler) takeSSOAttempt(c echo.Context) (a sso.Attempt, next string, ok bool) {
	s := h.Session(c)
	a.State, _ = s.Values[keySSOState].(string)
	a.Nonce, _ = s.Values[keySSONonce].(string)
	a.Verifier, _ = s.Values[keySSOVerifier].(string)
	next, _ = s.Values[keySSONext].(string)
	expires, _ := s.Values[keySSOExpires].(int64)
	for _, k := range []string{keySSOState, keySSONonce, keySSOVerifier, keySSOExpires, keySSONext} {
		delete(s.Values, k)
	}
	ok = a.State != "" && a.Nonce != "" && a.Verifier != "" && h.Now().Unix() < expires
	return a, next, ok
}

// refuseSSO audits a refused sign-in with SSO and answers code with msg.
// The audit entry names the identity (its e-mail once the ID token is
// verified) and the reason.
func (h *Handler) refuseSSO(c echo.Context, code int, email, why, msg string) error {
	h.SaveSessionAfterChange(c) // the attempt is used up either way
	who := email
	if who == "" {
		who = "unknown"
	}
	ctx := models.WithActor(c.Request().Context(), models.SSOActor(h.SSO.Issuer(), who, c.RealIP()))
	if err := h.Store.AuditSSORefused(ctx, who, why); err != nil {
		h.Logger.Error("audit refused sso sign-in", "error", err)
	}
	h.Logger.Warn("sso sign-in refused", "reason", why, "ip", c.RealIP())
	return echo.NewHTTPError(code, msg)
}

// FinishSSO is the provider's callback: it checks the state, exchanges the
// code with the PKCE verifier, verifies the ID token and its nonce,
// requires a verified e-mail and a mapped role, then signs the person in,
// creating or linking their account. The provider's own multi-factor
// sign-in applies; Herald's TOTP step is for password sign-in.
func (h *Handler) FinishSSO(c echo.Context) error {
	if h.SSO == nil {
		return serve.ErrNotFound
	}
	a, next, ok := h.takeSSOAttempt(c)
	const again = " Go back to the sign-in page and try again."
	if e := c.QueryParam("error"); e != "" {
		return h.refuseSSO(c, http.StatusBadRequest, "", "the provider answered "+e+".",
			"The identity provider did not sign you in ("+e+")."+again)
	}
	if !ok || c.QueryParam("state") != a.State {
		return h.refuseSSO(c, http.StatusBadRequest, "", "the state did not match a sign-in started in this browser (or it expired).",
			"This sign-in did not start in this browser, or took longer than 10 minutes."+again)
	}
	id, err := h.SSO.Exchange(c.Request().Context(), a, c.QueryParam("code"))
	switch {
	case errors.Is(err, sso.ErrUnavailable):
		h.SaveSessionAfterChange(c)
		return h.renderLogin(c, http.StatusServiceUnavailable, views.LoginView{Error: ssoUnavailable})
	case errors.Is(err, sso.ErrNonce):
		return h.refuseSSO(c, http.StatusBadRequest, "", "the ID token's nonce did not match this sign-in.",
			"The identity provider's answer was meant for another sign-in."+again)
	case err != nil:
		h.Logger.Warn("sso code exchange or ID token verification failed", "error", err)
		return h.refuseSSO(c, http.StatusBadRequest, "", "the code exchange or the ID token check failed.",
			"Herald could not verify the identity provider's answer."+again)
	}
	if id.Email == "" || !id.EmailVerified {
		return h.refuseSSO(c, http.StatusForbidden, id.Email, "the provider has not verified the e-mail address.",
			"Your identity provider has not verified your e-mail address, so Herald cannot tell who you are. Verify it there, then sign in again.")
	}
	role, mapped := h.SSO.Role(id)
	if !mapped {
		return h.refuseSSO(c, http.StatusForbidden, id.Email, "no role is mapped to its e-mail domain or groups.",
			fmt.Sprintf("%s may not sign in to Herald: no role is given to its e-mail domain or groups. Ask a Herald admin to allow them.", id.Email))
	}
	ctx := models.WithActor(c.Request().Context(), models.SSOActor(id.Issuer, id.Email, c.RealIP()))
	u, err := h.Store.SignInWithSSO(ctx, models.SSOIdentity{Issuer: id.Issuer, Subject: id.Subject, Email: id.Email, Role: role})
	var ve *models.ValidationError
	switch {
	case errors.Is(err, models.ErrSSOConflict):
		return h.refuseSSO(c, http.StatusForbidden, id.Email, "its e-mail belongs to an account linked to another identity.",
			"A Herald account with this e-mail address is already linked to another identity at the provider. Ask a Herald admin.")
	case errors.Is(err, models.ErrLastAdmin):
		return h.refuseSSO(c, http.StatusForbidden, id.Email, "the role mapping would demote the last admin.",
			"The role mapping would take away the admin role of Herald's last admin. Ask for another admin first, or change the mapping.")
	case errors.As(err, &ve):
		return h.refuseSSO(c, http.StatusBadRequest, id.Email, "the identity provider sent unusable claims.",
			"The identity provider sent an e-mail address or subject Herald cannot use.")
	case err != nil:
		return err
	}
	h.Logger.Info("signed in with sso", "user_id", u.ID)
	if err := h.StartSession(c, u); err != nil {
		return err
	}
	return serve.SeeOther(c, safeNext(next))
}

// passwordSignIn reports whether password sign-in is allowed: the admin
// setting, which only counts while single sign-on is configured (so an
// install whose SSO is removed is never locked out).
func (h *Handler) passwordSignIn(c echo.Context) (bool, error) {
	if h.SSO == nil {
		return true, nil
	}
	return h.Store.PasswordSignIn(c.Request().Context())
}

// passwordSignInOff answers a password sign-in while it is switched off.
// The way back in when the provider is gone is on the server (README).
const passwordSignInOff = "Password sign-in is switched off on this Herald: use “Sign in with SSO” on the sign-in page."

// loginSSO sets what the sign-in page shows of single sign-on.
func (h *Handler) loginSSO(c echo.Context, v *views.LoginView) error {
	v.SSO = h.SSO != nil
	on, err := h.passwordSignIn(c)
	v.PasswordOff = !on
	return err
}
