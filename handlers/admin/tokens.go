package admin

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/heraldstatus/herald/views/layout"
	"github.com/labstack/echo/v4"
)

// keyNewToken holds "id|plaintext" of a token just created, in the
// encrypted session, from the create POST until the page that shows it
// once reads and forgets it.
const keyNewToken = "new_token"

// scopeHelp says what each scope allows, beside its checkbox.
var scopeHelp = map[models.Scope]string{
	models.ScopeRead:             "read components, incidents, maintenance, channels and the page settings",
	models.ScopeComponentsWrite:  "create, change and delete components and groups",
	models.ScopeIncidentsWrite:   "open, update, resolve and delete incidents",
	models.ScopeMaintenanceWrite: "schedule, change and cancel maintenance",
	models.ScopeChannelsWrite:    "manage notification channels and replay deliveries",
	models.ScopePageWrite:        "change the status page settings (name, description, logo, accent, time zone)",
	models.ScopeUsersWrite:       "invite, change and remove users (install-wide tokens only)",
	models.ScopeSubscribersRead:  "list the visitors subscribed to the page, with their e-mail addresses",
	models.ScopeSubscribersWrite: "add confirmed e-mail subscribers and remove subscribers",
}

func tokenPath(id int64) string { return "/admin/tokens/" + strconv.FormatInt(id, 10) }

func scopeStrings(t *models.Token) []string {
	var out []string
	for _, s := range t.ScopeList() {
		out = append(out, string(s))
	}
	return out
}

func tokenStateView(s models.TokenState) layout.Status {
	label := string(s)
	return layout.Status{Slug: label, Label: strings.ToUpper(label[:1]) + label[1:]}
}

// allPagesChoice is the token form's value for an install-wide token.
const allPagesChoice = "all"

// tokenPageLabel is what a token reaches, as lists show it.
func tokenPageLabel(t *models.Token, names map[int64]string) string {
	if t.AllPages {
		return "All pages"
	}
	return names[t.PageID]
}

// pageNames maps the ids of the pages the user may see to their names.
func (h *Handler) pageNames(c echo.Context) (map[int64]string, []models.Page, error) {
	pages, err := h.userPages(c)
	if err != nil {
		return nil, nil, err
	}
	names := make(map[int64]string, len(pages))
	for _, p := range pages {
		names[p.ID] = p.Name
	}
	return names, pages, nil
}

// tokenPageOptions are the pages a token may be made for: the user's
// pages, and all pages for a user who may see every page.
func tokenPageOptions(c echo.Context, pages []models.Page) []layout.Option {
	var out []layout.Option
	for _, p := range pages {
		out = append(out, layout.Option{Value: strconv.FormatInt(p.ID, 10), Label: p.Name})
	}
	if userAccess(c).All {
		out = append(out, layout.Option{Value: allPagesChoice, Label: "All pages (install-wide)"})
	}
	return out
}

// tokenPageChoice reads the form's page: "all", a page id, or (absent)
// the page being managed. A malformed value becomes page 0, which the
// store refuses with a message under the field.
func tokenPageChoice(c echo.Context) (page int64, all bool, raw string) {
	raw = strings.TrimSpace(c.FormValue("page"))
	switch raw {
	case "":
		return pageID(c), false, strconv.FormatInt(pageID(c), 10)
	case allPagesChoice:
		return models.DefaultPageID, true, raw
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, false, raw
	}
	return id, false, raw
}

// managedToken loads token id when the user manages it (TokensFor):
// another's is not found.
func (h *Handler) managedToken(c echo.Context, id int64) (*models.Token, error) {
	tok, err := h.Store.Token(c.Request().Context(), id)
	if err != nil {
		return nil, err
	}
	if !tok.ManagedBy(userAccess(c)) {
		return nil, echo.NewHTTPError(http.StatusNotFound)
	}
	return tok, nil
}

// ListTokens shows the API tokens of the pages the admin may see, each
// with its page: every token for an admin of every page.
func (h *Handler) ListTokens(c echo.Context) error {
	ch, err := h.adminChrome(c, "API tokens", "tokens")
	if err != nil {
		return err
	}
	tokens, err := h.Store.TokensFor(c.Request().Context(), userAccess(c))
	if err != nil {
		return err
	}
	names, _, err := h.pageNames(c)
	if err != nil {
		return err
	}
	users, err := h.Store.Users(c.Request().Context())
	if err != nil {
		return err
	}
	owners := map[int64]string{}
	for _, u := range users {
		owners[u.ID] = u.Email
	}
	now := h.Now()
	v := views.AdminTokensView{Chrome: ch}
	for i := range tokens {
		t := &tokens[i]
		row := views.TokenRow{ID: t.ID, Name: t.Name, Display: t.Display(), Scopes: scopeStrings(t),
			Expires: serve.TimePtr(t.ExpiresAt), LastUsed: serve.TimePtr(t.LastUsedAt), Created: layout.Time{At: t.CreatedAt},
			State: tokenStateView(t.State(now)), Page: tokenPageLabel(t, names)}
		if t.CreatedByUserID != nil {
			row.Owner = owners[*t.CreatedByUserID]
		}
		if t.LastUsedAt != nil {
			row.LastUsedAgo = relativeTime(now, *t.LastUsedAt)
		}
		v.Rows = append(v.Rows, row)
	}
	return serve.Render(c, http.StatusOK, views.AdminTokensPage(v))
}

