package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/labstack/echo/v4"
)

// invitationGone is the page for a link that does not work: 404 for one
// Herald never issued, 410 for one that expired, was used or revoked
// (audited, so admins see who tried).
func (h *Handler) invitationGone(c echo.Context, inv *models.Invitation, err error) error {
	if errors.Is(err, models.ErrNotFound) {
		return h.RenderError(c, http.StatusNotFound, "Invitation not found",
			"This invitation link is not valid. Check that you copied all of it, or ask an admin for a new one.")
	}
	if !errors.Is(err, models.ErrInvitationInvalid) || inv == nil {
		return err
	}
	// A HEAD (link checkers, previews) shows nobody the page: not audited.
	if c.Request().Method != http.MethodHead {
		ctx := models.WithActor(c.Request().Context(), models.Actor{Type: models.ActorUser, Name: "invitation link of " + inv.Email, IP: c.RealIP()})
		if aerr := h.Store.AuditInvitationRefused(ctx, inv, err); aerr != nil {
			h.Logger.Error("audit refused invitation", "invitation_id", inv.ID, "error", aerr)
		}
	}
	msg := "This invitation link no longer works. Ask an admin for a new one."
	code, heading := http.StatusGone, "Invitation no longer valid"
	switch {
	case errors.Is(err, models.ErrInvitationExpired):
		msg = "This invitation expired on " + inv.ExpiresAt.UTC().Format("Jan 2, 2006") + ". Ask an admin for a new one."
	case errors.Is(err, models.ErrInvitationUsed):
		msg = "This invitation was already used. If that was you, sign in with your e-mail and password."
	case errors.Is(err, models.ErrInvitationRevoked):
		msg = "This invitation was revoked. Ask an admin for a new one."
	case errors.Is(err, models.ErrInvitationTaken):
		code, msg = http.StatusConflict, "An account with this e-mail address already exists. Sign in instead."
	}
	return h.RenderError(c, code, heading, msg)
}

func (h *Handler) renderInvitation(c echo.Context, status int, inv *models.Invitation, v views.InvitationView) error {
	ch, err := h.FormChrome(c, "Join")
	if err != nil {
		return err
	}
	page, err := h.Store.Page(c.Request().Context(), models.DefaultPageID)
	if err != nil {
		return err
	}
	ch.SiteName = page.Name
	v.Chrome = ch
	v.Email = inv.Email
	v.RoleLabel = strings.ToLower(inv.Role.Label())
	v.RoleSummary = strings.ToLower(inv.Role.Describe()[:1]) + inv.Role.Describe()[1:]
	v.Action = "/invite/" + c.Param("token")
	// The link is a secret: keep it out of caches.
	c.Response().Header().Set("Cache-Control", "no-store")
	return serve.Render(c, status, views.InvitationPage(v))
}

// ShowInvitation is the page an invitation link opens: the invited
// address and role, and a password to choose.
func (h *Handler) ShowInvitation(c echo.Context) error {
	inv, err := h.Store.InvitationByToken(c.Request().Context(), c.Param("token"))
	if err != nil {
		return h.invitationGone(c, inv, err)
	}
	return h.renderInvitation(c, http.StatusOK, inv, views.InvitationView{})
}

// AcceptInvitation creates the invited account and signs it in.
func (h *Handler) AcceptInvitation(c echo.Context) error {
	// The store audits the acceptance as the user it creates; only the IP
	// comes from here.
	ctx := models.WithActor(c.Request().Context(), models.Actor{Type: models.ActorUser, IP: c.RealIP()})
	token := c.Param("token")
	u, err := h.Store.AcceptInvitation(ctx, token, c.FormValue("password"))
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		inv, lerr := h.Store.InvitationByToken(ctx, token)
		if lerr != nil {
			return h.invitationGone(c, inv, lerr)
		}
		return h.renderInvitation(c, http.StatusUnprocessableEntity, inv, views.InvitationView{Errors: ve.Fields})
	case errors.Is(err, models.ErrInvitationInvalid):
		inv, _ := h.Store.InvitationByToken(ctx, token)
		return h.invitationGone(c, inv, err)
	case err != nil:
		return h.invitationGone(c, nil, err)
	}
	h.Logger.Info("invitation accepted", "user_id", u.ID)
	if err := h.StartSession(c, u); err != nil {
		return err
	}
	return h.RedirectWithFlash(c, "/admin", "success", "Welcome to Herald. You are signed in as "+withArticle(u.Role)+".")
}
