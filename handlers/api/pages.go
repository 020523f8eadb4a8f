package api

import (
	"context"
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

// apiPageDetail is one status page in GET and PATCH /api/v1/pages/{id}:
// its summary, its own host name and who may read it.
type apiPageDetail struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Slug      string `json:"slug"`
	URL       string `json:"url"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
	// Domain is the page's own host name, "" for none.
	Domain string    `json:"domain"`
	Access apiAccess `json:"access"`
}

// apiAccess is who may read a page. The password is write-only:
// has_password says whether there is one.
type apiAccess struct {
	Visibility   string   `json:"visibility"`
	HasPassword  bool     `json:"has_password"`
	Team         bool     `json:"team"`
	EmailDomains []string `json:"email_domains"`
	IPAllowlist  []string `json:"ip_allowlist"`
}

func accessJSON(a models.PageAccess) apiAccess {
	out := apiAccess{Visibility: "public", HasPassword: a.HasPassword(), Team: a.Team,
		EmailDomains: append([]string{}, a.EmailDomains...), IPAllowlist: []string{}}
	if !a.Public {
		out.Visibility = "private"
	}
	for _, p := range a.IPAllowlist {
		out.IPAllowlist = append(out.IPAllowlist, p.String())
	}
	return out
}

// pageDetailJSON loads what GET /api/v1/pages/{id} shows of p.
func (h *Handler) pageDetailJSON(c echo.Context, p *models.Page) (apiPageDetail, error) {
	ctx := c.Request().Context()
	ref, err := h.Store.PageRef(ctx, p.ID)
	if err != nil {
		return apiPageDetail{}, err
	}
	a, err := h.Store.PageAccess(ctx, p.ID)
	if err != nil {
		return apiPageDetail{}, err
	}
	sum := h.pageSummaryJSON(c, p)
	return apiPageDetail{ID: sum.ID, Name: sum.Name, Slug: sum.Slug, URL: sum.URL, CreatedAt: sum.CreatedAt, UpdatedAt: sum.UpdatedAt,
		Domain: ref.Domain, Access: accessJSON(a)}, nil
}

// pageCreateBody is the body of POST /api/v1/pages, bare or inside the
// wrapper {"page": {…}}.
type pageCreateBody struct {
	Name optional[string] `json:"name"`
	Slug optional[string] `json:"slug"`
}

// pagesBody is the body of PATCH /api/v1/pages/{id}, bare or inside the
// wrapper {"page": {…}}: fields left out keep their value.
type pagesBody struct {
	Name   optional[string] `json:"name"`
	Slug   optional[string] `json:"slug"`
	Domain optional[string] `json:"domain"`
	Access *accessBody      `json:"access"`
}

// accessBody is the access object of PATCH /api/v1/pages/{id}: fields
// left out keep their value. password "" removes the password.
type accessBody struct {
	Visibility   optional[string]   `json:"visibility"`
	Password     optional[string]   `json:"password"`
	Team         optional[bool]     `json:"team"`
	EmailDomains optional[[]string] `json:"email_domains"`
	IPAllowlist  optional[[]string] `json:"ip_allowlist"`
}

// APIShowPages is GET /api/v1/pages/:id: one page the token reaches,
// with its host name and access settings.
func (h *Handler) APIShowPages(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok || !tokenReaches(c, id) {
		// Another page than the token's is not found: the token does
		// not learn it exists.
		return serve.JSONError(c, http.StatusNotFound, "not_found", pageGone, "")
	}
	p, err := h.Store.Page(c.Request().Context(), id)
	if err != nil {
		return h.apiFail(c, err, pageGone)
	}
	out, err := h.pageDetailJSON(c, p)
	if err != nil {
		return h.apiFail(c, err, pageGone)
	}
	return c.JSON(http.StatusOK, out)
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
	var body pageCreateBody
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

// APIUpdatePages is PATCH /api/v1/pages/:id: renames a page, changes its
// slug, its own host name or who may read it, all or nothing.
func (h *Handler) APIUpdatePages(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", pageGone, "")
	}
	var body pagesBody
	if err := decodeWrapped(c, "page", &body); err != nil {
		return h.apiFail(c, err, "")
	}
	var p *models.Page
	err := h.Store.InTransaction(c.Request().Context(), func(ctx context.Context) error {
		var err error
		if p, err = h.Store.Page(ctx, id); err != nil {
			return err
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
				return err
			}
		}
		if body.Domain.Set {
			if err := h.Store.SetPageDomain(ctx, id, body.Domain.Value); err != nil {
				return err
			}
		}
		if a := body.Access; a != nil {
			cur, err := h.Store.PageAccess(ctx, id)
			if err != nil {
				return err
			}
			in := models.PageAccessInput{Public: cur.Public, Team: cur.Team, EmailDomains: cur.EmailDomains, EmailLinks: h.EmailLinks}
			for _, p := range cur.IPAllowlist {
				in.IPAllowlist = append(in.IPAllowlist, p.String())
			}
			if a.Visibility.Set {
				switch a.Visibility.Value {
				case "public", "private":
					in.Public = a.Visibility.Value == "public"
				default:
					return &models.ValidationError{Fields: map[string]string{"access.visibility": "Use public or private."}}
				}
			}
			if a.Password.Set {
				in.Password, in.RemovePassword = a.Password.Value, a.Password.Value == ""
			}
			if a.Team.Set {
				in.Team = a.Team.Value
			}
			if a.EmailDomains.Set {
				in.EmailDomains = a.EmailDomains.Value
			}
			if a.IPAllowlist.Set {
				in.IPAllowlist = a.IPAllowlist.Value
			}
			if _, err := h.Store.SetPageAccess(ctx, id, in); err != nil {
				return rewriteValidation(err, fieldRewrite{from: "public", to: "access.visibility"},
					fieldRewrite{from: "password", to: "access.password"}, fieldRewrite{from: "team", to: "access.team"},
					fieldRewrite{from: "email_domains", to: "access.email_domains"}, fieldRewrite{from: "ip_allowlist", to: "access.ip_allowlist"})
			}
		}
		return nil
	})
	if err != nil {
		return h.apiFail(c, err, pageGone)
	}
	out, err := h.pageDetailJSON(c, p)
	if err != nil {
		return h.apiFail(c, err, pageGone)
	}
	return c.JSON(http.StatusOK, out)
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
