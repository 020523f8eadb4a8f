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
	URL         string `json:"url"`
	CreatedAt   string `json:"created_at"`
	UpdatedAt   string `json:"updated_at"`
}

func (h *Handler) pageJSON(c echo.Context, p *models.Page) apiPage {
	return apiPage{ID: formatAPIID(p.ID), Name: p.Name, Description: p.Description, LogoURL: p.LogoURL,
		AccentColor: p.Accent(), TimeZone: p.TimeZone, URL: h.publicURL(c, "/"),
		CreatedAt: formatAPITime(p.CreatedAt), UpdatedAt: formatAPITime(p.UpdatedAt)}
}

// pageBody is the body of PATCH /api/v1/page, bare or inside Statuspage's
// wrapper, {"page": {…}}. Fields left out keep their value; logo_url ""
// removes the logo.
type pageBody struct {
	Name        optional[string] `json:"name"`
	Description optional[string] `json:"description"`
	LogoURL     optional[string] `json:"logo_url"`
	AccentColor optional[string] `json:"accent_color"`
	TimeZone    optional[string] `json:"time_zone"`
}

// APIShowPage is GET /api/v1/page: the token's status page settings.
func (h *Handler) APIShowPage(c echo.Context) error {
	p, err := h.Store.Page(c.Request().Context(), apiToken(c).PageID)
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
	p, err := h.Store.Page(ctx, apiToken(c).PageID)
	if err != nil {
		return h.apiFail(c, err, pageGone)
	}
	if body.Name.Set || body.Description.Set || body.LogoURL.Set || body.AccentColor.Set || body.TimeZone.Set {
		in := models.PageInput{Name: p.Name, Description: p.Description, LogoURL: p.LogoURL,
			AccentColor: p.Accent(), TimeZone: p.TimeZone}
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
		p, err = h.Store.UpdatePage(ctx, p.ID, in)
		if err != nil {
			return h.apiFail(c, rewriteValidation(err,
				fieldRewrite{from: "accent_color", to: "accent_color", message: useOneOf(models.Accents)}), pageGone)
		}
	}
	return c.JSON(http.StatusOK, h.pageJSON(c, p))
}
