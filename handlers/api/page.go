package api

import (
	"net/http"

	"github.com/heraldstatus/herald/models"
	"github.com/labstack/echo/v4"
)

const pageGone = "That status page does not exist."

// apiPage is the status page's settings as the API shows them: those of
// Admin → Settings.
type apiPage struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	LogoURL     string `json:"logo_url"`
	AccentColor string `json:"accent_color"`
	TimeZone    string `json:"time_zone"`
	// ImageHosts are the hosts besides Herald whose images messages
	// show; [] when none.
	ImageHosts []string `json:"image_hosts"`
	URL        string   `json:"url"`
	CreatedAt  string   `json:"created_at"`
	UpdatedAt  string   `json:"updated_at"`
}

func (h *Handler) pageJSON(c echo.Context, p *models.Page) apiPage {
	return apiPage{ID: formatAPIID(p.ID), Name: p.Name, Description: p.Description, LogoURL: p.LogoURL,
		AccentColor: p.Accent(), TimeZone: p.TimeZone, ImageHosts: imageHosts(p), URL: h.publicURL(c, "/"),
		CreatedAt: formatAPITime(p.CreatedAt), UpdatedAt: formatAPITime(p.UpdatedAt)}
}

// imageHosts is p's allowed image hosts, [] rather than null when none.
func imageHosts(p *models.Page) []string {
	return append([]string{}, p.ImageHostList()...)
}

// pageBody is the body of PATCH /api/v1/page, bare or inside Statuspage's
// wrapper, {"page": {…}}. Fields left out keep their value; logo_url ""
// removes the logo, image_hosts [] every allowed image host.
type pageBody struct {
	Name        optional[string] `json:"name"`
	Description optional[string] `json:"description"`
	LogoURL     optional[string] `json:"logo_url"`
	AccentColor optional[string] `json:"accent_color"`
	TimeZone    optional[string] `json:"time_zone"`
	// ImageHosts replaces the whole list.
	ImageHosts optional[[]string] `json:"image_hosts"`
}

// APIShowPage is GET /api/v1/page: the settings of the status page
// ?page_id= names (default: the token's page).
func (h *Handler) APIShowPage(c echo.Context) error {
	id, err := h.listPage(c)
	if err != nil {
		return h.apiFail(c, err, "")
	}
	p, err := h.Store.Page(c.Request().Context(), id)
	if err != nil {
		return h.apiFail(c, err, pageGone)
	}
	return c.JSON(http.StatusOK, h.pageJSON(c, p))
}

// APIUpdatePage is PATCH /api/v1/page: only the fields sent change, with
// the admin's settings form's checks and audit entry; the public page
// shows the change at once.
func (h *Handler) APIUpdatePage(c echo.Context) error {
	var body pageBody
	if err := decodeWrapped(c, "page", &body); err != nil {
		return h.apiFail(c, err, "")
	}
	ctx := c.Request().Context()
	id, err := h.listPage(c)
	if err != nil {
		return h.apiFail(c, err, "")
	}
	p, err := h.Store.Page(ctx, id)
	if err != nil {
		return h.apiFail(c, err, pageGone)
	}
	if body.Name.Set || body.Description.Set || body.LogoURL.Set || body.AccentColor.Set || body.TimeZone.Set || body.ImageHosts.Set {
		in := models.PageInput{Name: p.Name, Description: p.Description, LogoURL: p.LogoURL,
			AccentColor: p.Accent(), TimeZone: p.TimeZone, ImageHosts: p.ImageHostList()}
		if body.Name.Set {
			in.Name = body.Name.Value
		}
		if body.Description.Set {
			in.Description = body.Description.Value
		}
		if body.LogoURL.Set {
			in.LogoURL = body.LogoURL.Value
		}
		if body.AccentColor.Set {
			in.AccentColor = body.AccentColor.Value
		}
		if body.TimeZone.Set {
			in.TimeZone = body.TimeZone.Value
		}
		if body.ImageHosts.Set {
			in.ImageHosts = body.ImageHosts.Value
		}
		p, err = h.Store.UpdatePage(ctx, p.ID, in)
		if err != nil {
			return h.apiFail(c, rewriteValidation(err,
				fieldRewrite{from: "accent_color", to: "accent_color", message: useOneOf(models.Accents)}), pageGone)
		}
	}
	return c.JSON(http.StatusOK, h.pageJSON(c, p))
}
