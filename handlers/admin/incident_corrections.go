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

const correctionIntro = "The status page shows the correction marked “edited”; the audit log keeps what it said before."

// EditIncidentTitle shows the form that corrects a published title.
func (h *Handler) EditIncidentTitle(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	inc, err := h.Store.Incident(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return h.renderCorrection(c, http.StatusOK, titleCorrection(inc, inc.Title, false, nil))
}

// CorrectIncidentTitle saves a corrected title.
func (h *Handler) CorrectIncidentTitle(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	inc, err := h.Store.Incident(ctx, id)
	if err != nil {
		return err
	}
	title, notify := c.FormValue("title"), c.FormValue("notify") != ""
	ctx, notified := models.CountNotified(ctx)
	_, err = h.Store.EditIncidentTitle(ctx, id, models.IncidentTitleInput{Title: title, Notify: notify})
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		return h.renderCorrection(c, http.StatusUnprocessableEntity, titleCorrection(inc, title, notify, ve.Fields))
	}
	if err != nil {
		return err
	}
	return h.RedirectWithFlash(c, incidentPath(id), "success", "Title corrected. "+notifiedSentence(notified.Channels()))
}

// EditIncidentUpdateMessage shows the form that corrects an update's
// message.
func (h *Handler) EditIncidentUpdateMessage(c echo.Context) error {
	inc, u, err := h.pathUpdate(c)
	if err != nil {
		return err
	}
	return h.renderCorrection(c, http.StatusOK, messageCorrection(inc, u, u.Message, false, nil))
}

// CorrectIncidentUpdateMessage saves an update's corrected message.
func (h *Handler) CorrectIncidentUpdateMessage(c echo.Context) error {
	inc, u, err := h.pathUpdate(c)
	if err != nil {
		return err
	}
	message, notify := c.FormValue("message"), c.FormValue("notify") != ""
	ctx, notified := models.CountNotified(c.Request().Context())
	_, err = h.Store.EditIncidentUpdate(ctx, inc.ID, u.ID, models.UpdateMessageInput{Message: message, Notify: notify})
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		return h.renderCorrection(c, http.StatusUnprocessableEntity, messageCorrection(inc, u, message, notify, ve.Fields))
	}
	if err != nil {
		return err
	}
	return h.RedirectWithFlash(c, incidentPath(inc.ID), "success", "Update corrected. "+notifiedSentence(notified.Channels()))
}

// pathUpdate loads the incident :id and its update :uid; an update of
// another incident is not found.
func (h *Handler) pathUpdate(c echo.Context) (*models.Incident, *models.IncidentUpdate, error) {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return nil, nil, err
	}
	updateID, err := serve.PathID(c, "uid")
	if err != nil {
		return nil, nil, err
	}
	inc, err := h.Store.Incident(c.Request().Context(), id)
	if err != nil {
		return nil, nil, err
	}
	for i := range inc.Updates {
		if inc.Updates[i].ID == updateID {
			return inc, &inc.Updates[i], nil
		}
	}
	return nil, nil, fmt.Errorf("update %d of incident %d: %w", updateID, id, models.ErrNotFound)
}

func titleCorrection(inc *models.Incident, title string, notify bool, errs map[string]string) views.CorrectionFormView {
	return views.CorrectionFormView{Heading: "Correct the title", Intro: correctionIntro,
		Action: incidentPath(inc.ID), Cancel: incidentPath(inc.ID), Field: "title", Label: "Title", Value: title,
		Help: fmt.Sprintf("Published as “%s”.", inc.Title), MaxLength: models.MaxTitleLength, Notify: notify, Errors: errs}
}

func messageCorrection(inc *models.Incident, u *models.IncidentUpdate, message string, notify bool, errs map[string]string) views.CorrectionFormView {
	return views.CorrectionFormView{Heading: "Correct an update", Intro: correctionIntro,
		Action: fmt.Sprintf("%s/updates/%d", incidentPath(inc.ID), u.ID), Cancel: incidentPath(inc.ID),
		Multiline: true, Field: "message", Label: "Message",
		Value: message, Help: fmt.Sprintf("The %s update of “%s”, posted %s UTC. Markdown. Its status and time stay.",
			u.Status.Label(), inc.Title, u.CreatedAt.UTC().Format("Jan 2, 2006 15:04")),
		MaxLength: models.MaxMessageLength, Notify: notify, Errors: errs}
}

func (h *Handler) renderCorrection(c echo.Context, status int, v views.CorrectionFormView) error {
	ch, err := h.adminChrome(c, v.Heading, "incidents")
	if err != nil {
		return err
	}
	v.Chrome = ch
	return serve.Render(c, status, views.CorrectionFormPage(v))
}