// NewToken shows the new-token form, for the page being managed; read is
// ticked to start with.
func (h *Handler) NewToken(c echo.Context) error {
	return h.renderTokenForm(c, http.StatusOK, views.TokenFormView{Page: strconv.FormatInt(pageID(c), 10)}, []models.Scope{models.ScopeRead})
}

func (h *Handler) renderTokenForm(c echo.Context, status int, v views.TokenFormView, picked []models.Scope) error {
	ch, err := h.adminChrome(c, "New API token", "tokens")
	if err != nil {
		return err
	}
	_, pages, err := h.pageNames(c)
	if err != nil {
		return err
	}
	v.Chrome = ch
	v.Pages = tokenPageOptions(c, pages)
	v.Scopes = nil
	for _, s := range models.Scopes {
		v.Scopes = append(v.Scopes, views.ScopeChoice{Value: string(s), Help: scopeHelp[s], Checked: slices.Contains(picked, s)})
	}
	return serve.Render(c, status, views.TokenFormPage(v))
}

// CreateToken saves a new token and sends the admin to the page that
// shows it, once.
func (h *Handler) CreateToken(c echo.Context) error {
	v := views.TokenFormView{Name: c.FormValue("name"), ExpiresAt: strings.TrimSpace(c.FormValue("expires_at"))}
	in, picked, badExpiry, err := tokenForm(c)
	if err != nil {
		return err
	}
	page, all, raw := tokenPageChoice(c)
	in.AllPages, v.Page = all, raw
	if badExpiry != "" {
		v.Errors = layout.FormErrors{"expires_at": badExpiry}
		return h.renderTokenForm(c, http.StatusUnprocessableEntity, v, picked)
	}
	var userID int64
	if u := serve.CurrentUser(c); u != nil {
		userID = u.ID
	}
	tok, plain, err := h.Store.CreateToken(c.Request().Context(), page, in, userID)
	if err != nil {
		var ve *models.ValidationError
		if errors.As(err, &ve) {
			v.Errors = ve.Fields
			return h.renderTokenForm(c, http.StatusUnprocessableEntity, v, picked)
		}
		return err
	}
	sess := h.Session(c)
	sess.Values[keyNewToken] = strconv.FormatInt(tok.ID, 10) + "|" + plain
	// Should the cookie fail, the token exists all the same; its page then
	// says to revoke it and create another.
	h.SaveSessionAfterChange(c)
	return serve.SeeOther(c, tokenPath(tok.ID)+"/created")
}

// ShowCreatedToken shows a new token's plaintext the first time it is
// asked for; afterwards the plaintext is gone for good.
func (h *Handler) ShowCreatedToken(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	sess := h.Session(c)
	held, _ := sess.Values[keyNewToken].(string)
	heldID, plain, _ := strings.Cut(held, "|")
	if heldID != strconv.FormatInt(id, 10) || plain == "" {
		return h.RedirectWithFlash(c, "/admin/tokens", "warning",
			"A token is shown only once, right after it is created. If you did not copy it, revoke it and create another.")
	}
	delete(sess.Values, keyNewToken)
	tok, err := h.managedToken(c, id)
	if err != nil {
		return err
	}
	ch, err := h.adminChrome(c, "Token created", "tokens") // saves the session: the plaintext leaves the cookie
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
	}))
}

// ConfirmRevokeToken asks before revoking.
func (h *Handler) ConfirmRevokeToken(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	tok, err := h.managedToken(c, id)
	if err != nil {
		return err
	}
	ch, err := h.adminChrome(c, "Revoke "+tok.Name, "tokens")
	if err != nil {
		return err
	}
	return serve.Render(c, http.StatusOK, views.ConfirmPage(views.ConfirmView{
		Chrome:   ch,
		Question: fmt.Sprintf("Revoke “%s”?", tok.Name),
		Detail:   fmt.Sprintf("Requests with %s are refused from now on. Whatever uses it stops working. This cannot be undone.", tok.Display()),
		Action:   tokenPath(id) + "/revoke",
		Confirm:  "Revoke token",
		Cancel:   "/admin/tokens",
	}))
}

// RevokeToken revokes after confirmation.
func (h *Handler) RevokeToken(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	tok, err := h.managedToken(c, id)
	if err != nil {
		return err
	}
	if err := h.Store.RevokeToken(c.Request().Context(), id); err != nil {
		return err
	}
	return h.RedirectWithFlash(c, "/admin/tokens", "success", fmt.Sprintf("Token “%s” revoked.", tok.Name))
}

// tokenForm reads a token form: the name, the scopes ticked and the
// expiry date. badExpiry is the field's error when the date is not one.
func tokenForm(c echo.Context) (in models.TokenInput, picked []models.Scope, badExpiry string, err error) {
	form, err := c.FormParams()
	if err != nil {
		return in, nil, "", err
	}
	for _, s := range form["scopes"] {
		picked = append(picked, models.Scope(s))
	}
	in = models.TokenInput{Name: c.FormValue("name"), Scopes: picked}
	if e := strings.TrimSpace(c.FormValue("expires_at")); e != "" {
		day, err := time.Parse(time.DateOnly, e)
		if err != nil {
			return in, picked, "Enter a date such as 2026-12-31, or leave it empty.", nil
		}
		in.ExpiresAt = &day
	}
	return in, picked, "", nil
}
