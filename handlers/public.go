package handlers

import (
	"net/http"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/views"
	"github.com/labstack/echo/v4"
)

// ShowStatusPage renders the public page: overall banner and the visible
// components by group.
func (h *Handler) ShowStatusPage(c echo.Context) error {
	ctx := c.Request().Context()
	page, err := h.store.Page(ctx, models.DefaultPageID)
	if err != nil {
		return err
	}
	groups, err := h.store.Groups(ctx, page.ID)
	if err != nil {
		return err
	}
	comps, err := h.store.Components(ctx, page.ID)
	if err != nil {
		return err
	}
	v := views.PublicView{
		Chrome:      h.publicChrome(page.Name, page.Name),
		PageName:    page.Name,
		Description: page.Description,
		UpdatedAt:   views.Time{At: h.now()},
	}
	byGroup := map[int64][]views.ComponentRow{}
	worstByGroup := map[int64]models.ComponentStatus{}
	var visible []models.ComponentStatus
	for _, comp := range comps {
		if !comp.Visible {
			continue
		}
		visible = append(visible, comp.Status)
		row := views.ComponentRow{ID: comp.ID, Name: comp.Name, Description: comp.Description, Status: statusView(comp.Status)}
		if comp.GroupID == nil {
			v.Ungrouped = append(v.Ungrouped, row)
			continue
		}
		byGroup[*comp.GroupID] = append(byGroup[*comp.GroupID], row)
		worstByGroup[*comp.GroupID] = models.WorstStatus(worstByGroup[*comp.GroupID], comp.Status)
	}
	for _, g := range groups {
		rows := byGroup[g.ID]
		if len(rows) == 0 {
			continue
		}
		v.Groups = append(v.Groups, views.GroupSection{Name: g.Name, Open: !g.Collapsed,
			Status: statusView(worstByGroup[g.ID]), Components: rows})
	}
	v.Banner = banner(models.WorstStatus(visible...))
	if err := h.addActivity(ctx, page.ID, &v); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.PublicPage(v))
}
