package handlers

import (
	"net/http"

	views "github.com/heraldstatus/herald/views/site"
	"github.com/labstack/echo/v4"
)

// ShowIncidentPermalink is the public page of one incident.
func (h *Handler) ShowIncidentPermalink(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	inc, err := h.store.Incident(ctx, id)
	if err != nil {
		return err
	}
	page, err := h.store.Page(ctx, inc.PageID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.IncidentPage(views.IncidentPageView{
		Chrome:   h.pageChrome(inc.Title+" · "+page.Name, page),
		Incident: h.incidentView(inc, true),
	}))
}

// ShowMaintenancePermalink is the public page of one maintenance window.
func (h *Handler) ShowMaintenancePermalink(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	m, err := h.store.Maintenance(ctx, id)
	if err != nil {
		return err
	}
	page, err := h.store.Page(ctx, m.PageID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.MaintenancePage(views.MaintenancePageView{
		Chrome:      h.pageChrome(m.Title+" · "+page.Name, page),
		Maintenance: h.maintenanceView(m, true),
	}))
}
