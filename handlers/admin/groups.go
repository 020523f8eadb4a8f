package admin

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/labstack/echo/v4"
)

// NewGroup shows an empty group form.
func (h *Handler) NewGroup(c echo.Context) error {
	return h.renderGroupForm(c, http.StatusOK, views.GroupFormView{})
}

// EditGroup shows a group's form.
func (h *Handler) EditGroup(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	g, err := h.Store.Group(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return h.renderGroupForm(c, http.StatusOK, views.GroupFormView{ID: g.ID, Name: g.Name, Collapsed: g.Collapsed})
}

func (h *Handler) renderGroupForm(c echo.Context, status int, v views.GroupFormView) error {
	title := "New group"
	if v.ID != 0 {
		title = "Edit group " + v.Name
	}
	ch, err := h.adminChrome(c, title, "components")
	if err != nil {
		return err
	}
	v.Chrome = ch
	return serve.Render(c, status, views.GroupFormPage(v))
}

func groupForm(c echo.Context) (models.GroupInput, views.GroupFormView) {
	v := views.GroupFormView{Name: c.FormValue("name"), Collapsed: c.FormValue("collapsed") == "1"}
	return models.GroupInput{Name: v.Name, Collapsed: v.Collapsed}, v
}

// CreateGroup saves a new group.
func (h *Handler) CreateGroup(c echo.Context) error {
	in, v := groupForm(c)
	g, err := h.Store.CreateGroup(c.Request().Context(), pageID(c), in)
	if err != nil {
		return h.groupFormError(c, v, err)
	}
	return h.RedirectWithFlash(c, "/admin/components", "success", fmt.Sprintf("Group “%s” created.", g.Name))
}

// UpdateGroup saves a group's form.
func (h *Handler) UpdateGroup(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	in, v := groupForm(c)
	v.ID = id
	g, err := h.Store.UpdateGroup(c.Request().Context(), id, in)
	if err != nil {
		return h.groupFormError(c, v, err)
	}
	return h.RedirectWithFlash(c, "/admin/components", "success", fmt.Sprintf("Group “%s” saved.", g.Name))
}

func (h *Handler) groupFormError(c echo.Context, v views.GroupFormView, err error) error {
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		v.Errors = ve.Fields
		return h.renderGroupForm(c, http.StatusUnprocessableEntity, v)
	}
	return err
}

// MoveGroup moves a group up or down.
func (h *Handler) MoveGroup(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	delta, err := moveDelta(c)
	if err != nil {
		return err
	}
	if err := h.Store.MoveGroup(c.Request().Context(), id, delta); err != nil {
		return err
	}
	return serve.SeeOther(c, "/admin/components")
}

// ConfirmDeleteGroup asks before deleting a group.
func (h *Handler) ConfirmDeleteGroup(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	g, err := h.Store.Group(c.Request().Context(), id)
	if err != nil {
		return err
	}
	ch, err := h.adminChrome(c, "Delete "+g.Name, "components")
	if err != nil {
		return err
	}
	return serve.Render(c, http.StatusOK, views.ConfirmPage(views.ConfirmView{
		Chrome:   ch,
		Question: fmt.Sprintf("Delete group “%s”?", g.Name),
		Detail:   "Its components stay on the page, outside any group.",
		Action:   fmt.Sprintf("/admin/groups/%d/delete", id),
		Confirm:  "Delete group",
		Cancel:   fmt.Sprintf("/admin/groups/%d/edit", id),
	}))
}

// DeleteGroup deletes a group after confirmation.
func (h *Handler) DeleteGroup(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	g, err := h.Store.Group(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if err := h.Store.DeleteGroup(c.Request().Context(), id); err != nil {
		return err
	}
	return h.RedirectWithFlash(c, "/admin/components", "success", fmt.Sprintf("Group “%s” deleted.", g.Name))
}
