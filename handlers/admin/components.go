package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/heraldstatus/herald/views/layout"
	"github.com/labstack/echo/v4"
)

// ListComponents shows components by group with quick status changes.
func (h *Handler) ListComponents(c echo.Context) error {
	ctx := c.Request().Context()
	ch, err := h.adminChrome(c, "Components", "components")
	if err != nil {
		return err
	}
	groups, err := h.Store.Groups(ctx, pageID(c))
	if err != nil {
		return err
	}
	comps, err := h.Store.Components(ctx, pageID(c))
	if err != nil {
		return err
	}
	byGroup := map[int64][]views.AdminComponentItem{}
	for _, comp := range comps {
		var gid int64
		if comp.GroupID != nil {
			gid = *comp.GroupID
		}
		byGroup[gid] = append(byGroup[gid], views.AdminComponentItem{ID: comp.ID, Name: comp.Name,
			Visible: comp.Visible, Status: serve.StatusView(comp.Status)})
	}
	v := views.AdminComponentsView{Chrome: ch, Statuses: statusOptions()}
	if rows := byGroup[0]; len(rows) > 0 {
		v.Sections = append(v.Sections, views.AdminGroupItem{Components: markEnds(rows)})
	}
	for i, g := range groups {
		v.Sections = append(v.Sections, views.AdminGroupItem{ID: g.ID, Name: g.Name, Collapsed: g.Collapsed,
			First: i == 0, Last: i == len(groups)-1, Components: markEnds(byGroup[g.ID])})
	}
	return serve.Render(c, http.StatusOK, views.AdminComponentsPage(v))
}

func markEnds(rows []views.AdminComponentItem) []views.AdminComponentItem {
	for i := range rows {
		rows[i].First, rows[i].Last = i == 0, i == len(rows)-1
	}
	return rows
}

// NewComponent shows an empty component form.
func (h *Handler) NewComponent(c echo.Context) error {
	return h.renderComponentForm(c, http.StatusOK, views.ComponentFormView{
		Status: string(models.StatusOperational), Visible: true, GroupID: c.QueryParam("group_id")})
}

// EditComponent shows a component's form.
func (h *Handler) EditComponent(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	comp, err := h.Store.Component(c.Request().Context(), id)
	if err != nil {
		return err
	}
	v := views.ComponentFormView{ID: comp.ID, Name: comp.Name, Description: comp.Description,
		Status: string(comp.Status), Visible: comp.Visible}
	if comp.GroupID != nil {
		v.GroupID = strconv.FormatInt(*comp.GroupID, 10)
	}
	return h.renderComponentForm(c, http.StatusOK, v)
}

func (h *Handler) renderComponentForm(c echo.Context, status int, v views.ComponentFormView) error {
	title := "New component"
	if v.ID != 0 {
		title = "Edit " + v.Name
	}
	ch, err := h.adminChrome(c, title, "components")
	if err != nil {
		return err
	}
	groups, err := h.Store.Groups(c.Request().Context(), pageID(c))
	if err != nil {
		return err
	}
	v.Chrome = ch
	v.Statuses = statusOptions()
	v.Groups = []layout.Option{{Value: "", Label: "No group"}}
	for _, g := range groups {
		v.Groups = append(v.Groups, layout.Option{Value: strconv.FormatInt(g.ID, 10), Label: g.Name})
	}
	return serve.Render(c, status, views.ComponentFormPage(v))
}

// componentForm reads the component form; bad ids become field errors so the
// form comes back with everything the admin typed.
func componentForm(c echo.Context) (models.ComponentInput, views.ComponentFormView, models.Validator) {
	v := views.ComponentFormView{
		Name:        c.FormValue("name"),
		Description: c.FormValue("description"),
		GroupID:     c.FormValue("group_id"),
		Status:      c.FormValue("status"),
		Visible:     c.FormValue("visible") == "1",
	}
	in := models.ComponentInput{Name: v.Name, Description: v.Description, Visible: v.Visible,
		Status: models.ComponentStatus(v.Status)}
	var val models.Validator
	if v.GroupID != "" {
		gid, err := strconv.ParseInt(v.GroupID, 10, 64)
		if err != nil || gid <= 0 {
			val.Add("group_id", "Choose a group from the list.")
		} else {
			in.GroupID = &gid
		}
	}
	return in, v, val
}

