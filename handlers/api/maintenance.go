package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	"github.com/labstack/echo/v4"
)

const maintenanceGone = "That maintenance does not exist."

// maintenanceStatuses are the values of ?status= on the list.
var maintenanceStatuses = []models.MaintenanceStatus{models.MaintenanceScheduled, models.MaintenanceInProgress,
	models.MaintenanceCompleted, models.MaintenanceCancelled}

// apiMaintenance is a maintenance window as the API shows it, in
// Statuspage's words: the window is scheduled_for to scheduled_until.
type apiMaintenance struct {
	ID             string `json:"id"`
	PageID         string `json:"page_id"`
	Name           string `json:"name"`
	Body           string `json:"body"`
	Status         string `json:"status"`
	ScheduledFor   string `json:"scheduled_for"`
	ScheduledUntil string `json:"scheduled_until"`
	// AutoTransitionToMaintenanceState: the components are
	// under_maintenance during the window.
	AutoTransitionToMaintenanceState bool     `json:"auto_transition_to_maintenance_state"`
	Components                       []string `json:"components"`
	// IncidentUpdates are the updates posted to the window, newest
	// first, under Statuspage's name for them.
	IncidentUpdates []apiMaintenanceUpdate `json:"incident_updates"`
	StartedAt       *string                `json:"started_at"`
	CompletedAt     *string                `json:"completed_at"`
	Shortlink       string                 `json:"shortlink"`
	CreatedAt       string                 `json:"created_at"`
	UpdatedAt       string                 `json:"updated_at"`
}

// apiMaintenanceUpdate is an update posted to a maintenance window.
type apiMaintenanceUpdate struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Body      string `json:"body"`
	CreatedAt string `json:"created_at"`
}

func (h *Handler) maintenanceJSON(c echo.Context, m *models.Maintenance) apiMaintenance {
	out := apiMaintenance{ID: formatAPIID(m.ID), PageID: formatAPIID(m.PageID), Name: m.Title, Body: m.Message,
		Status: string(m.Status), ScheduledFor: formatAPITime(m.WindowStart), ScheduledUntil: formatAPITime(m.WindowEnd),
		AutoTransitionToMaintenanceState: m.SetMaintenance, Components: make([]string, len(m.Components)),
		StartedAt: apiTimePtr(m.StartedAt), CompletedAt: apiTimePtr(m.CompletedAt),
		Shortlink: h.publicURL(c, "/maintenance/"+formatAPIID(m.ID)),
		CreatedAt: formatAPITime(m.CreatedAt), UpdatedAt: formatAPITime(m.UpdatedAt)}
	for i, comp := range m.Components {
		out.Components[i] = formatAPIID(comp.ID)
	}
	out.IncidentUpdates = make([]apiMaintenanceUpdate, len(m.Updates))
	for i, u := range m.Updates {
		out.IncidentUpdates[i] = apiMaintenanceUpdate{ID: formatAPIID(u.ID), Status: string(u.Status), Body: u.Message,
			CreatedAt: formatAPITime(u.CreatedAt)}
	}
	return out
}

// maintenanceBody is the body of POST and PATCH /api/v1/maintenance,
// wrapped in "scheduled_maintenance" or bare (see decodeWrapped). Fields
// left out keep their value (PATCH) or are empty (POST: no components, no
// automatic under_maintenance, as on Statuspage). components lists ids:
// the status they take is under_maintenance, when
// auto_transition_to_maintenance_state is true.
type maintenanceBody struct {
	Name                             optional[string]  `json:"name"`
	Body                             optional[string]  `json:"body"`
	ScheduledFor                     optional[string]  `json:"scheduled_for"`
	ScheduledUntil                   optional[string]  `json:"scheduled_until"`
	Components                       optional[[]apiID] `json:"components"`
	AutoTransitionToMaintenanceState optional[bool]    `json:"auto_transition_to_maintenance_state"`
	DeliverNotifications             optional[bool]    `json:"deliver_notifications"`
	NotifySubscribers                optional[bool]    `json:"notify_subscribers"`
	// PageID is the page a new window goes on (default: the first page);
	// PATCH refuses it.
	PageID optional[apiID] `json:"page_id"`
}

