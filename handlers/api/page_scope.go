package api

import (
	"errors"
	"strconv"

	"github.com/heraldstatus/herald/models"
	"github.com/labstack/echo/v4"
)

// tokenReaches says whether the request's token may reach the objects of
// page pageID: a token reaches its own page only (the admin's Tokens
// screen makes tokens of the first page), so nothing of one page ever
// shows through another page's token.
func tokenReaches(c echo.Context, pageID int64) bool {
	t := apiToken(c)
	return t.PageID == pageID
}

// unknownPage is the 422 for a page_id naming no page the token reaches.
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

// listPage is the page a list endpoint reads: ?page_id=, else the
// token's page (the first page, for the tokens the admin makes).
func (h *Handler) listPage(c echo.Context) (int64, error) {
	raw, ok := c.QueryParams()["page_id"]
	if !ok {
		return apiToken(c).PageID, nil
	}
	id, err := strconv.ParseInt(raw[0], 10, 64)
	if err != nil || len(raw) != 1 {
		return 0, unknownPage()
	}
	return h.knownPage(c, id)
}

// createPage is the page a create endpoint writes to: the body's
// page_id, else the token's page (the first page).
func (h *Handler) createPage(c echo.Context, v optional[apiID]) (int64, error) {
	if !v.Set {
		return apiToken(c).PageID, nil
	}
	return h.knownPage(c, int64(v.Value))
}

// noPageMove is the 422 of a PATCH carrying page_id: objects do not move
// between pages.
func noPageMove(v optional[apiID]) error {
	if !v.Set {
		return nil
	}
	return &models.ValidationError{Fields: map[string]string{"page_id": "page_id is set when creating: an object does not move to another page."}}
}
