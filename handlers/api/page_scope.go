package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	"github.com/labstack/echo/v4"
)

// tokenReaches says whether the request's token may reach the objects of
// page pageID: a page token its own page, an install-wide token every
// page, and either only while its owner may see the page
// (models.Token.Reaches), so nothing of one page ever shows through
// another page's token, nor through the token of a user limited to
// other pages.
func tokenReaches(c echo.Context, pageID int64) bool {
	return apiToken(c).Reaches(pageID)
}

// unknownPage is the 422 for a page_id naming no page the token reaches:
// the same answer for a page that exists and one that does not, so a
// token never learns which other pages there are.
func unknownPage() error {
	return &models.ValidationError{Fields: map[string]string{"page_id": "No status page has this id; GET /api/v1/pages lists them."}}
}

// knownPage returns id when it names a page the token reaches, else the
// 422 of unknownPage.
func (h *Handler) knownPage(c echo.Context, id int64) (int64, error) {
	if id <= 0 || !tokenReaches(c, id) {
		return 0, unknownPage()
	}
	if _, err := h.Store.Page(c.Request().Context(), id); err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return 0, unknownPage()
		}
		return 0, err
	}
	return id, nil
}

// errNoPage is the 403 of a token whose owner may see none of the
// pages it was made for.
var errNoPage = &serve.Problem{Status: http.StatusForbidden, Code: "forbidden",
	Message: "This token's owner may no longer see its page: the token reaches no page. Make a token for one of their pages."}

// defaultPage is the page an endpoint uses when the request names none:
// the token's page; for an install-wide token, the first page (the first
// its owner may see).
func defaultPage(c echo.Context) (int64, error) {
	id, ok := apiToken(c).DefaultPage()
	if !ok {
		return 0, errNoPage
	}
	return id, nil
}

// listPage is the page a list endpoint reads: ?page_id=, else
// defaultPage.
func (h *Handler) listPage(c echo.Context) (int64, error) {
	raw, ok := c.QueryParams()["page_id"]
	if !ok {
		return defaultPage(c)
	}
	id, err := strconv.ParseInt(raw[0], 10, 64)
	if err != nil || len(raw) != 1 {
		return 0, unknownPage()
	}
	return h.knownPage(c, id)
}

// createPage is the page a create endpoint writes to: the body's
// page_id, else defaultPage.
func (h *Handler) createPage(c echo.Context, v optional[apiID]) (int64, error) {
	if !v.Set {
		return defaultPage(c)
	}
	return h.knownPage(c, int64(v.Value))
}

// InstallWide lets through only install-wide tokens of users who may see
// every page (models.Token.InstallWide): users and the list of pages
// belong to the whole install. It runs after Allow.
func (h *Handler) InstallWide(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !apiToken(c).InstallWide() {
			return serve.JSONError(c, http.StatusForbidden, "forbidden",
				"This endpoint manages the whole install: it needs an install-wide token (“All pages”) of a user who may see every page.", "")
		}
		return next(c)
	}
}

// noPageMove is the 422 of a PATCH carrying page_id: objects do not move
// between pages.
func noPageMove(v optional[apiID]) error {
	if !v.Set {
		return nil
	}
	return &models.ValidationError{Fields: map[string]string{"page_id": "page_id is set when creating: an object does not move to another page."}}
}
