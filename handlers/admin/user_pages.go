package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/labstack/echo/v4"
)

// pageAccessForm reads the "which pages" part of the user and
// invitation forms: pages=all (or nothing ticked and no choice sent)
// for every page, else the ticked page_ids. A malformed id is the
// field's error.
func pageAccessForm(c echo.Context) (models.PageSet, string) {
	form, err := c.FormParams()
	if err != nil {
		return models.PageSet{}, "The form could not be read; try again."
	}
	raw := form["page_ids"]
	choice := c.FormValue("pages")
	if choice == "all" || choice == "" && len(raw) == 0 {
		return models.AllPagesAccess(), ""
	}
	if choice != "some" && choice != "" {
		return models.PageSet{}, "Choose all pages, or only the pages you tick."
	}
	ids := make([]int64, 0, len(raw))
	for _, r := range raw {
		id, err := strconv.ParseInt(strings.TrimSpace(r), 10, 64)
		if err != nil || id <= 0 {
			return models.PageSet{}, "Tick pages from the list."
		}
		ids = append(ids, id)
	}
	return models.PageSet{PageIDs: ids}, ""
}

// pageAccessField draws access over every page, with err under it.
func pageAccessField(pages []models.Page, access models.PageSet, err string) views.PageAccessField {
	f := views.PageAccessField{All: access.All, Error: err}
	for i := range pages {
		p := &pages[i]
		f.Pages = append(f.Pages, views.PageCheck{ID: p.ID, Name: p.Name, Address: PageAddress(p),
			Checked: !access.All && access.MaySee(p.ID)})
	}
	return f
}

// accessLabel says in a few words which pages access reaches.
func accessLabel(access models.PageSet, names map[int64]string) string {
	if access.All {
		return "All pages"
	}
	var out []string
	for _, id := range access.PageIDs {
		if n, ok := names[id]; ok {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return "No page"
	}
	return strings.Join(out, ", ")
}

// EditUserPages shows the form limiting a team member to some pages.
func (h *Handler) EditUserPages(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	u, err := h.Store.User(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return h.renderUserPages(c, http.StatusOK, u, u.Access(), "")
}

func (h *Handler) renderUserPages(c echo.Context, status int, u *models.User, access models.PageSet, problem string) error {
	ch, err := h.adminChrome(c, "Pages of "+u.Email, "users")
	if err != nil {
		return err
	}
	pages, err := h.Store.Pages(c.Request().Context())
	if err != nil {
		return err
	}
	return serve.Render(c, status, views.UserPagesPage(views.UserPagesView{Chrome: ch, Email: u.Email,
		Role: withArticle(u.Role), Action: userPath(u.ID) + "/pages", Pages: pageAccessField(pages, access, problem)}))
}

// SaveUserPages limits a team member to the ticked pages, or lets them
// see every page.
func (h *Handler) SaveUserPages(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	target, err := h.Store.User(ctx, id)
	if err != nil {
		return err
	}
	access, bad := pageAccessForm(c)
	if bad != "" {
		return h.renderUserPages(c, http.StatusUnprocessableEntity, target, access, bad)
	}
	u, err := h.Store.SetUserPages(ctx, id, access)
	var ve *models.ValidationError
	switch {
	case errors.Is(err, models.ErrLastAllPagesAdmin):
		return h.renderUserPages(c, http.StatusConflict, target, access,
			fmt.Sprintf("%s is the only admin who may see every page. Let another admin see every page first: Herald always keeps one, to manage users and pages.", target.Email))
	case errors.As(err, &ve):
		return h.renderUserPages(c, http.StatusUnprocessableEntity, target, access, ve.Fields["page_ids"])
	case err != nil:
		return err
	}
	if me := serve.CurrentUser(c); me != nil && me.ID == u.ID && !u.AllPages {
		// The Users screen is for admins of every page: you just left it.
		return h.RedirectWithFlash(c, "/admin", "success", "You now see only some pages.")
	}
	if u.AllPages {
		return h.RedirectWithFlash(c, "/admin/users", "success", u.Email+" may now see every page.")
	}
	names, _, err := h.pageNames(c)
	if err != nil {
		return err
	}
	return h.RedirectWithFlash(c, "/admin/users", "success",
		fmt.Sprintf("%s may now see only: %s.", u.Email, accessLabel(u.Access(), names)))
}