// apply sets the fields present in b on in; bad times are field errors.
func (b *maintenanceBody) apply(in *models.MaintenanceInput) error {
	var v models.Validator
	if b.Name.Set {
		in.Title = b.Name.Value
	}
	if b.Body.Set {
		in.Message = b.Body.Value
	}
	if b.ScheduledFor.Set {
		in.WindowStart = parseAPITime(&v, "scheduled_for", b.ScheduledFor.Value)
	}
	if b.ScheduledUntil.Set {
		in.WindowEnd = parseAPITime(&v, "scheduled_until", b.ScheduledUntil.Value)
	}
	if b.Components.Set {
		in.ComponentIDs = make([]int64, len(b.Components.Value))
		for i, id := range b.Components.Value {
			in.ComponentIDs[i] = int64(id)
		}
	}
	if b.AutoTransitionToMaintenanceState.Set {
		in.SetMaintenance = b.AutoTransitionToMaintenanceState.Value
	}
	// false schedules the window without maintenance.scheduled; an edit
	// announces nothing either way.
	in.Silent = b.DeliverNotifications.Set && !b.DeliverNotifications.Value
	in.QuietSubscribers = quietSubscribers(b.DeliverNotifications, b.NotifySubscribers)
	return v.Err()
}

// rewrite names the models' fields as the API does.
func (b *maintenanceBody) rewrite(err error) error {
	start, end := "", ""
	if !b.ScheduledFor.Set {
		start = "Send scheduled_for: when the maintenance starts, as an RFC 3339 time."
	}
	if !b.ScheduledUntil.Set {
		end = "Send scheduled_until: when the maintenance ends, as an RFC 3339 time."
	}
	return rewriteValidation(err,
		fieldRewrite{from: "title", to: "name"},
		fieldRewrite{from: "message", to: "body"},
		fieldRewrite{from: "window_start", to: "scheduled_for", message: start},
		fieldRewrite{from: "window_end", to: "scheduled_until", message: end},
		fieldRewrite{from: "components", to: "components", message: "Every id in “components” must be a component of this page."})
}

// pageMaintenance loads a window of the token's page.
func (h *Handler) pageMaintenance(c echo.Context, id int64) (*models.Maintenance, error) {
	m, err := h.Store.Maintenance(c.Request().Context(), id)
	if err != nil {
		return nil, err
	}
	if !tokenReaches(c, m.PageID) {
		return nil, models.ErrNotFound
	}
	return m, nil
}

// maintenanceAnswer loads window id afresh and writes it.
func (h *Handler) maintenanceAnswer(c echo.Context, status int, id int64) error {
	m, err := h.Store.Maintenance(c.Request().Context(), id)
	if err != nil {
		return h.apiFail(c, err, maintenanceGone)
	}
	return c.JSON(status, h.maintenanceJSON(c, m))
}

// maintenanceStateConflict is the 409 for a change the window's state no
// longer allows; allowed says which windows allow it.
func (h *Handler) maintenanceStateConflict(c echo.Context, id int64, verb, allowed string) error {
	m, err := h.Store.Maintenance(c.Request().Context(), id)
	if err != nil {
		return h.apiFail(c, err, maintenanceGone)
	}
	return serve.JSONError(c, http.StatusConflict, "conflict",
		fmt.Sprintf("This maintenance is %s; only %s maintenance can be %s.", serve.LowerLabel(m.Status), allowed, verb), "")
}

// APIListMaintenance is GET /api/v1/maintenance, paginated, filtered by
// ?status=scheduled|in_progress|completed|cancelled. Scheduled and
// in-progress windows come soonest first, other lists latest first.
func (h *Handler) APIListMaintenance(c echo.Context) error {
	paging, filters, err := readListQuery(c, "status", "page_id")
	if err != nil {
		return h.apiFail(c, err, "")
	}
	var f models.MaintenanceFilter
	if s := filters.Get("status"); s != "" {
		if !slices.Contains(maintenanceStatuses, models.MaintenanceStatus(s)) {
			return h.apiFail(c, queryProblem("invalid_parameter", "status", "Filter by one of: scheduled, in_progress, completed, cancelled."), "")
		}
		f.Statuses = []models.MaintenanceStatus{models.MaintenanceStatus(s)}
	}
	// The models count no windows: the list is loaded whole and cut here.
	pageID, err := h.listPage(c)
	if err != nil {
		return h.apiFail(c, err, "")
	}
	all, err := h.Store.Maintenances(c.Request().Context(), pageID, f)
	if err != nil {
		return h.apiFail(c, err, "")
	}
	list := pageOf(all, paging)
	out := make([]apiMaintenance, len(list))
	for i := range list {
		out[i] = h.maintenanceJSON(c, &list[i])
	}
	setListHeaders(c, paging, len(all), filters)
	return c.JSON(http.StatusOK, out)
}