// CreateComponent saves a new component.
func (h *Handler) CreateComponent(c echo.Context) error {
	in, v, val := componentForm(c)
	if err := val.Err(); err != nil {
		return h.componentFormError(c, v, err)
	}
	comp, err := h.Store.CreateComponent(c.Request().Context(), pageID(c), in)
	if err != nil {
		return h.componentFormError(c, v, err)
	}
	return h.RedirectWithFlash(c, "/admin/components", "success", fmt.Sprintf("Component “%s” created.", comp.Name))
}

// UpdateComponent saves a component's form.
func (h *Handler) UpdateComponent(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	in, v, val := componentForm(c)
	v.ID = id
	if err := val.Err(); err != nil {
		return h.componentFormError(c, v, err)
	}
	comp, err := h.Store.UpdateComponent(c.Request().Context(), id, in)
	if err != nil {
		return h.componentFormError(c, v, err)
	}
	return h.RedirectWithFlash(c, "/admin/components", "success", fmt.Sprintf("Component “%s” saved.", comp.Name))
}

func (h *Handler) componentFormError(c echo.Context, v views.ComponentFormView, err error) error {
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		v.Errors = ve.Fields
		return h.renderComponentForm(c, http.StatusUnprocessableEntity, v)
	}
	return err
}

// SetComponentStatus is the quick status change from the list.
func (h *Handler) SetComponentStatus(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	status := models.ComponentStatus(c.FormValue("status"))
	if !status.Valid() {
		return h.RedirectWithFlash(c, "/admin/components", "error", "Choose one of the listed statuses.")
	}
	comp, err := h.Store.Component(c.Request().Context(), id)
	if err != nil {
		return err
	}
	changed, err := h.Store.SetComponentStatus(c.Request().Context(), id, status, models.SourceManual, nil)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("“%s” is already %s.", comp.Name, status.Label())
	if changed {
		msg = fmt.Sprintf("“%s” is now %s.", comp.Name, status.Label())
	}
	return h.RedirectWithFlash(c, "/admin/components#row-"+strconv.FormatInt(id, 10), "success", msg)
}

// MoveComponent moves a component up or down within its group.
func (h *Handler) MoveComponent(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	delta, err := moveDelta(c)
	if err != nil {
		return err
	}
	if err := h.Store.MoveComponent(c.Request().Context(), id, delta); err != nil {
		return err
	}
	return serve.SeeOther(c, "/admin/components#row-"+strconv.FormatInt(id, 10))
}

// ConfirmDeleteComponent asks before deleting.
func (h *Handler) ConfirmDeleteComponent(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	comp, err := h.Store.Component(c.Request().Context(), id)
	if err != nil {
		return err
	}
	ch, err := h.adminChrome(c, "Delete "+comp.Name, "components")
	if err != nil {
		return err
	}
	return serve.Render(c, http.StatusOK, views.ConfirmPage(views.ConfirmView{
		Chrome:   ch,
		Question: fmt.Sprintf("Delete “%s”?", comp.Name),
		Detail:   "The component disappears from the status page and its uptime history is erased. This cannot be undone.",
		Action:   fmt.Sprintf("/admin/components/%d/delete", id),
		Confirm:  "Delete component",
		Cancel:   fmt.Sprintf("/admin/components/%d/edit", id),
	}))
}

// DeleteComponent deletes after confirmation.
func (h *Handler) DeleteComponent(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	comp, err := h.Store.Component(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if err := h.Store.DeleteComponent(c.Request().Context(), id); err != nil {
		return err
	}
	return h.RedirectWithFlash(c, "/admin/components", "success", fmt.Sprintf("Component “%s” deleted.", comp.Name))
}

// statusOptions are the component statuses, for a select.
func statusOptions() []layout.Option {
	out := make([]layout.Option, len(models.ComponentStatuses))
	for i, s := range models.ComponentStatuses {
		out[i] = layout.Option{Value: string(s), Label: s.Label()}
	}
	return out
}

// moveDelta reads the up/down button of a reorder form.
func moveDelta(c echo.Context) (int, error) {
	switch c.FormValue("direction") {
	case "up":
		return -1, nil
	case "down":
		return 1, nil
	}
	return 0, echo.NewHTTPError(http.StatusBadRequest, "Choose to move up or down.")
}
