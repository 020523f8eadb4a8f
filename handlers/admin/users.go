package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/heraldstatus/herald/views/layout"
	"github.com/labstack/echo/v4"
)

// keyNewInvitation holds "id|link secret" of an invitation just created,
// in the encrypted session, until the page that shows the link once
// reads and forgets it.
const keyNewInvitation = "new_invitation"

// resetTwoFactorRoute is where an admin resets a user's two-factor
// sign-in (registered with the two-factor screens).
const resetTwoFactorRoute = "/admin/users/:id/reset-2fa"

func userPath(id int64) string       { return "/admin/users/" + strconv.FormatInt(id, 10) }
func invitationPath(id int64) string { return "/admin/invitations/" + strconv.FormatInt(id, 10) }

// lastAdminProblem is what the Users screen says when a change would
// leave no admin who may see every page.
func lastAdminProblem(email string) string {
	return fmt.Sprintf("%s is the only admin of every page. Make someone else an admin of every page first: Herald always keeps one.", email)
}

// roleOptions are the roles for selects, least powerful first.
func roleOptions() []layout.Option {
	var out []layout.Option
	for _, r := range models.Roles {
		out = append(out, layout.Option{Value: string(r), Label: r.Label()})
	}
	return out
}

// ListUsers shows the team, the pending invitations and the invite form.
func (h *Handler) ListUsers(c echo.Context) error {
	return h.renderUsers(c, http.StatusOK, views.AdminUsersView{InviteRole: string(models.RoleViewer)})
}

// renderUsers draws the Users screen around v's form state and problem.
func (h *Handler) renderUsers(c echo.Context, status int, v views.AdminUsersView) error {
	ctx := c.Request().Context()
	ch, err := h.adminChrome(c, "Users", "users")
	if err != nil {
		return err
	}
	users, err := h.Store.Users(ctx)
	if err != nil {
		return err
	}
	invitations, err := h.Store.PendingInvitations(ctx)
	if err != nil {
		return err
	}
	limited, err := h.Store.UsersPageAccess(ctx)
	if err != nil {
		return err
	}
	pages, err := h.Store.Pages(ctx)
	if err != nil {
		return err
	}
	names := make(map[int64]string, len(pages))
	for _, p := range pages {
		names[p.ID] = p.Name
	}
	if v.InvitePages.Pages == nil { // not re-shown after an error: every page to start with
		v.InvitePages = pageAccessField(pages, models.AllPagesAccess(), "")
	}
	now := h.Now()
	me := serve.CurrentUser(c)
	v.Chrome = ch
	v.Roles = roleOptions()
	v.RoleHelp = nil
	for _, r := range models.Roles {
		v.RoleHelp = append(v.RoleHelp, layout.Option{Value: r.Label(), Label: r.Describe()})
	}
	for i := range users {
		u := &users[i]
		row := views.UserRow{ID: u.ID, Email: u.Email, Role: string(u.Role), RoleLabel: u.Role.Label(),
			TwoFactor: u.TwoFactor(), LastSignIn: serve.TimePtr(u.LastSignInAt), You: me != nil && me.ID == u.ID,
			RoleURL: userPath(u.ID) + "/role", RemoveURL: userPath(u.ID) + "/remove", PagesURL: userPath(u.ID) + "/pages",
			Pages: accessLabel(models.PageSet{All: u.AllPages, PageIDs: limited[u.ID]}, names)}
		if u.LastSignInAt != nil {
			row.LastSignInAgo = relativeTime(now, *u.LastSignInAt)
		}
		// The button appears once the two-factor screens register their
		// reset route, for users who have two-factor sign-in on.
		if u.TwoFactor() && ch.Allows("POST "+resetTwoFactorRoute) {
			row.ResetTwoFactorURL = userPath(u.ID) + "/reset-2fa"
		}
		v.Rows = append(v.Rows, row)
	}
	for i := range invitations {
		inv := &invitations[i]
		v.Invitations = append(v.Invitations, views.InvitationRow{ID: inv.ID, Email: inv.Email, RoleLabel: inv.Role.Label(),
			Expires: layout.Time{At: inv.ExpiresAt}, ExpiresIn: relativeTime(now, inv.ExpiresAt),
			Expired: inv.State(now) == models.InvitationExpired, RevokeURL: invitationPath(inv.ID) + "/revoke",
			Pages: accessLabel(inv.Access(), names)})
	}
	return serve.Render(c, status, views.AdminUsersPage(v))
}

// CreateInvitation makes an invitation link and sends the admin to the
// page that shows it, once.
func (h *Handler) CreateInvitation(c echo.Context) error {
	in := models.InvitationInput{Email: c.FormValue("email"), Role: models.Role(c.FormValue("role"))}
	var me int64
	if u := serve.CurrentUser(c); u != nil {
		me = u.ID
	}
	access, bad := pageAccessForm(c)
	if !access.All {
		in.PageIDs = access.PageIDs
	}
	var inv *models.Invitation
	var plain string
	err := error(&models.ValidationError{Fields: map[string]string{"page_ids": bad}})
	if bad == "" {
		inv, plain, err = h.Store.CreateInvitation(c.Request().Context(), in, me)
	}
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		pages, perr := h.Store.Pages(c.Request().Context())
		if perr != nil {
			return perr
		}
		return h.renderUsers(c, http.StatusUnprocessableEntity, views.AdminUsersView{
			InviteEmail: in.Email, InviteRole: string(in.Role), Errors: ve.Fields,
			InvitePages: pageAccessField(pages, access, ve.Fields["page_ids"])})
	case err != nil:
		return err
	}
	h.Session(c).Values[keyNewInvitation] = strconv.FormatInt(inv.ID, 10) + "|" + plain
	h.SaveSessionAfterChange(c)
	return serve.SeeOther(c, invitationPath(inv.ID)+"/created")
}

