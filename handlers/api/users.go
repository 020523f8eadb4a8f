package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	"github.com/labstack/echo/v4"
)

const userGone = "That user does not exist."

// lastAdminMessage is the 409 of a change that would leave no admin.
const lastAdminMessage = "This is the only admin: make someone else an admin first. Herald always keeps one."

// lastAllPagesAdminMessage is the 409 of limiting the last admin who may
// see every page.
const lastAllPagesAdminMessage = "This is the only admin who may see every page: let another admin see every page first. Herald always keeps one, to manage users and pages."

// apiUser is a team member as the API shows them: never a password
// hash or a TOTP secret.
type apiUser struct {
	ID           string  `json:"id"`
	Email        string  `json:"email"`
	Role         string  `json:"role"`
	TwoFactor    bool    `json:"two_factor"`
	LastSignInAt *string `json:"last_sign_in_at"`
	CreatedAt    string  `json:"created_at"`
	// PageIDs are the pages the user is limited to; null: every page.
	PageIDs apiPageIDs `json:"page_ids"`
}

// apiPageIDs is page_ids in an answer: the ids, or null for every page.
type apiPageIDs []string

// pageIDStrings is page_ids as the API writes them: null for every page.
func pageIDStrings(a models.PageSet) apiPageIDs {
	if a.All {
		return nil
	}
	out := make(apiPageIDs, len(a.PageIDs))
	for i, id := range a.PageIDs {
		out[i] = formatAPIID(id)
	}
	return out
}

func userJSON(u *models.User) apiUser {
	out := apiUser{ID: formatAPIID(u.ID), Email: u.Email, Role: string(u.Role), TwoFactor: u.TwoFactor(),
		CreatedAt: formatAPITime(u.CreatedAt), PageIDs: pageIDStrings(u.Access())}
	if u.LastSignInAt != nil {
		at := formatAPITime(*u.LastSignInAt)
		out.LastSignInAt = &at
	}
	return out
}

// apiInvitation is the answer of POST /api/v1/users: the invitation and,
// this once, the link to send.
type apiInvitation struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	Role      string `json:"role"`
	URL       string `json:"url"`
	ExpiresAt string `json:"expires_at"`
	CreatedAt string `json:"created_at"`
	// PageIDs are the pages the invited person will see; null: every page.
	PageIDs apiPageIDs `json:"page_ids"`
}

// invitationBody is the body of POST /api/v1/users.
type invitationBody struct {
	Email   optional[string] `json:"email"`
	Role    optional[string] `json:"role"`
	PageIDs pageIDsField     `json:"page_ids"`
}

// userRoleBody is the body of PATCH /api/v1/users/:id: a new role, new
// pages, or both.
type userRoleBody struct {
	Role    optional[string] `json:"role"`
	PageIDs pageIDsField     `json:"page_ids"`
}

// APIListUsers is GET /api/v1/users: the team, by e-mail.
func (h *Handler) APIListUsers(c echo.Context) error {
	users, err := h.Store.Users(c.Request().Context())
	if err != nil {
		return h.apiFail(c, err, userGone)
	}
	limited, err := h.Store.UsersPageAccess(c.Request().Context())
	if err != nil {
		return h.apiFail(c, err, userGone)
	}
	out := make([]apiUser, len(users))
	for i := range users {
		users[i].PageIDs = limited[users[i].ID]
		out[i] = userJSON(&users[i])
	}
	return c.JSON(http.StatusOK, out)
}

