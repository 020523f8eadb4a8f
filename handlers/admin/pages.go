package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/labstack/echo/v4"
)

// PageAddress is where visitors find a page: / for the first page,
// /s/{slug}/ for the others.
func PageAddress(p *models.Page) string {
	if p.ID == models.DefaultPageID {
		return "/"
	}
	return "/s/" + p.Slug + "/"
}

// ListPages shows the status pages and the form to add one.
func (h *Handler) ListPages(c echo.Context) error {
	return h.renderPages(c, http.StatusOK, views.AdminPagesView{})
}

func (h *Handler) renderPages(c echo.Context, status int, v views.AdminPagesView) error {
	ctx := c.Request().Context()
	ch, err := h.adminChrome(c, "Status pages", "pages")
	if err != nil {
		return err
	}
	pages, err := h.Store.Pages(ctx)
	if err != nil {
		return err
	}
	for i := range pages {
		p := &pages[i]
		contents, err := h.Store.PageContents(ctx, p.ID)
		if err != nil {
			return err
		}
		v.Rows = append(v.Rows, views.PageRow{ID: p.ID, Name: p.Name, Slug: p.Slug, Address: PageAddress(p),
			First: p.ID == models.DefaultPageID, Current: p.ID == ch.PageID, Contents: contents.String()})
	}
	v.Chrome = ch
	return serve.Render(c, status, views.AdminPagesPage(v))
}

func pageNameForm(c echo.Context) models.PageNameInput {
	return models.PageNameInput{Name: c.FormValue("name"), Slug: c.FormValue("slug")}
}

// CreatePage adds a status page and makes it the one being managed.
func (h *Handler) CreatePage(c echo.Context) error {
	in := pageNameForm(c)
	p, err := h.Store.CreatePage(c.Request().Context(), in)
	if err != nil {
		var ve *models.ValidationError
		if errors.As(err, &ve) {
			return h.renderPages(c, http.StatusUnprocessableEntity, views.AdminPagesView{Name: in.Name, Slug: in.Slug, Errors: ve.Fields})
		}
		return err
	}
	h.SetSessionPage(c, p.ID)
	return h.RedirectWithFlash(c, "/admin", "success",
		fmt.Sprintf("Page “%s” created; you are now managing it. Add its components, then set its time zone and look in Settings.", p.Name))
}

// EditPage shows a page's rename form.
func (h *Handler) EditPage(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	p, err := h.Store.Page(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return h.renderPageForm(c, http.StatusOK, views.PageFormView{ID: p.ID, Name: p.Name, Slug: p.Slug})
}

func (h *Handler) renderPageForm(c echo.Context, status int, v views.PageFormView) error {
	ch, err := h.adminChrome(c, "Rename page "+v.Name, "pages")
	if err != nil {
		return err
	}
	v.Chrome = ch
	return serve.Render(c, status, views.PageFormPage(v))
}

// UpdatePage saves a page's name and slug.
func (h *Handler) UpdatePage(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	in := pageNameForm(c)
	p, err := h.Store.RenamePage(c.Request().Context(), id, in)
	if err != nil {
		var ve *models.ValidationError
		if errors.As(err, &ve) {
			return h.renderPageForm(c, http.StatusUnprocessableEntity, views.PageFormView{ID: id, Name: in.Name, Slug: in.Slug, Errors: ve.Fields})
		}
		return err
	}
	return h.RedirectWithFlash(c, "/admin/pages", "success", fmt.Sprintf("Page “%s” saved.", p.Name))
}

// ConfirmDeletePage asks before deleting a page; when something is on
// it, the only way on deletes everything with it.
func (h *Handler) ConfirmDeletePage(c echo.Context) error {
	return h.renderDeletePage(c, http.StatusOK, "")
}

func (h *Handler) renderDeletePage(c echo.Context, status int, problem string) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	if id == models.DefaultPageID {
		return echo.NewHTTPError(http.StatusNotFound) // never deleted: no such step
	}
	ctx := c.Request().Context()
	p, err := h.Store.Page(ctx, id)
	if err != nil {
		return err
	}
	contents, err := h.Store.PageContents(ctx, id)
	if err != nil {
		return err
	}
	ch, err := h.adminChrome(c, "Delete "+p.Name, "pages")
	if err != nil {
		return err
	}
	return serve.Render(c, status, views.DeletePagePage(views.DeletePageView{Chrome: ch, ID: p.ID, Name: p.Name,
		Contents: contents.String(), Problem: problem}))
}

// DeletePage deletes a page after confirmation; "everything" deletes
// what is on it too. A refusal (something queued, or added since the
// confirmation) shows the confirmation again with the reason.
func (h *Handler) DeletePage(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	p, err := h.Store.Page(ctx, id)
	if err != nil {
		return err
	}
	err = h.Store.DeletePage(ctx, id, c.FormValue("everything") == "1")
	var ce *models.ConflictError
	if errors.As(err, &ce) {
		return h.renderDeletePage(c, http.StatusConflict, ce.Message)
	}
	if err != nil {
		return err
	}
	if h.SessionPageID(c) == id {
		h.SetSessionPage(c, models.DefaultPageID)
	}
	return h.RedirectWithFlash(c, "/admin/pages", "success", fmt.Sprintf("Page “%s” deleted.", p.Name))
}

// SwitchPage makes the posted page the one the admin screens manage,
// remembered in the session, and goes back to the screen it came from.
func (h *Handler) SwitchPage(c echo.Context) error {
	id, err := strconv.ParseInt(c.FormValue("page_id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, "Choose one of the listed pages.")
	}
	// A page the user may not see answers as one that does not exist:
	// a limited user does not learn which other pages there are.
	var p *models.Page
	if userAccess(c).MaySee(id) {
		p, err = h.Store.Page(c.Request().Context(), id)
	}
	if p == nil && (err == nil || errors.Is(err, models.ErrNotFound)) {
		return h.RenderError(c, http.StatusNotFound, "Page not found",
			"That status page does not exist, or is not one you may manage. Choose one of the pages in the switcher.")
	}
	if err != nil {
		return err
	}
	h.SetSessionPage(c, p.ID)
	next := c.FormValue("next")
	if next != "/admin/pages" {
		next = "/admin" // the screen's objects were the other page's: start from the dashboard
	}
	return h.RedirectWithFlash(c, next, "success", fmt.Sprintf("Now managing “%s”.", p.Name))
}
