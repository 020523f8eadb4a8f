package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/labstack/echo/v4"
)

const pastMaintenanceShown = 50

// ListMaintenance shows windows in progress and upcoming, then past ones.
func (h *Handler) ListMaintenance(c echo.Context) error {
	ctx := c.Request().Context()
	ch, err := h.adminChrome(c, "Maintenance", "maintenance")
	if err != nil {
		return err
	}
	current, err := h.currentMaintenance(ctx, pageID(c))
	if err != nil {
		return err
	}
	past, err := h.Store.Maintenances(ctx, pageID(c), models.MaintenanceFilter{
		Statuses: []models.MaintenanceStatus{models.MaintenanceCompleted, models.MaintenanceCancelled},
		Limit:    pastMaintenanceShown})
	if err != nil {
		return err
	}
	v := views.AdminMaintenanceView{Chrome: ch}
	for i := range current {
		v.Current = append(v.Current, h.adminMaintenanceRow(&current[i]))
	}
	for i := range past {
		v.Past = append(v.Past, h.adminMaintenanceRow(&past[i]))
	}
	return serve.Render(c, http.StatusOK, views.AdminMaintenancePage(v))
}

// currentMaintenance lists windows in progress, then upcoming ones, each
// soonest first.
func (h *Handler) currentMaintenance(ctx context.Context, pageID int64) ([]models.Maintenance, error) {
	list, err := h.Store.Maintenances(ctx, pageID, models.MaintenanceFilter{
		Statuses: []models.MaintenanceStatus{models.MaintenanceInProgress, models.MaintenanceScheduled}})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(list, func(i, j int) bool {
		return list[i].Status == models.MaintenanceInProgress && list[j].Status != models.MaintenanceInProgress
	})
	return list, nil
}

func (h *Handler) adminMaintenanceRow(m *models.Maintenance) views.AdminMaintenanceRow {
	return views.AdminMaintenanceRow{
		MaintenanceView: h.MaintenanceView(m, nil, false), // lists show no message
		CanEdit:         m.Status == models.MaintenanceScheduled,
		CanEnd:          m.Status == models.MaintenanceInProgress,
	}
}

// NewMaintenance shows an empty schedule form, starting at the next full
// hour for two hours.
func (h *Handler) NewMaintenance(c echo.Context) error {
	loc, err := h.pageZone(c)
	if err != nil {
		return err
	}
	start := h.Now().UTC().Truncate(time.Hour).Add(time.Hour)
	return h.renderMaintenanceForm(c, http.StatusOK, views.MaintenanceFormView{
		WindowStart: formTime(start, loc), WindowEnd: formTime(start.Add(2*time.Hour), loc), SetMaintenance: true, Notify: true, NotifySubscribers: true}, nil)
}

