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
	if v.Access == nil {
		if v.Access, err = h.accessSettings(c); err != nil {
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

// accessSettings is the settings page's "Access" section, for admins
// only: nil for the others, who cannot change it.
func (h *Handler) accessSettings(c echo.Context) (*views.AccessSettings, error) {
	if u := serve.CurrentUser(c); u == nil || !u.Can(models.RoleAdmin) {
		return nil, nil
	}
	a, err := h.Store.PageAccess(c.Request().Context(), pageID(c))
	if err != nil {
		return nil, err
	}
	v := &views.AccessSettings{Visibility: "public", HasPassword: a.HasPassword(), Team: a.Team, EmailLinks: h.emailLinks(),
		EmailDomains: strings.Join(a.EmailDomains, "\n")}
	if !a.Public {
		v.Visibility = "private"
	}
	var cidrs []string
	for _, p := range a.IPAllowlist {
		cidrs = append(cidrs, p.String())
	}
	v.IPAllowlist = strings.Join(cidrs, "\n")
	if v.FeedTokens, err = h.feedTokenRows(c); err != nil {
		return nil, err
	}
	return v, nil
}

// feedTokenRows are the managed page's visitors' feed tokens.
func (h *Handler) feedTokenRows(c echo.Context) ([]views.FeedTokenRow, error) {
	toks, err := h.Store.PageFeedTokens(c.Request().Context(), pageID(c))
	if err != nil {
		return nil, err
	}
	rows := make([]views.FeedTokenRow, len(toks))
	for i, t := range toks {
		rows[i] = views.FeedTokenRow{ID: t.ID, Label: t.Label, Created: layout.Time{At: t.CreatedAt},
			LastUsed: serve.TimePtr(t.LastUsedAt), Revoked: serve.TimePtr(t.RevokedAt)}
	}
	return rows, nil
}

// RevokeFeedToken revokes a visitor's feed token of the managed page: its
// links stop working at once.
func (h *Handler) RevokeFeedToken(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := h.Store.RevokePageFeedToken(c.Request().Context(), pageID(c), id); err != nil {
		return err
	}
	return h.RedirectWithFlash(c, "/admin/settings#access", "success", "Feed links revoked: they stop working at once.")
}

// emailLinks says whether private pages can send sign-in links by e-mail.
func (h *Handler) emailLinks() bool { return h.Mail && h.EmailLinks }

// formLines splits a textarea into its non-empty lines.
func formLines(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
}

// SaveAccessSettings saves who may read the page: public or private, and
// the ways into a private page. The password is never shown back, not
// even when the form is refused.
func (h *Handler) SaveAccessSettings(c echo.Context) error {
	ctx := c.Request().Context()
	form := &views.AccessSettings{Visibility: c.FormValue("visibility"), Team: c.FormValue("team") != "",
		EmailLinks: h.emailLinks(), EmailDomains: c.FormValue("email_domains"), IPAllowlist: c.FormValue("ip_allowlist")}
	current, err := h.Store.PageAccess(ctx, pageID(c))
	if err != nil {
		return err
	}
	form.HasPassword = current.HasPassword()
	if form.FeedTokens, err = h.feedTokenRows(c); err != nil {
		return err
	}
	in := models.PageAccessInput{Public: form.Visibility == "public", Password: c.FormValue("password"),
		RemovePassword: c.FormValue("remove_password") != "", Team: form.Team,
		EmailDomains: formLines(form.EmailDomains), IPAllowlist: formLines(form.IPAllowlist), EmailLinks: h.emailLinks()}
	if !form.EmailLinks {
		// The form did not offer them: they stay as they are.
		in.EmailDomains = current.EmailDomains
	}
	if form.Visibility != "public" && form.Visibility != "private" {
		err = &models.ValidationError{Fields: map[string]string{"public": "Choose whether anyone may read the page or only the people let in."}}
	} else {
		_, err = h.Store.SetPageAccess(ctx, pageID(c), in)
	}
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		form.Errors = ve.Fields
		p, err := h.Store.Page(ctx, pageID(c))
		if err != nil {
			return err
		}
		ref, err := h.Store.PageRef(ctx, p.ID)
		if err != nil {
			return err
		}
		return h.renderSettings(c, http.StatusUnprocessableEntity, views.SettingsView{Name: p.Name, Description: p.Description,
			LogoURL: p.LogoURL, AccentColor: p.Accent(), TimeZone: p.TimeZone, ImageHosts: strings.Join(p.ImageHostList(), "\n"),
			Domain: ref.Domain, Access: form})
	}
	if err != nil {
		return err
	}
	msg := "Access settings saved: the page is public."
	if !in.Public {
		msg = "Access settings saved: the page is private."
	}
	return h.RedirectWithFlash(c, "/admin/settings#access", "success", msg)
}
