package admin

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/heraldstatus/herald/views/layout"
	"github.com/labstack/echo/v4"
)

// Own API tokens: anyone signed in makes and revokes their own, with at
// most the scopes of their role. Admins see everyone's under
// /admin/tokens.

const ownTokensPath = "/admin/account/tokens"

// ListOwnTokens shows the user's tokens and the form for another; read
// is ticked to start with.
func (h *Handler) ListOwnTokens(c echo.Context) error {
	return h.renderOwnTokens(c, http.StatusOK, views.AccountTokensView{}, []models.Scope{models.ScopeRead})
}

func (h *Handler) renderOwnTokens(c echo.Context, status int, v views.AccountTokensView, picked []models.Scope) error {
	u := serve.CurrentUser(c)
	tokens, err := h.Store.UserTokens(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	ch, err := h.adminChrome(c, "Your API tokens", "account")
	if err != nil {
		return err
	}
	names, pages, err := h.pageNames(c)
	if err != nil {
		return err
	}
	v.Chrome, v.Role = ch, strings.ToLower(u.Role.Label())
	v.Pages = tokenPageOptions(c, pages)
	if v.Page == "" {
		v.Page = strconv.FormatInt(pageID(c), 10)
	}
	now := h.Now()
	for i := range tokens {
		t := &tokens[i]
		row := views.OwnTokenRow{ID: t.ID, Name: t.Name, Display: t.Display(), Expires: serve.TimePtr(t.ExpiresAt),
			LastUsed: serve.TimePtr(t.LastUsedAt), Created: layout.Time{At: t.CreatedAt}, State: tokenStateView(t.State(now)),
			Page: tokenPageLabel(t, names)}
		if row.Page == "" { // a page the user may no longer see: the token reaches nothing
			row.Page = "No page of yours"
		}
		for _, s := range t.ScopeList() {
			row.Scopes = append(row.Scopes, views.OwnScope{Name: string(s), Effective: models.RoleAllowsScope(u.Role, s)})
		}
		if t.LastUsedAt != nil {
			row.LastUsedAgo = relativeTime(now, *t.LastUsedAt)
		}
		v.Rows = append(v.Rows, row)
	}
	v.Scopes = nil
	for _, s := range models.ScopesFor(u.Role) {
		v.Scopes = append(v.Scopes, views.ScopeChoice{Value: string(s), Help: scopeHelp[s], Checked: slices.Contains(picked, s)})
	}
	return serve.Render(c, status, views.AccountTokensPage(v))
}

// CreateOwnToken makes a token for the user and shows it, once. The
// store refuses a scope beyond the user's role, whatever the form sent.
func (h *Handler) CreateOwnToken(c echo.Context) error {
	v := views.AccountTokensView{Name: c.FormValue("name"), ExpiresAt: strings.TrimSpace(c.FormValue("expires_at"))}
	in, picked, badExpiry, err := tokenForm(c)
	if err != nil {
		return err
	}
	page, all, raw := tokenPageChoice(c)
	in.AllPages, v.Page = all, raw
	if badExpiry != "" {
		v.Errors = layout.FormErrors{"expires_at": badExpiry}
		return h.renderOwnTokens(c, http.StatusUnprocessableEntity, v, picked)
	}
	tok, plain, err := h.Store.CreateToken(c.Request().Context(), page, in, serve.CurrentUser(c).ID)
	if err != nil {
		var ve *models.ValidationError
		if errors.As(err, &ve) {
			v.Errors = ve.Fields
			return h.renderOwnTokens(c, http.StatusUnprocessableEntity, v, picked)
		}
		return err
	}
	sess := h.Session(c)
	sess.Values[keyNewToken] = strconv.FormatInt(tok.ID, 10) + "|" + plain
	h.SaveSessionAfterChange(c)
	return serve.SeeOther(c, fmt.Sprintf("%s/%d/created", ownTokensPath, tok.ID))
}

// ShowCreatedOwnToken shows a new token's plaintext the first time it
// is asked for, to the session that made it.
func (h *Handler) ShowCreatedOwnToken(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	sess := h.Session(c)
	held, _ := sess.Values[keyNewToken].(string)
	heldID, plain, _ := strings.Cut(held, "|")
	if heldID != strconv.FormatInt(id, 10) || plain == "" {
		return h.RedirectWithFlash(c, ownTokensPath, "warning",
			"A token is shown only once, right after it is created. If you did not copy it, revoke it and create another.")
	}
	delete(sess.Values, keyNewToken)
	tok, err := h.Store.UserToken(c.Request().Context(), serve.CurrentUser(c).ID, id)
	if err != nil {
		return err
	}
	ch, err := h.adminChrome(c, "Token created", "account") // saves the session: the plaintext leaves the cookie
	if err != nil {
		return err
	}
	ch.Script = h.Assets.URL("js/copy.js")
	base := h.Store.BaseURL()
	if base == "" {
		base = c.Scheme() + "://" + c.Request().Host
	}
	return serve.Render(c, http.StatusOK, views.TokenCreatedPage(views.TokenCreatedView{
		Chrome:  ch,
		Name:    tok.Name,
		Token:   plain,
		Scopes:  scopeStrings(tok),
		Expires: serve.TimePtr(tok.ExpiresAt),
		Example: fmt.Sprintf("curl -H \"Authorization: Bearer %s\" %s/api/v1/components", plain, base),
		Back:    ownTokensPath,
	}))
}

// RevokeOwnToken revokes one of the user's tokens; the list asks first.
func (h *Handler) RevokeOwnToken(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	tok, err := h.Store.RevokeUserToken(c.Request().Context(), serve.CurrentUser(c).ID, id)
	if err != nil {
		return err
	}
	return h.RedirectWithFlash(c, ownTokensPath, "success", fmt.Sprintf("Token “%s” revoked.", tok.Name))
}