// EditMaintenance shows the form of a window that has not started yet.
func (h *Handler) EditMaintenance(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	m, err := h.Store.Maintenance(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if m.Status != models.MaintenanceScheduled {
		return h.maintenanceStateError(c, m, "edited")
	}
	loc, err := h.pageZone(c)
	if err != nil {
		return err
	}
	checked := map[int64]bool{}
	for _, comp := range m.Components {
		checked[comp.ID] = true
	}
	return h.renderMaintenanceForm(c, http.StatusOK, views.MaintenanceFormView{
		ID: m.ID, Title: m.Title, Message: m.Message, WindowStart: formTime(m.WindowStart, loc),
		WindowEnd: formTime(m.WindowEnd, loc), SetMaintenance: m.SetMaintenance}, checked)
}

// maintenanceStateError explains, on the list, why a window can no longer
// be changed.
func (h *Handler) maintenanceStateError(c echo.Context, m *models.Maintenance, verb string) error {
	return h.RedirectWithFlash(c, "/admin/maintenance", "error",
		fmt.Sprintf("“%s” is %s; only scheduled maintenance can be %s.", m.Title, serve.LowerLabel(m.Status), verb))
}

func (h *Handler) renderMaintenanceForm(c echo.Context, status int, v views.MaintenanceFormView, checked map[int64]bool) error {
	title := "Schedule maintenance"
	if v.ID != 0 {
		title = "Edit " + v.Title
	}
	ch, err := h.adminChrome(c, title, "maintenance")
	if err != nil {
		return err
	}
	comps, err := h.Store.Components(c.Request().Context(), pageID(c))
	if err != nil {
		return err
	}
	loc, err := h.pageZone(c)
	if err != nil {
		return err
	}
	v.Chrome = ch
	v.Zone = zoneLabel(loc, h.Now())
	for _, comp := range comps {
		v.Components = append(v.Components, views.ComponentCheck{ID: comp.ID, Name: comp.Name, Checked: checked[comp.ID]})
	}
	return serve.Render(c, status, views.MaintenanceFormPage(v))
}

// maintenanceForm reads the schedule/edit form, its times in loc;
// unparsable times and ids are field errors.
func maintenanceForm(c echo.Context, loc *time.Location) (models.MaintenanceInput, views.MaintenanceFormView, map[int64]bool, models.Validator) {
	v := views.MaintenanceFormView{
		Title:          c.FormValue("title"),
		Message:        c.FormValue("message"),
		WindowStart:    c.FormValue("window_start"),
		WindowEnd:      c.FormValue("window_end"),
		SetMaintenance: c.FormValue("set_maintenance") == "1",
		Notify:         formNotify(c),
	}
	v.NotifySubscribers = formNotifySubscribers(c, v.Notify)
	in := models.MaintenanceInput{Title: v.Title, Message: v.Message, SetMaintenance: v.SetMaintenance, Silent: !v.Notify,
		QuietSubscribers: !v.NotifySubscribers}
	var val models.Validator
	in.WindowStart = parseFormTime(&val, "window_start", v.WindowStart, loc)
	in.WindowEnd = parseFormTime(&val, "window_end", v.WindowEnd, loc)
	checked := map[int64]bool{}
	form, err := c.FormParams()
	if err != nil {
		val.Add("components", "Choose components from the list.")
	}
	for _, raw := range form["component_ids"] {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			val.Add("components", "Choose components from the list.")
			continue
		}
		checked[id] = true
		in.ComponentIDs = append(in.ComponentIDs, id)
	}
	return in, v, checked, val
}

// ScheduleMaintenance creates a window; with the Preview button it shows
// the form again with the message rendered.
func (h *Handler) ScheduleMaintenance(c echo.Context) error {
	loc, err := h.pageZone(c)
	if err != nil {
		return err
	}
	in, v, checked, val := maintenanceForm(c, loc)
	if previewing(c, "message") {
		return h.previewMaintenance(c, v, checked)
	}
	err = val.Err()
	var m *models.Maintenance
	ctx, notified := models.CountNotified(c.Request().Context())
	if err == nil {
		m, err = h.Store.ScheduleMaintenance(ctx, pageID(c), in)
	}
	if err != nil {
		return h.maintenanceFormError(c, v, checked, err)
	}
	return h.RedirectWithFlash(c, "/admin/maintenance", "success",
		fmt.Sprintf("Maintenance “%s” scheduled. %s", m.Title, notifiedSentence(notified.Channels())))
}

// previewMaintenance shows the schedule or edit form again, as typed,
// with its message rendered under the field.
func (h *Handler) previewMaintenance(c echo.Context, v views.MaintenanceFormView, checked map[int64]bool) error {
	status := http.StatusOK
	v.Previewed = true
	if v.PreviewHTML, v.Errors = h.renderPreview("message", v.Message); v.Errors != nil {
		status = http.StatusUnprocessableEntity
	}
	return h.renderMaintenanceForm(c, status, v, checked)
}