// ShowCreatedInvitation shows a new invitation's link the first time it
// is asked for; afterwards it is gone for good.
func (h *Handler) ShowCreatedInvitation(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	sess := h.Session(c)
	held, _ := sess.Values[keyNewInvitation].(string)
	heldID, plain, _ := strings.Cut(held, "|")
	if heldID != strconv.FormatInt(id, 10) || plain == "" {
		return h.RedirectWithFlash(c, "/admin/users", "warning",
			"An invitation link is shown only once, right after it is created. If you did not copy it, revoke the invitation and create another.")
	}
	delete(sess.Values, keyNewInvitation)
	inv, err := h.Store.Invitation(c.Request().Context(), id)
	if err != nil {
		return err
	}
	ch, err := h.adminChrome(c, "Invitation created", "users") // saves the session: the link leaves the cookie
	if err != nil {
		return err
	}
	ch.Script = h.Assets.URL("js/copy.js")
	base := strings.TrimRight(h.Store.BaseURL(), "/")
	if base == "" {
		base = c.Scheme() + "://" + c.Request().Host
	}
	return serve.Render(c, http.StatusOK, views.InvitationCreatedPage(views.InvitationCreatedView{
		Chrome: ch, Email: inv.Email, RoleLabel: strings.ToLower(inv.Role.Label()),
		Link: base + "/invite/" + plain, Expires: layout.Time{At: inv.ExpiresAt},
	}))
}

// RevokeInvitation stops an invitation link from working.
func (h *Handler) RevokeInvitation(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	inv, err := h.Store.RevokeInvitation(c.Request().Context(), id)
	if errors.Is(err, models.ErrInvitationUsed) {
		return h.renderUsers(c, http.StatusConflict, views.AdminUsersView{InviteRole: string(models.RoleViewer),
			Problem: "That invitation was already accepted. To take the access back, remove the user."})
	}
	if err != nil {
		return err
	}
	return h.RedirectWithFlash(c, "/admin/users", "success", fmt.Sprintf("Invitation of %s revoked: its link no longer works.", inv.Email))
}

// SetUserRole changes a team member's role.
func (h *Handler) SetUserRole(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	target, err := h.Store.User(ctx, id)
	if err != nil {
		return err
	}
	role, err := models.ParseRole(c.FormValue("role"))
	if err != nil {
		return h.renderUsers(c, http.StatusUnprocessableEntity, views.AdminUsersView{InviteRole: string(models.RoleViewer),
			Problem: "Choose a role for " + target.Email + ": viewer, operator or admin."})
	}
	u, err := h.Store.SetUserRole(ctx, id, role)
	if errors.Is(err, models.ErrLastAdmin) {
		return h.renderUsers(c, http.StatusConflict, views.AdminUsersView{InviteRole: string(models.RoleViewer),
			Problem: lastAdminProblem(target.Email)})
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("%s is now %s.", u.Email, withArticle(u.Role))
	if me := serve.CurrentUser(c); me != nil && me.ID == u.ID && !u.Can(models.RoleAdmin) {
		// The Users screen is for admins: you just left it.
		return h.RedirectWithFlash(c, "/admin", "success", "You are now "+withArticle(u.Role)+".")
	}
	return h.RedirectWithFlash(c, "/admin/users", "success", msg)
}

// withArticle is "an admin", "a viewer".
func withArticle(r models.Role) string {
	word := strings.ToLower(r.Label())
	if strings.ContainsAny(word[:1], "aeiou") {
		return "an " + word
	}
	return "a " + word
}

// ConfirmRemoveUser asks before removing a team member.
func (h *Handler) ConfirmRemoveUser(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	u, err := h.Store.User(c.Request().Context(), id)
	if err != nil {
		return err
	}
	ch, err := h.adminChrome(c, "Remove "+u.Email, "users")
	if err != nil {
		return err
	}
	detail := fmt.Sprintf("%s can no longer sign in: their sessions end at once and their API tokens are revoked. "+
		"What they did stays in the audit log. To let them back, invite them again.", u.Email)
	if me := serve.CurrentUser(c); me != nil && me.ID == u.ID {
		detail = "This is your own account: you are signed out at once and your API tokens are revoked."
	}
	return serve.Render(c, http.StatusOK, views.ConfirmPage(views.ConfirmView{
		Chrome:   ch,
		Question: fmt.Sprintf("Remove %s?", u.Email),
		Detail:   detail,
		Action:   userPath(id) + "/remove",
		Confirm:  "Remove user",
		Cancel:   "/admin/users",
	}))
}

// RemoveUser removes a team member after confirmation.
func (h *Handler) RemoveUser(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u, err := h.Store.User(ctx, id)
	if err != nil {
		return err
	}
	err = h.Store.RemoveUser(ctx, id)
	if errors.Is(err, models.ErrLastAdmin) {
		return h.renderUsers(c, http.StatusConflict, views.AdminUsersView{InviteRole: string(models.RoleViewer),
			Problem: lastAdminProblem(u.Email)})
	}
	if err != nil {
		return err
	}
	if me := serve.CurrentUser(c); me != nil && me.ID == id {
		// Their session went with the account.
		if err := h.EndSession(c); err != nil {
			return err
		}
		return h.RedirectWithFlash(c, "/login", "success", "Your account was removed.")
	}
	return h.RedirectWithFlash(c, "/admin/users", "success",
		fmt.Sprintf("%s removed: their sessions ended and their API tokens were revoked.", u.Email))
}
