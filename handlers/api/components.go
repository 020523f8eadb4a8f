package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	"github.com/labstack/echo/v4"
)

const componentGone = "That component does not exist."

// apiComponent is a component as the API shows it; names follow
// Statuspage's, ids are strings.
type apiComponent struct {
	ID          string  `json:"id"`
	PageID      string  `json:"page_id"`
	GroupID     *string `json:"group_id"`
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Status      string  `json:"status"`
	Position    int     `json:"position"`
	Visible     bool    `json:"visible"`
	CreatedAt   string  `json:"created_at"`
	UpdatedAt   string  `json:"updated_at"`
}

func componentJSON(c *models.Component) apiComponent {
	out := apiComponent{ID: formatAPIID(c.ID), PageID: formatAPIID(c.PageID), Name: c.Name, Description: c.Description,
		Status: string(c.Status), Position: c.Position, Visible: c.Visible,
		CreatedAt: formatAPITime(c.CreatedAt), UpdatedAt: formatAPITime(c.UpdatedAt)}
	if c.GroupID != nil {
		gid := formatAPIID(*c.GroupID)
		out.GroupID = &gid
	}
	return out
}

// componentBody is the body of POST and PATCH /api/v1/components, bare or
// inside Statuspage's wrapper, {"component": {…}}. Fields left out keep
// their value (PATCH) or take the default (POST: status operational,
// visible, no group, last in its group). position is the place within
// the group, 1 for the first.
type componentBody struct {
	Name        optional[string] `json:"name"`
	Description optional[string] `json:"description"`
	Status      optional[string] `json:"status"`
	GroupID     nullableID       `json:"group_id"`
	Visible     optional[bool]   `json:"visible"`
	Position    optional[int]    `json:"position"`
	// PageID is the page a new component goes on (default: the first
	// page); PATCH refuses it.
	PageID optional[apiID] `json:"page_id"`
}

// apply sets the fields present in b on in.
func (b *componentBody) apply(in *models.ComponentInput) {
	if b.Name.Set {
		in.Name = b.Name.Value
	}
	if b.Description.Set {
		in.Description = b.Description.Value
	}
	if b.Status.Set {
		in.Status = models.ComponentStatus(b.Status.Value)
	}
	if b.GroupID.Set {
		in.GroupID = b.GroupID.ID
	}
	if b.Visible.Set {
		in.Visible = b.Visible.Value
	}
	if b.Position.Set {
		p := b.Position.Value
		in.Position = &p
	}
}

// statusHint replaces the admin form's wording of a bad status ("Choose
// one of the listed statuses.") with the values the API accepts.
func statusHint(err error) error {
	var ve *models.ValidationError
	if errors.As(err, &ve) && ve.Fields["status"] != "" {
		names := make([]string, len(models.ComponentStatuses))
		for i, s := range models.ComponentStatuses {
			names[i] = string(s)
		}
		ve.Fields["status"] = "Use one of: " + strings.Join(names, ", ") + "."
		return ve
	}
	return err
}

// pageComponent loads a component of the token's page; those of other
// pages do not exist for it.
func (h *Handler) pageComponent(c echo.Context, id int64) (*models.Component, error) {
	comp, err := h.Store.Component(c.Request().Context(), id)
	if err != nil {
		return nil, err
	}
	if !tokenReaches(c, comp.PageID) {
		return nil, models.ErrNotFound
	}
	return comp, nil
}

// APIListComponents is GET /api/v1/components.
func (h *Handler) APIListComponents(c echo.Context) error {
	pageID, err := h.listPage(c)
	if err != nil {
		return h.apiFail(c, err, "")
	}
	comps, err := h.Store.Components(c.Request().Context(), pageID)
	if err != nil {
		return h.apiFail(c, err, componentGone)
	}
	out := make([]apiComponent, len(comps))
	for i := range comps {
		out[i] = componentJSON(&comps[i])
	}
	return c.JSON(http.StatusOK, out)
}

