package api

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	"github.com/labstack/echo/v4"
)

// incidentUpdateBody is the body of POST /api/v1/incidents/:id/updates.
// Left out, status stays as it is, impact too, no component changes, and
// channels are notified; deliver_notifications: false saves and shows the
// update but announces it to no channel.
type incidentUpdateBody struct {
	Status               optional[string]            `json:"status"`
	Body                 optional[string]            `json:"body"`
	ImpactOverride       optional[string]            `json:"impact_override"`
	Components           optional[map[string]string] `json:"components"`
	DeliverNotifications optional[bool]              `json:"deliver_notifications"`
	NotifySubscribers    optional[bool]              `json:"notify_subscribers"`
}

// incidentPatchBody is the body of PATCH /api/v1/incidents/:id, wrapped
// in "incident" or bare. The name (a correction, announced only with
// deliver_notifications: true) and the postmortem are edited in place;
// the other fields of an incident are known here so that sending one is a
// 422 that says where it changes, not an "unknown field".
type incidentPatchBody struct {
	PostmortemBody       optional[string] `json:"postmortem_body"`
	Name                 optional[string] `json:"name"`
	DeliverNotifications optional[bool]   `json:"deliver_notifications"`
	Status               json.RawMessage  `json:"status"`
	ImpactOverride       json.RawMessage  `json:"impact_override"`
	Body                 json.RawMessage  `json:"body"`
	Components           json.RawMessage  `json:"components"`
	Backfilled           json.RawMessage  `json:"backfilled"`
	BackfillDate         json.RawMessage  `json:"backfill_date"`
	ResolvedDate         json.RawMessage  `json:"resolved_date"`
}

// refused names each field sent that PATCH does not change.
func (b *incidentPatchBody) refused(id int64) error {
	var v models.Validator
	viaUpdate := fmt.Sprintf("changes with an update: POST %s/incidents/%d/updates.", apiPrefix, id)
	for field, raw := range map[string]json.RawMessage{"status": b.Status, "impact_override": b.ImpactOverride,
		"body": b.Body, "components": b.Components} {
		v.Check(raw == nil, field, fmt.Sprintf("“%s” %s", field, viaUpdate))
	}
	for field, raw := range map[string]json.RawMessage{"backfilled": b.Backfilled, "backfill_date": b.BackfillDate,
		"resolved_date": b.ResolvedDate} {
		v.Check(raw == nil, field, fmt.Sprintf("“%s” is set when the incident is created and cannot change.", field))
	}
	v.Check(!b.DeliverNotifications.Set || b.Name.Set, "deliver_notifications",
		"“deliver_notifications” goes with a corrected “name”: it says whether channels hear of the correction.")
	return v.Err()
}

// updatePatchBody is the body of PATCH
// /api/v1/incidents/:id/updates/:update_id, wrapped in "incident_update"
// or bare: a corrected message, announced to channels only with
// deliver_notifications: true.
type updatePatchBody struct {
	Body                 optional[string] `json:"body"`
	DeliverNotifications optional[bool]   `json:"deliver_notifications"`
}

// APIPostIncidentUpdate is POST /api/v1/incidents/:id/updates: a new
// entry of the timeline, through the same models call as the admin's
// update form. Posting status resolved resolves the incident.
func (h *Handler) APIPostIncidentUpdate(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", incidentGone, "")
	}
	var body incidentUpdateBody
	if err := decodeJSON(c, &body); err != nil {
		return h.apiFail(c, err, "")
	}
	inc, err := h.pageIncident(c, id)
	if err != nil {
		return h.apiFail(c, err, incidentGone)
	}
	set, err := componentStatusMap(body.Components.Value)
	if err != nil {
		return h.apiFail(c, err, "")
	}
	// "automatic" gives a chosen impact back to the components.
	automatic := body.ImpactOverride.Set && body.ImpactOverride.Value == automaticImpact
	if automatic {
		body.ImpactOverride = optional[string]{}
	}
	var v models.Validator
	checkImpactOverride(&v, body.ImpactOverride)
	if err := v.Err(); err != nil {
		return h.apiFail(c, err, "")
	}
	in := models.IncidentUpdateInput{Status: inc.Status, Impact: models.Impact(body.ImpactOverride.Value),
		AutomaticImpact: automatic, Message: body.Body.Value, Components: set,
		Silent:           body.DeliverNotifications.Set && !body.DeliverNotifications.Value,
		QuietSubscribers: quietSubscribers(body.DeliverNotifications, body.NotifySubscribers)}
	if body.Status.Set {
		in.Status = models.IncidentStatus(body.Status.Value)
	}
	u, err := h.Store.PostIncidentUpdate(c.Request().Context(), id, in)
	if err != nil {
		return h.apiFail(c, rewriteValidation(err,
			fieldRewrite{from: "message", to: "body"},
			fieldRewrite{from: "status", to: "status", message: useOneOf(models.IncidentStatuses)},
			fieldRewrite{from: "impact", to: "impact_override", message: useOneOfOrAutomatic()},
			componentsRewrite(set)), incidentGone)
	}
	return c.JSON(http.StatusCreated, incidentUpdateJSON(u))
}