// APIShowMaintenance is GET /api/v1/maintenance/:id.
func (h *Handler) APIShowMaintenance(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", maintenanceGone, "")
	}
	m, err := h.pageMaintenance(c, id)
	if err != nil {
		return h.apiFail(c, err, maintenanceGone)
	}
	return c.JSON(http.StatusOK, h.maintenanceJSON(c, m))
}

// APIScheduleMaintenance is POST /api/v1/maintenance.
func (h *Handler) APIScheduleMaintenance(c echo.Context) error {
	var body maintenanceBody
	if err := decodeWrapped(c, "scheduled_maintenance", &body); err != nil {
		return h.apiFail(c, err, "")
	}
	var in models.MaintenanceInput
	if err := body.apply(&in); err != nil {
		return h.apiFail(c, err, "")
	}
	pageID, err := h.createPage(c, body.PageID)
	if err != nil {
		return h.apiFail(c, err, "")
	}
	m, err := h.Store.ScheduleMaintenance(c.Request().Context(), pageID, in)
	if err != nil {
		return h.apiFail(c, body.rewrite(err), "")
	}
	c.Response().Header().Set("Location", apiPrefix+"/maintenance/"+formatAPIID(m.ID))
	return h.maintenanceAnswer(c, http.StatusCreated, m.ID)
}

// APIUpdateMaintenance is PATCH /api/v1/maintenance/:id: only the fields
// sent change, and only while the window is scheduled (else 409).
func (h *Handler) APIUpdateMaintenance(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", maintenanceGone, "")
	}
	var body maintenanceBody
	if err := decodeWrapped(c, "scheduled_maintenance", &body); err != nil {
		return h.apiFail(c, err, "")
	}
	if err := noPageMove(body.PageID); err != nil {
		return h.apiFail(c, err, "")
	}
	m, err := h.pageMaintenance(c, id)
	if err != nil {
		return h.apiFail(c, err, maintenanceGone)
	}
	if m.Status == models.MaintenanceInProgress && body.onlyEnd() {
		// An overrunning window gets a new end, as on Statuspage.
		return h.postMaintenanceUpdate(c, id, maintenanceUpdateBody{ScheduledUntil: body.ScheduledUntil,
			DeliverNotifications: body.DeliverNotifications}, http.StatusOK)
	}
	if m.Status != models.MaintenanceScheduled {
		return h.maintenanceStateConflict(c, id, "edited", "scheduled")
	}
	in := models.MaintenanceInput{Title: m.Title, Message: m.Message, WindowStart: m.WindowStart, WindowEnd: m.WindowEnd,
		SetMaintenance: m.SetMaintenance}
	for _, comp := range m.Components {
		in.ComponentIDs = append(in.ComponentIDs, comp.ID)
	}
	if err := body.apply(&in); err != nil {
		return h.apiFail(c, err, "")
	}
	_, err = h.Store.UpdateMaintenance(c.Request().Context(), id, in)
	if errors.Is(err, models.ErrMaintenanceState) {
		// The scheduler started the window meanwhile.
		return h.maintenanceStateConflict(c, id, "edited", "scheduled")
	}
	if err != nil {
		return h.apiFail(c, body.rewrite(err), maintenanceGone)
	}
	return h.maintenanceAnswer(c, http.StatusOK, id)
}

// APICancelMaintenance is POST /api/v1/maintenance/:id/cancel: a window
// that has not started is cancelled (else 409).
func (h *Handler) APICancelMaintenance(c echo.Context) error {
	return h.changeMaintenanceState(c, h.Store.CancelMaintenance, "cancelled", "scheduled")
}

// APICompleteMaintenance is POST /api/v1/maintenance/:id/complete: a
// window in progress ends now, as with the admin's End now (else 409).
func (h *Handler) APICompleteMaintenance(c echo.Context) error {
	return h.changeMaintenanceState(c, h.Store.EndMaintenanceNow, "completed", "in-progress")
}

// changeMaintenanceState runs a state change on a window of the token's
// page and answers with the window. These endpoints take no body.
func (h *Handler) changeMaintenanceState(c echo.Context, change func(context.Context, int64) error, verb, allowed string) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", maintenanceGone, "")
	}
	if err := decodeNoFields(c); err != nil {
		return h.apiFail(c, err, "")
	}
	if _, err := h.pageMaintenance(c, id); err != nil {
		return h.apiFail(c, err, maintenanceGone)
	}
	err := change(c.Request().Context(), id)
	if errors.Is(err, models.ErrMaintenanceState) {
		return h.maintenanceStateConflict(c, id, verb, allowed)
	}
	if err != nil {
		return h.apiFail(c, err, maintenanceGone)
	}
	return h.maintenanceAnswer(c, http.StatusOK, id)
}