// APIInviteUser is POST /api/v1/users. It invites rather than creates:
// the person chooses their own password through the link in the answer,
// which works once, for 7 days, and is never shown again.
func (h *Handler) APIInviteUser(c echo.Context) error {
	var body invitationBody
	if err := decodeJSON(c, &body); err != nil {
		return h.apiFail(c, err, "")
	}
	var me int64
	if tok := apiToken(c); tok != nil && tok.CreatedByUserID != nil {
		me = *tok.CreatedByUserID
	}
	pageIDs, err := body.PageIDs.pageIDs()
	if err != nil {
		return h.apiFail(c, err, "")
	}
	inv, plain, err := h.Store.CreateInvitation(c.Request().Context(),
		models.InvitationInput{Email: body.Email.Value, Role: models.Role(body.Role.Value), PageIDs: pageIDs}, me)
	if err != nil {
		return h.apiFail(c, err, "")
	}
	return c.JSON(http.StatusCreated, apiInvitation{ID: formatAPIID(inv.ID), Email: inv.Email, Role: string(inv.Role),
		URL: h.publicURL(c, "/invite/"+plain), ExpiresAt: formatAPITime(inv.ExpiresAt), CreatedAt: formatAPITime(inv.CreatedAt),
		PageIDs: pageIDStrings(inv.Access())})
}

// APISetUserRole is PATCH /api/v1/users/:id: {"role": "operator"},
// {"page_ids": ["2"]} (null: every page), or both (the role first).
func (h *Handler) APISetUserRole(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", userGone, "")
	}
	var body userRoleBody
	if err := decodeJSON(c, &body); err != nil {
		return h.apiFail(c, err, "")
	}
	if !body.Role.Set && !body.PageIDs.Set {
		return serve.JSONError(c, http.StatusUnprocessableEntity, "validation_failed",
			"Send the new role (viewer, operator or admin), the user's page_ids (null for every page), or both.", "role")
	}
	pageIDs, err := body.PageIDs.pageIDs()
	if err != nil {
		return h.apiFail(c, err, "")
	}
	ctx := c.Request().Context()
	if _, err := h.Store.User(ctx, id); err != nil {
		return h.apiFail(c, err, userGone)
	}
	// A bad role is refused before anything is saved.
	if body.Role.Set && !models.Role(body.Role.Value).Valid() {
		return h.apiFail(c, &models.ValidationError{Fields: map[string]string{"role": "Choose a role: viewer, operator or admin."}}, "")
	}
	// Pages and role change together or not at all: a refused role
	// leaves the pages as they were.
	err = h.Store.InTransaction(ctx, func(ctx context.Context) error {
		if body.PageIDs.Set {
			if _, err := h.Store.SetUserPages(ctx, id, models.PageSet{All: pageIDs == nil, PageIDs: pageIDs}); err != nil {
				return err
			}
		}
		if body.Role.Set {
			if _, err := h.Store.SetUserRole(ctx, id, models.Role(body.Role.Value)); err != nil {
				return err
			}
		}
		return nil
	})
	switch {
	case errors.Is(err, models.ErrLastAllPagesAdmin):
		return serve.JSONError(c, http.StatusConflict, "last_admin", lastAllPagesAdminMessage, "page_ids")
	case errors.Is(err, models.ErrLastAdmin):
		return serve.JSONError(c, http.StatusConflict, "last_admin", lastAdminMessage, "role")
	case err != nil:
		return h.apiFail(c, err, userGone)
	}
	u, err := h.Store.User(ctx, id)
	if err != nil {
		return h.apiFail(c, err, userGone)
	}
	return c.JSON(http.StatusOK, userJSON(u))
}

// APIRemoveUser is DELETE /api/v1/users/:id: their sessions end and
// their API tokens are revoked at once.
func (h *Handler) APIRemoveUser(c echo.Context) error {
	if err := decodeNoFields(c); err != nil {
		return h.apiFail(c, err, "")
	}
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", userGone, "")
	}
	err := h.Store.RemoveUser(c.Request().Context(), id)
	if errors.Is(err, models.ErrLastAdmin) {
		return serve.JSONError(c, http.StatusConflict, "last_admin", lastAdminMessage, "")
	}
	if err != nil {
		return h.apiFail(c, err, userGone)
	}
	return c.NoContent(http.StatusNoContent)
}
