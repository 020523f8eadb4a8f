package site

import (
	"net/http"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/site"
	"github.com/labstack/echo/v4"
)

// ShowIncidentPermalink is the public page of one incident.
func (h *Handler) ShowIncidentPermalink(c echo.Context) error {
	ctx := models.ReadOnly(c.Request().Context()) // on SQLite, beside the writer
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	inc, err := h.Store.Incident(ctx, id)
	if err != nil {
		return err
	}
	if inc.PageID != pageID(c) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such incident on this status page.")
	}
	page, err := h.Store.Page(ctx, inc.PageID)
	if err != nil {
		return err
	}
	serve.SetPagePolicy(c, page, true)
	return h.render(c, http.StatusOK, views.IncidentPage(views.IncidentPageView{
		Chrome:   h.pageChrome(inc.Title+" · "+page.Name, page),
		Incident: h.IncidentView(inc, page, true),
	}))
}

// ShowMaintenancePermalink is the public page of one maintenance window.
func (h *Handler) ShowMaintenancePermalink(c echo.Context) error {
	ctx := models.ReadOnly(c.Request().Context()) // on SQLite, beside the writer
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	m, err := h.Store.Maintenance(ctx, id)
	if err != nil {
		return err
	}
	if m.PageID != pageID(c) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such maintenance on this status page.")
	}
	page, err := h.Store.Page(ctx, m.PageID)
	if err != nil {
		return err
	}
	serve.SetPagePolicy(c, page, true)
	return h.render(c, http.StatusOK, views.MaintenancePage(views.MaintenancePageView{
		Chrome:      h.pageChrome(m.Title+" · "+page.Name, page),
		Maintenance: h.MaintenanceView(m, page, true),
	}))
}