// APIShowComponent is GET /api/v1/components/:id.
func (h *Handler) APIShowComponent(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", componentGone, "")
	}
	comp, err := h.pageComponent(c, id)
	if err != nil {
		return h.apiFail(c, err, componentGone)
	}
	return c.JSON(http.StatusOK, componentJSON(comp))
}

// APICreateComponent is POST /api/v1/components.
func (h *Handler) APICreateComponent(c echo.Context) error {
	var body componentBody
	if err := decodeWrapped(c, "component", &body); err != nil {
		return h.apiFail(c, err, "")
	}
	in := models.ComponentInput{Status: models.StatusOperational, Visible: true}
	body.apply(&in)
	pageID, err := h.createPage(c, body.PageID)
	if err != nil {
		return h.apiFail(c, err, "")
	}
	comp, err := h.Store.CreateComponent(c.Request().Context(), pageID, in)
	if err != nil {
		return h.apiFail(c, statusHint(err), "")
	}
	c.Response().Header().Set("Location", apiPrefix+"/components/"+formatAPIID(comp.ID))
	return c.JSON(http.StatusCreated, componentJSON(comp))
}

// APIUpdateComponent is PATCH /api/v1/components/:id: only the fields sent
// change. A body with only a status is the admin's quick status change.
func (h *Handler) APIUpdateComponent(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", componentGone, "")
	}
	var body componentBody
	if err := decodeWrapped(c, "component", &body); err != nil {
		return h.apiFail(c, err, "")
	}
	if err := noPageMove(body.PageID); err != nil {
		return h.apiFail(c, err, "")
	}
	ctx := c.Request().Context()
	comp, err := h.pageComponent(c, id)
	if err != nil {
		return h.apiFail(c, err, componentGone)
	}
	others := body.Name.Set || body.Description.Set || body.GroupID.Set || body.Visible.Set || body.Position.Set
	if others && !apiToken(c).Role().AtLeast(models.RoleAdmin) {
		// Operators set statuses; changing what a component is, is an
		// admin's.
		req := c.Request()
		if err := h.Store.AuditDenied(ctx, req.Method, echo.GetPath(req)+" (beyond status)", apiToken(c).Role(), models.RoleAdmin); err != nil {
			h.Logger.Error("audit refused request", "err", err)
		}
		return serve.JSONError(c, http.StatusForbidden, "forbidden",
			fmt.Sprintf("This token acts for a user whose role is %s, who may change a component's status only; the other fields need admin.", apiToken(c).Role()), "")
	}
	switch {
	case body.Status.Set && !others:
		_, err = h.Store.SetComponentStatus(ctx, id, models.ComponentStatus(body.Status.Value), models.SourceManual, nil)
	case body.Status.Set || others:
		in := models.ComponentInput{Name: comp.Name, Description: comp.Description, GroupID: comp.GroupID,
			Visible: comp.Visible, Status: comp.Status}
		body.apply(&in)
		_, err = h.Store.UpdateComponent(ctx, id, in)
	}
	if err != nil {
		return h.apiFail(c, statusHint(err), componentGone)
	}
	if comp, err = h.Store.Component(ctx, id); err != nil {
		return h.apiFail(c, err, componentGone)
	}
	return c.JSON(http.StatusOK, componentJSON(comp))
}

// APIDeleteComponent is DELETE /api/v1/components/:id.
func (h *Handler) APIDeleteComponent(c echo.Context) error {
	// It takes no body; a malformed one is refused, not ignored.
	if err := decodeNoFields(c); err != nil {
		return h.apiFail(c, err, "")
	}
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", componentGone, "")
	}
	if _, err := h.pageComponent(c, id); err != nil {
		return h.apiFail(c, err, componentGone)
	}
	if err := h.Store.DeleteComponent(c.Request().Context(), id); err != nil {
		return h.apiFail(c, err, componentGone)
	}
	return c.NoContent(http.StatusNoContent)
}
