package admin

import (
	"context"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/heraldstatus/herald/views/layout"
)

// addDashboardActivity puts unresolved incidents and current and upcoming
// maintenance on the dashboard.
func (h *Handler) addDashboardActivity(ctx context.Context, pageID int64, v *views.DashboardView) error {
	incidents, err := h.Store.Incidents(ctx, pageID, models.IncidentFilter{Unresolved: true})
	if err != nil {
		return err
	}
	now := h.Now()
	for _, inc := range incidents {
		v.ActiveIncidents = append(v.ActiveIncidents, views.AdminIncidentRow{ID: inc.ID, Title: inc.Title,
			Status: serve.IncidentStatusView(inc.Status), Impact: serve.ImpactView(inc.Impact),
			Started: layout.Time{At: inc.StartedAt}, StartedAgo: relativeTime(now, inc.StartedAt)})
	}
	windows, err := h.currentMaintenance(ctx, pageID)
	if err != nil {
		return err
	}
	for i := range windows {
		v.Maintenance = append(v.Maintenance, h.adminMaintenanceRow(&windows[i]))
	}
	return nil
}
