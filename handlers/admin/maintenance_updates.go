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

// NewMaintenanceUpdate shows the form that posts an update to a scheduled
// or in-progress window and moves the end of one in progress.
func (h *Handler) NewMaintenanceUpdate(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	m, err := h.Store.Maintenance(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if m.Status != models.MaintenanceScheduled && m.Status != models.MaintenanceInProgress {
		return h.RedirectWithFlash(c, "/admin/maintenance", "error",
			fmt.Sprintf("“%s” is %s; only scheduled or in-progress maintenance takes updates.", m.Title, serve.LowerLabel(m.Status)))
	}
	loc, err := h.pageZone(c)
	if err != nil {
		return err
	}
	return h.renderMaintenanceUpdate(c, http.StatusOK, m, views.MaintenanceUpdateFormView{WindowEnd: formTime(m.WindowEnd, loc), Notify: true})
}

// PostMaintenanceUpdate posts the update and, when the end field of a
// window in progress was changed, moves its end.
func (h *Handler) PostMaintenanceUpdate(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	m, err := h.Store.Maintenance(ctx, id)
	if err != nil {
		return err
	}
	loc, err := h.pageZone(c)
	if err != nil {
		return err
	}
	form := views.MaintenanceUpdateFormView{Message: c.FormValue("message"), WindowEnd: c.FormValue("window_end"),
		Notify: c.FormValue("notify") != ""}
	if previewing(c, "message") {
		status := http.StatusOK
		form.Previewed = true
		if form.PreviewHTML, form.Errors = h.renderPreview("message", form.Message); form.Errors != nil {
			status = http.StatusUnprocessableEntity
		}
		return h.renderMaintenanceUpdate(c, status, m, form)
	}
	in := models.MaintenanceUpdateInput{Message: form.Message, Notify: form.Notify}
	var val models.Validator
	if m.Status == models.MaintenanceInProgress && form.WindowEnd != formTime(m.WindowEnd, loc) {
		end := parseFormTime(&val, "window_end", form.WindowEnd, loc)
		in.WindowEnd = &end
	}
	err = val.Err()
	counted, notified := models.CountNotified(ctx)
	if err == nil {
		_, err = h.Store.PostMaintenanceUpdate(counted, id, in)
	}
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		form.Errors = ve.Fields
		return h.renderMaintenanceUpdate(c, http.StatusUnprocessableEntity, m, form)
	}
	if errors.Is(err, models.ErrMaintenanceState) {
		return h.RedirectWithFlash(c, "/admin/maintenance", "error",
			fmt.Sprintf("“%s” ended or changed meanwhile; it can no longer be updated.", m.Title))
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Update posted to “%s”.", m.Title)
	if in.WindowEnd != nil {
		msg = fmt.Sprintf("“%s” now ends %s %s.", m.Title, in.WindowEnd.In(loc).Format("Jan 2, 15:04"), zoneInSentence(loc))
	}
	return h.RedirectWithFlash(c, "/admin/maintenance", "success", msg+" "+notifiedSentence(notified.Channels()))
}

func (h *Handler) renderMaintenanceUpdate(c echo.Context, status int, m *models.Maintenance, v views.MaintenanceUpdateFormView) error {
	ch, err := h.adminChrome(c, "Update "+m.Title, "maintenance")
	if err != nil {
		return err
	}
	page, err := h.managedPage(c)
	if err != nil {
		return err
	}
	v.Chrome = ch
	v.Zone = zoneLabel(pageLocation(page), h.Now())
	v.Maintenance = h.MaintenanceView(m, page, false)
	v.InProgress = m.Status == models.MaintenanceInProgress
	return serve.Render(c, status, views.MaintenanceUpdatePage(v))
}
