package handlers

import (
	"context"
	"net/http"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/views"
	"github.com/labstack/echo/v4"
)

// addActivity puts the active incidents and the current and upcoming
// maintenance of a page on its public view.
func (h *Handler) addActivity(ctx context.Context, pageID int64, v *views.PublicView) error {
	incidents, err := h.store.Incidents(ctx, pageID, models.IncidentFilter{Unresolved: true})
	if err != nil {
		return err
	}
	for i := range incidents {
		v.Incidents = append(v.Incidents, h.incidentView(&incidents[i], true))
	}
	windows, err := h.store.Maintenances(ctx, pageID, models.MaintenanceFilter{
		Statuses: []models.MaintenanceStatus{models.MaintenanceInProgress, models.MaintenanceScheduled}})
	if err != nil {
		return err
	}
	for i := range windows {
		m := h.maintenanceView(&windows[i], true)
		if windows[i].Status == models.MaintenanceInProgress {
			v.InProgress = append(v.InProgress, m)
		} else {
			v.Upcoming = append(v.Upcoming, m)
		}
	}
	return nil
}

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
		Chrome:   h.publicChrome(inc.Title+" · "+page.Name, page.Name),
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
		Chrome:      h.publicChrome(m.Title+" · "+page.Name, page.Name),
		Maintenance: h.maintenanceView(m, true),
	}))
}
