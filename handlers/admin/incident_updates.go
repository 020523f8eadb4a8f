package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/labstack/echo/v4"
)

// PostIncidentUpdate adds an update to an incident's timeline.
func (h *Handler) PostIncidentUpdate(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	inc, err := h.Store.Incident(ctx, id)
	if err != nil {
		return err
	}
	form := views.IncidentUpdateForm{
		Status:  c.FormValue("status"),
		Impact:  c.FormValue("impact"),
		Message: c.FormValue("message"),
		Notify:  formNotify(c),
	}
	form.NotifySubscribers = formNotifySubscribers(c, form.Notify)
	var val models.Validator
	picked, set := componentStatusesFromForm(c, &val)
	if previewing(c, "message") {
		status := http.StatusOK
		form.Previewed = true
		if form.PreviewHTML, form.Errors = h.renderPreview("message", form.Message); form.Errors != nil {
			status = http.StatusUnprocessableEntity
		}
		v := views.IncidentDetailView{Update: form, Postmortem: inc.Postmortem}
		return h.renderIncidentDetail(c, status, inc, v, picked)
	}
	// The selects come preset to the current statuses: only what moved is
	// part of this update.
	for _, comp := range inc.Components {
		if s, ok := set[comp.ID]; ok && s == comp.Status {
			delete(set, comp.ID)
		}
	}
	err = val.Err()
	counted, notified := models.CountNotified(ctx)
	if err == nil {
		in := models.IncidentUpdateInput{Status: models.IncidentStatus(form.Status), Impact: models.Impact(form.Impact),
			Message: form.Message, Components: set, Silent: !form.Notify,
			QuietSubscribers: !form.NotifySubscribers}
		// The select's empty choice is "Automatic"; a form without the
		// field leaves the impact as it is.
		if _, sent := c.Request().PostForm["impact"]; sent && form.Impact == "" {
			in.AutomaticImpact = true
		}
		_, err = h.Store.PostIncidentUpdate(counted, id, in)
	}
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		form.Errors = ve.Fields
		v := views.IncidentDetailView{Update: form, Postmortem: inc.Postmortem}
		return h.renderIncidentDetail(c, http.StatusUnprocessableEntity, inc, v, picked)
	}
	if err != nil {
		return err
	}
	msg := "Update posted."
	if models.IncidentStatus(form.Status) == models.IncidentResolved {
		msg = fmt.Sprintf("Incident “%s” resolved.", inc.Title)
	}
	return h.RedirectWithFlash(c, incidentPath(id), "success", msg+" "+notifiedSentence(notified.Channels()))
}

// ResolveIncident resolves an incident with an optional closing message and
// sets its components back to operational.
func (h *Handler) ResolveIncident(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	inc, err := h.Store.Incident(ctx, id)
	if err != nil {
		return err
	}
	if inc.Status == models.IncidentResolved {
		return h.RedirectWithFlash(c, incidentPath(id), "error", "This incident is already resolved.")
	}
	message := c.FormValue("message")
	counted, notified := models.CountNotified(ctx)
	_, err = h.Store.ResolveIncident(counted, id, message)
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		v := views.IncidentDetailView{
			Update:         views.IncidentUpdateForm{Status: string(inc.Status), Impact: impactChoice(inc), Notify: true, NotifySubscribers: true},
			ResolveMessage: message,
			ResolveErrors:  ve.Fields,
			Postmortem:     inc.Postmortem,
		}
		return h.renderIncidentDetail(c, http.StatusUnprocessableEntity, inc, v, currentPicks(inc))
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Incident “%s” resolved.", inc.Title)
	if len(inc.Components) > 0 {
		msg += " Its components are operational again."
	}
	return h.RedirectWithFlash(c, incidentPath(id), "success", msg+" "+notifiedSentence(notified.Channels()))
}

// SavePostmortem publishes, changes or removes an incident's postmortem.
func (h *Handler) SavePostmortem(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	inc, err := h.Store.Incident(ctx, id)
	if err != nil {
		return err
	}
	body := c.FormValue("postmortem")
	if previewing(c, "postmortem") {
		v := views.IncidentDetailView{
			Update:              views.IncidentUpdateForm{Status: string(inc.Status), Impact: impactChoice(inc), Notify: true, NotifySubscribers: true},
			Postmortem:          body,
			PostmortemPreviewed: true,
		}
		status := http.StatusOK
		if v.PostmortemPreviewHTML, v.PostmortemErrors = h.renderPreview("postmortem", body); v.PostmortemErrors != nil {
			status = http.StatusUnprocessableEntity
		}
		return h.renderIncidentDetail(c, status, inc, v, currentPicks(inc))
	}
	err = h.Store.SetPostmortem(ctx, id, body)
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		v := views.IncidentDetailView{
			Update:           views.IncidentUpdateForm{Status: string(inc.Status), Impact: impactChoice(inc), Notify: true, NotifySubscribers: true},
			Postmortem:       body,
			PostmortemErrors: ve.Fields,
		}
		return h.renderIncidentDetail(c, http.StatusUnprocessableEntity, inc, v, currentPicks(inc))
	}
	if err != nil {
		return err
	}
	msg := "Postmortem published."
	switch {
	case strings.TrimSpace(body) == "":
		msg = "Postmortem removed."
	case inc.Postmortem != "":
		msg = "Postmortem saved."
	}
	return h.RedirectWithFlash(c, incidentPath(id)+"#postmortem", "success", msg)
}

// ConfirmDeleteIncident asks before deleting an incident.
func (h *Handler) ConfirmDeleteIncident(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	inc, err := h.Store.Incident(c.Request().Context(), id)
	if err != nil {
		return err
	}
	ch, err := h.adminChrome(c, "Delete "+inc.Title, "incidents")
	if err != nil {
		return err
	}
	return serve.Render(c, http.StatusOK, views.ConfirmPage(views.ConfirmView{
		Chrome:   ch,
		Question: fmt.Sprintf("Delete incident “%s”?", inc.Title),
		Detail:   "The incident and its whole timeline disappear from the status page and its history. Component statuses stay as they are. This cannot be undone.",
		Action:   incidentPath(id) + "/delete",
		Confirm:  "Delete incident",
		Cancel:   incidentPath(id),
	}))
}

// DeleteIncident deletes an incident after confirmation.
func (h *Handler) DeleteIncident(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	inc, err := h.Store.Incident(ctx, id)
	if err != nil {
		return err
	}
	if err := h.Store.DeleteIncident(ctx, id); err != nil {
		return err
	}
	return h.RedirectWithFlash(c, "/admin/incidents", "success", fmt.Sprintf("Incident “%s” deleted.", inc.Title))
}