// UpdateMaintenance saves the form of a window that has not started.
func (h *Handler) UpdateMaintenance(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	current, err := h.Store.Maintenance(ctx, id)
	if err != nil {
		return err
	}
	if current.Status != models.MaintenanceScheduled {
		return h.maintenanceStateError(c, current, "edited")
	}
	loc, err := h.pageZone(c)
	if err != nil {
		return err
	}
	in, v, checked, val := maintenanceForm(c, loc)
	v.ID = id
	if previewing(c, "message") {
		return h.previewMaintenance(c, v, checked)
	}
	err = val.Err()
	var m *models.Maintenance
	if err == nil {
		m, err = h.Store.UpdateMaintenance(ctx, id, in)
	}
	if errors.Is(err, models.ErrMaintenanceState) {
		// The scheduler started the window while the admin was typing.
		now, lerr := h.Store.Maintenance(ctx, id)
		if lerr != nil {
			return lerr
		}
		return h.maintenanceStateError(c, now, "edited")
	}
	if err != nil {
		return h.maintenanceFormError(c, v, checked, err)
	}
	return h.RedirectWithFlash(c, "/admin/maintenance", "success", fmt.Sprintf("Maintenance “%s” saved.", m.Title))
}

func (h *Handler) maintenanceFormError(c echo.Context, v views.MaintenanceFormView, checked map[int64]bool, err error) error {
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		v.Errors = ve.Fields
		return h.renderMaintenanceForm(c, http.StatusUnprocessableEntity, v, checked)
	}
	return err
}

// ConfirmCancelMaintenance asks before cancelling a scheduled window.
func (h *Handler) ConfirmCancelMaintenance(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	m, err := h.Store.Maintenance(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if m.Status != models.MaintenanceScheduled {
		return h.maintenanceStateError(c, m, "cancelled")
	}
	ch, err := h.adminChrome(c, "Cancel "+m.Title, "maintenance")
	if err != nil {
		return err
	}
	return serve.Render(c, http.StatusOK, views.ConfirmPage(views.ConfirmView{
		Chrome:   ch,
		Question: fmt.Sprintf("Cancel maintenance “%s”?", m.Title),
		Detail:   "The window stays in the history, marked cancelled, and will not start. This cannot be undone.",
		Action:   fmt.Sprintf("/admin/maintenance/%d/cancel", id),
		Confirm:  "Cancel this maintenance",
		Cancel:   "/admin/maintenance",
		Back:     "Keep it",
	}))
}

// CancelMaintenance cancels a scheduled window after confirmation.
func (h *Handler) CancelMaintenance(c echo.Context) error {
	return h.changeMaintenance(c, "cancelled", h.Store.CancelMaintenance, "Maintenance “%s” cancelled.")
}

// EndMaintenanceNow completes an in-progress window at once.
func (h *Handler) EndMaintenanceNow(c echo.Context) error {
	return h.changeMaintenance(c, "ended early", h.Store.EndMaintenanceNow, "Maintenance “%s” ended.")
}

// changeMaintenance runs a state change on a window; a window in the wrong
// state is a flash message, not an error page.
func (h *Handler) changeMaintenance(c echo.Context, verb string, change func(ctx context.Context, id int64) error, done string) error {
	ctx := c.Request().Context()
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	m, err := h.Store.Maintenance(ctx, id)
	if err != nil {
		return err
	}
	err = change(ctx, id)
	if errors.Is(err, models.ErrMaintenanceState) {
		current, lerr := h.Store.Maintenance(ctx, id)
		if lerr != nil {
			return lerr
		}
		return h.RedirectWithFlash(c, "/admin/maintenance", "error",
			fmt.Sprintf("“%s” is %s; it can no longer be %s.", current.Title, serve.LowerLabel(current.Status), verb))
	}
	if err != nil {
		return err
	}
	return h.RedirectWithFlash(c, "/admin/maintenance", "success", fmt.Sprintf(done, m.Title))
}