// APIResolveIncident is POST /api/v1/incidents/:id/resolve with an
// optional {"body"}: the admin's Resolve button. The affected components
// go back to operational.
func (h *Handler) APIResolveIncident(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", incidentGone, "")
	}
	var body struct {
		Body optional[string] `json:"body"`
	}
	if err := decodeOptionalJSON(c, &body); err != nil {
		return h.apiFail(c, err, "")
	}
	inc, err := h.pageIncident(c, id)
	if err != nil {
		return h.apiFail(c, err, incidentGone)
	}
	if inc.Status == models.IncidentResolved {
		return serve.JSONError(c, http.StatusConflict, "conflict",
			"This incident is already resolved. To add to its timeline, post an update.", "")
	}
	if _, err := h.Store.ResolveIncident(c.Request().Context(), id, body.Body.Value); err != nil {
		return h.apiFail(c, rewriteValidation(err, fieldRewrite{from: "message", to: "body"}), incidentGone)
	}
	return h.incidentAnswer(c, http.StatusOK, id)
}

// APIUpdateIncident is PATCH /api/v1/incidents/:id: it corrects the
// name and publishes, edits or (with "") removes the postmortem.
// Everything else about an incident changes by posting an update.
func (h *Handler) APIUpdateIncident(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", incidentGone, "")
	}
	var body incidentPatchBody
	if err := decodeWrapped(c, "incident", &body); err != nil {
		return h.apiFail(c, err, "")
	}
	if _, err := h.pageIncident(c, id); err != nil {
		return h.apiFail(c, err, incidentGone)
	}
	if err := body.refused(id); err != nil {
		return h.apiFail(c, err, "")
	}
	var patch models.IncidentPatch
	if body.Name.Set {
		patch.Title = &models.IncidentTitleInput{Title: body.Name.Value, Notify: body.DeliverNotifications.Value}
	}
	if body.PostmortemBody.Set {
		patch.Postmortem = &body.PostmortemBody.Value
	}
	err := h.Store.PatchIncident(c.Request().Context(), id, patch)
	if err != nil {
		return h.apiFail(c, rewriteValidation(err, fieldRewrite{from: "title", to: "name"},
			fieldRewrite{from: "postmortem", to: "postmortem_body"}), incidentGone)
	}
	return h.incidentAnswer(c, http.StatusOK, id)
}

// APIDeleteIncident is DELETE /api/v1/incidents/:id: the incident and its
// timeline go; component statuses stay.
func (h *Handler) APIDeleteIncident(c echo.Context) error {
	// It takes no body; a malformed one is refused, not ignored.
	if err := decodeNoFields(c); err != nil {
		return h.apiFail(c, err, "")
	}
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", incidentGone, "")
	}
	if _, err := h.pageIncident(c, id); err != nil {
		return h.apiFail(c, err, incidentGone)
	}
	if err := h.Store.DeleteIncident(c.Request().Context(), id); err != nil {
		return h.apiFail(c, err, incidentGone)
	}
	return c.NoContent(http.StatusNoContent)
}

// APIEditIncidentUpdate is PATCH /api/v1/incidents/:id/updates/:update_id:
// it corrects an update's message, which pages then mark as edited. Its
// status, time and component statuses stay.
func (h *Handler) APIEditIncidentUpdate(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", incidentGone, "")
	}
	updateID, ok := apiPathID(c, "update_id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", updateGone, "")
	}
	var body updatePatchBody
	if err := decodeWrapped(c, "incident_update", &body); err != nil {
		return h.apiFail(c, err, "")
	}
	if _, err := h.pageIncident(c, id); err != nil {
		return h.apiFail(c, err, incidentGone)
	}
	u, err := h.Store.EditIncidentUpdate(c.Request().Context(), id, updateID,
		models.UpdateMessageInput{Message: body.Body.Value, Notify: body.DeliverNotifications.Value})
	if err != nil {
		return h.apiFail(c, rewriteValidation(err, fieldRewrite{from: "message", to: "body"}), updateGone)
	}
	return c.JSON(http.StatusOK, incidentUpdateJSON(u))
}

const updateGone = "That update does not exist on this incident."
