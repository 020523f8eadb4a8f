package api

import (
	"net/http"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	"github.com/labstack/echo/v4"
)

const groupGone = "That group does not exist."

// apiGroup is a component group as the API shows it, with the ids of its
// components in display order.
type apiGroup struct {
	ID         string   `json:"id"`
	PageID     string   `json:"page_id"`
	Name       string   `json:"name"`
	Position   int      `json:"position"`
	Collapsed  bool     `json:"collapsed"`
	Components []string `json:"components"`
	CreatedAt  string   `json:"created_at"`
	UpdatedAt  string   `json:"updated_at"`
}

func groupJSON(g *models.Group, comps []models.Component) apiGroup {
	out := apiGroup{ID: formatAPIID(g.ID), PageID: formatAPIID(g.PageID), Name: g.Name, Position: g.Position,
		Collapsed: g.Collapsed, Components: []string{}, CreatedAt: formatAPITime(g.CreatedAt), UpdatedAt: formatAPITime(g.UpdatedAt)}
	for _, comp := range comps {
		if comp.GroupID != nil && *comp.GroupID == g.ID {
			out.Components = append(out.Components, formatAPIID(comp.ID))
		}
	}
	return out
}

// groupBody is the body of POST and PATCH /api/v1/groups, bare or inside
// Statuspage's wrapper, {"group": {…}}. position is the group's place on
// the page, 1 for the first (a new group goes last).
type groupBody struct {
	Name      optional[string] `json:"name"`
	Collapsed optional[bool]   `json:"collapsed"`
	Position  optional[int]    `json:"position"`
	// PageID is the page a new group goes on (default: the first page);
	// PATCH refuses it.
	PageID optional[apiID] `json:"page_id"`
}

func (b *groupBody) apply(in *models.GroupInput) {
	if b.Name.Set {
		in.Name = b.Name.Value
	}
	if b.Collapsed.Set {
		in.Collapsed = b.Collapsed.Value
	}
	if b.Position.Set {
		p := b.Position.Value
		in.Position = &p
	}
}

// pageGroup loads a group of the token's page.
func (h *Handler) pageGroup(c echo.Context, id int64) (*models.Group, error) {
	g, err := h.Store.Group(c.Request().Context(), id)
	if err != nil {
		return nil, err
	}
	if !tokenReaches(c, g.PageID) {
		return nil, models.ErrNotFound
	}
	return g, nil
}

// groupAnswer writes g with its components.
func (h *Handler) groupAnswer(c echo.Context, status int, g *models.Group) error {
	comps, err := h.Store.Components(c.Request().Context(), g.PageID)
	if err != nil {
		return h.apiFail(c, err, groupGone)
	}
	return c.JSON(status, groupJSON(g, comps))
}

// APIListGroups is GET /api/v1/groups.
func (h *Handler) APIListGroups(c echo.Context) error {
	ctx := c.Request().Context()
	pageID, err := h.listPage(c)
	if err != nil {
		return h.apiFail(c, err, "")
	}
	groups, err := h.Store.Groups(ctx, pageID)
	if err != nil {
		return h.apiFail(c, err, groupGone)
	}
	comps, err := h.Store.Components(ctx, pageID)
	if err != nil {
		return h.apiFail(c, err, groupGone)
	}
	out := make([]apiGroup, len(groups))
	for i := range groups {
		out[i] = groupJSON(&groups[i], comps)
	}
	return c.JSON(http.StatusOK, out)
}

// APIShowGroup is GET /api/v1/groups/:id.
func (h *Handler) APIShowGroup(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", groupGone, "")
	}
	g, err := h.pageGroup(c, id)
	if err != nil {
		return h.apiFail(c, err, groupGone)
	}
	return h.groupAnswer(c, http.StatusOK, g)
}

// APICreateGroup is POST /api/v1/groups.
func (h *Handler) APICreateGroup(c echo.Context) error {
	var body groupBody
	if err := decodeWrapped(c, "group", &body); err != nil {
		return h.apiFail(c, err, "")
	}
	var in models.GroupInput
	body.apply(&in)
	pageID, err := h.createPage(c, body.PageID)
	if err != nil {
		return h.apiFail(c, err, "")
	}
	g, err := h.Store.CreateGroup(c.Request().Context(), pageID, in)
	if err != nil {
		return h.apiFail(c, err, "")
	}
	c.Response().Header().Set("Location", apiPrefix+"/groups/"+formatAPIID(g.ID))
	return h.groupAnswer(c, http.StatusCreated, g)
}

// APIUpdateGroup is PATCH /api/v1/groups/:id: only the fields sent change.
func (h *Handler) APIUpdateGroup(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", groupGone, "")
	}
	var body groupBody
	if err := decodeWrapped(c, "group", &body); err != nil {
		return h.apiFail(c, err, "")
	}
	if err := noPageMove(body.PageID); err != nil {
		return h.apiFail(c, err, "")
	}
	g, err := h.pageGroup(c, id)
	if err != nil {
		return h.apiFail(c, err, groupGone)
	}
	if body.Name.Set || body.Collapsed.Set || body.Position.Set {
		in := models.GroupInput{Name: g.Name, Collapsed: g.Collapsed}
		body.apply(&in)
		if g, err = h.Store.UpdateGroup(c.Request().Context(), id, in); err != nil {
			return h.apiFail(c, err, groupGone)
		}
	}
	return h.groupAnswer(c, http.StatusOK, g)
}

// APIDeleteGroup is DELETE /api/v1/groups/:id; its components stay,
// ungrouped.
func (h *Handler) APIDeleteGroup(c echo.Context) error {
	// It takes no body; a malformed one is refused, not ignored.
	if err := decodeNoFields(c); err != nil {
		return h.apiFail(c, err, "")
	}
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", groupGone, "")
	}
	if _, err := h.pageGroup(c, id); err != nil {
		return h.apiFail(c, err, groupGone)
	}
	if err := h.Store.DeleteGroup(c.Request().Context(), id); err != nil {
		return h.apiFail(c, err, groupGone)
	}
	return c.NoContent(http.StatusNoContent)
}
