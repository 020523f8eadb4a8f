package api

import (
	"errors"
	"net/http"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	"github.com/labstack/echo/v4"
)

// maintenanceUpdateBody is the body of POST /api/v1/maintenance/:id/updates,
// wrapped in "incident_update" or bare: a message and, for a window in
// progress, a new scheduled_until. deliver_notifications (default false)
// sends maintenance.updated to the channels.
type maintenanceUpdateBody struct {
	Body                 optional[string] `json:"body"`
	ScheduledUntil       optional[string] `json:"scheduled_until"`
	DeliverNotifications optional[bool]   `json:"deliver_notifications"`
}

// onlyEnd reports whether a PATCH of a window changes nothing but its end
// (and says whether to notify): what a window in progress allows.
func (b *maintenanceBody) onlyEnd() bool {
	return b.ScheduledUntil.Set && !b.Name.Set && !b.Body.Set && !b.ScheduledFor.Set && !b.Components.Set &&
		!b.AutoTransitionToMaintenanceState.Set
}

// APIPostMaintenanceUpdate is POST /api/v1/maintenance/:id/updates: an
// update to a scheduled or in-progress window; with scheduled_until, an
// in-progress window gets a new end, at which the scheduler completes it.
func (h *Handler) APIPostMaintenanceUpdate(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", maintenanceGone, "")
	}
	var body maintenanceUpdateBody
	if err := decodeWrapped(c, "incident_update", &body); err != nil {
		return h.apiFail(c, err, "")
	}
	return h.postMaintenanceUpdate(c, id, body, http.StatusCreated)
}

func (h *Handler) postMaintenanceUpdate(c echo.Context, id int64, body maintenanceUpdateBody, status int) error {
	m, err := h.pageMaintenance(c, id)
	if err != nil {
		return h.apiFail(c, err, maintenanceGone)
	}
	in := models.MaintenanceUpdateInput{Message: body.Body.Value, Notify: body.DeliverNotifications.Value}
	var v models.Validator
	if body.ScheduledUntil.Set {
		end := parseAPITime(&v, "scheduled_until", body.ScheduledUntil.Value)
		in.WindowEnd = &end
	}
	if err := v.Err(); err != nil {
		return h.apiFail(c, err, "")
	}
	_, err = h.Store.PostMaintenanceUpdate(c.Request().Context(), id, in)
	if errors.Is(err, models.ErrMaintenanceState) {
		if in.WindowEnd != nil && m.Status == models.MaintenanceScheduled {
			return serve.JSONError(c, http.StatusConflict, "conflict",
				"This maintenance has not started: change its end with PATCH "+apiPrefix+"/maintenance/"+formatAPIID(id)+".", "")
		}
		return h.maintenanceStateConflict(c, id, "updated", "scheduled or in-progress")
	}
	if err != nil {
		return h.apiFail(c, rewriteValidation(err, fieldRewrite{from: "message", to: "body"},
			fieldRewrite{from: "window_end", to: "scheduled_until"}), maintenanceGone)
	}
	return h.maintenanceAnswer(c, status, id)
}
