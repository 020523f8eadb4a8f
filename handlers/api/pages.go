package api

import (
	"net/http"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	"github.com/labstack/echo/v4"
)

// apiPageSummary is one status page in GET /api/v1/pages: its id, name,
// slug and address. Its settings are GET /api/v1/page's.
type apiPageSummary struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Slug      string `json:"slug"`
	URL       string `json:"url"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

func (h *Handler) pageSummaryJSON(c echo.Context, p *models.Page) apiPageSummary {
	path := "/"
	if p.ID != models.DefaultPageID {
		path = "/s/" + p.Slug + "/"
	}
	return apiPageSummary{ID: formatAPIID(p.ID), Name: p.Name, Slug: p.Slug, URL: h.publicURL(c, path),
		CreatedAt: formatAPITime(p.CreatedAt), UpdatedAt: formatAPITime(p.UpdatedAt)}
}

// pagesBody is the body of POST and PATCH /api/v1/pages, bare or inside
// the wrapper {"page": {…}}. On PATCH, fields left out keep their value.
type pagesBody struct {
	Name optional[string] `json:"name"`
	Slug optional[string] `json:"slug"`
}

// APIListPages is GET /api/v1/pages: the status pages the token
// reaches, the first first: every page for an install-wide token, its
// own page for a page token.
func (h *Handler) APIListPages(c echo.Context) error {
	pages, err := h.Store.Pages(c.Request().Context())
	if err != nil {
		return h.apiFail(c, err, pageGone)
	}
	out := []apiPageSummary{}
	for i := range pages {
		if tokenReaches(c, pages[i].ID) {
			out = append(out, h.pageSummaryJSON(c, &pages[i]))
		}
	}
	return c.JSON(http.StatusOK, out)
}

// APICreatePage is POST /api/v1/pages.
func (h *Handler) APICreatePage(c echo.Context) error {
	var body pagesBody
	if err := decodeWrapped(c, "page", &body); err != nil {
		return h.apiFail(c, err, "")
	}
	p, err := h.Store.CreatePage(c.Request().Context(), models.PageNameInput{Name: body.Name.Value, Slug: body.Slug.Value})
	if err != nil {
		return h.apiFail(c, err, "")
	}
	c.Response().Header().Set("Location", apiPrefix+"/pages/"+formatAPIID(p.ID))
	return c.JSON(http.StatusCreated, h.pageSummaryJSON(c, p))
}

// APIUpdatePages is PATCH /api/v1/pages/:id: renames a page or changes
// its slug.
func (h *Handler) APIUpdatePages(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", pageGone, "")
	}
	var body pagesBody
	if err := decodeWrapped(c, "page", &body); err != nil {
		return h.apiFail(c, err, "")
	}
	ctx := c.Request().Context()
	p, err := h.Store.Page(ctx, id)
	if err != nil {
		return h.apiFail(c, err, pageGone)
	}
	if body.Name.Set || body.Slug.Set {
		in := models.PageNameInput{Name: p.Name, Slug: p.Slug}
		if body.Name.Set {
			in.Name = body.Name.Value
		}
		if body.Slug.Set {
			in.Slug = body.Slug.Value
		}
		if p, err = h.Store.RenamePage(ctx, id, in); err != nil {
			return h.apiFail(c, err, pageGone)
		}
	}
	return c.JSON(http.StatusOK, h.pageSummaryJSON(c, p))
}

// APIDeletePage is DELETE /api/v1/pages/:id[?everything=true]: 409 for
// the first page, for a page with anything on it without everything, and
// while notifications of the page are queued.
func (h *Handler) APIDeletePage(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", pageGone, "")
	}
	everything := false
	switch c.QueryParam("everything") {
	case "", "false":
	case "true":
		everything = true
	default:
		return serve.JSONError(c, http.StatusUnprocessableEntity, "validation_failed", "everything is true or false.", "everything")
	}
	if err := h.Store.DeletePage(c.Request().Context(), id, everything); err != nil {
		return h.apiFail(c, err, pageGone)
	}
	return c.NoContent(http.StatusNoContent)
}
