package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/heraldstatus/herald/views/layout"
	"github.com/labstack/echo/v4"
)

// ShowSettings shows the status page settings form.
func (h *Handler) ShowSettings(c echo.Context) error {
	p, err := h.Store.Page(c.Request().Context(), pageID(c))
	if err != nil {
		return err
	}
	ref, err := h.Store.PageRef(c.Request().Context(), p.ID)
	if err != nil {
		return err
	}
	return h.renderSettings(c, http.StatusOK, views.SettingsView{Name: p.Name, Description: p.Description,
		LogoURL: p.LogoURL, AccentColor: p.Accent(), TimeZone: p.TimeZone, ImageHosts: strings.Join(p.ImageHostList(), "\n"),
		Domain: ref.Domain})
}

// SaveSettings saves the status page settings; the public page shows them
// at once.
func (h *Handler) SaveSettings(c echo.Context) error {
	v := views.SettingsView{Name: c.FormValue("name"), Description: c.FormValue("description"),
		LogoURL: c.FormValue("logo_url"), AccentColor: c.FormValue("accent_color"), TimeZone: c.FormValue("time_zone"),
		ImageHosts: c.FormValue("image_hosts"), Domain: c.FormValue("domain")}
	// The settings and the host name are saved together, or neither is.
	err := h.Store.InTransaction(c.Request().Context(), func(ctx context.Context) error {
		_, err := h.Store.UpdatePage(ctx, pageID(c), models.PageInput{Name: v.Name,
			Description: v.Description, LogoURL: v.LogoURL, AccentColor: v.AccentColor, TimeZone: v.TimeZone,
			ImageHosts: models.ParseImageHosts(v.ImageHosts)})
		if err != nil {
			return err
		}
		return h.Store.SetPageDomain(ctx, pageID(c), v.Domain)
	})
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		v.Errors = ve.Fields
		if _, msg := models.NormalizeDomain(v.Domain); msg != "" {
			v.Errors["domain"] = msg // shown with the other fields' errors
		}
		return h.renderSettings(c, http.StatusUnprocessableEntity, v)
	}
	if err != nil {
		return err
	}
	return h.RedirectWithFlash(c, "/admin/settings", "success", "Settings saved.")
}

func (h *Handler) renderSettings(c echo.Context, status int, v views.SettingsView) error {
	ch, err := h.adminChrome(c, "Status page settings", "settings")
	if err != nil {
		return err
	}
	v.Chrome = ch
	if v.SignIn == nil {
		if v.SignIn, err = h.signInSettings(c); err != nil {
			return err
		}
	}
	for _, a := range models.Accents {
		v.Accents = append(v.Accents, layout.Option{Value: a, Label: accentLabel(a)})
	}
	return serve.Render(c, status, views.SettingsPage(v))
}

// accentLabel is an accent's name as the settings form shows it: "Purple".
func accentLabel(name string) string { return strings.ToUpper(name[:1]) + name[1:] }
