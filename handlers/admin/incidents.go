package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/heraldstatus/herald/views/layout"
	"github.com/labstack/echo/v4"
)

const incidentsPerPage = 50

func incidentPath(id int64) string { return fmt.Sprintf("/admin/incidents/%d", id) }

// ListIncidents shows a page's incidents, most recent first.
func (h *Handler) ListIncidents(c echo.Context) error {
	ctx := c.Request().Context()
	ch, err := h.adminChrome(c, "Incidents", "incidents")
	if err != nil {
		return err
	}
	page := listPage(c)
	total, err := h.Store.CountIncidents(ctx, pageID(c))
	if err != nil {
		return err
	}
	list, err := h.Store.Incidents(ctx, pageID(c), models.IncidentFilter{
		Limit: incidentsPerPage, Offset: (page - 1) * incidentsPerPage})
	if err != nil {
		return err
	}
	v := views.AdminIncidentsView{Chrome: ch}
	now := h.Now()
	for _, inc := range list {
		v.Rows = append(v.Rows, views.AdminIncidentRow{ID: inc.ID, Title: inc.Title,
			Status: serve.IncidentStatusView(inc.Status), Impact: serve.ImpactView(inc.Impact),
			Started: layout.Time{At: inc.StartedAt}, StartedAgo: relativeTime(now, inc.StartedAt),
			Backfilled: inc.Backfilled})
	}
	if page > 1 {
		v.Newer = "/admin/incidents?page=" + strconv.Itoa(page-1)
	}
	if int64(page*incidentsPerPage) < total {
		v.Older = "/admin/incidents?page=" + strconv.Itoa(page+1)
	}
	return serve.Render(c, http.StatusOK, views.AdminIncidentsPage(v))
}

// listPage reads ?page=; anything odd is the first page.
func listPage(c echo.Context) int {
	n, err := strconv.Atoi(c.QueryParam("page"))
	if err != nil || n < 1 || n > 100000 {
		return 1
	}
	return n
}

// NewIncident shows the form that opens an incident.
func (h *Handler) NewIncident(c echo.Context) error {
	return h.renderIncidentForm(c, http.StatusOK,
		views.IncidentFormView{Status: string(models.IncidentInvestigating), Notify: true, NotifySubscribers: true}, nil)
}

func (h *Handler) renderIncidentForm(c echo.Context, status int, v views.IncidentFormView, picked map[int64]string) error {
	ch, err := h.adminChrome(c, "New incident", "incidents")
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
	v.Components = componentPickList(comps, picked)
	v.Statuses = incidentStatusOptions(false)
	v.Impacts = impactOptions(automaticImpact)
	v.ComponentStatuses = componentStatusChoices()
	return serve.Render(c, status, views.IncidentFormPage(v))
}

func componentPickList(comps []models.Component, picked map[int64]string) []views.ComponentPick {
	out := make([]views.ComponentPick, len(comps))
	for i, comp := range comps {
		out[i] = views.ComponentPick{ID: comp.ID, Name: comp.Name, Value: picked[comp.ID],
			Visible: comp.Visible, Current: serve.StatusView(comp.Status)}
	}
	return out
}

func incidentStatusOptions(withResolved bool) []layout.Option {
	var out []layout.Option
	for _, s := range models.IncidentStatuses {
		if s == models.IncidentResolved && !withResolved {
			continue
		}
		out = append(out, layout.Option{Value: string(s), Label: s.Label()})
	}
	return out
}

// automaticImpact labels the impact select's empty choice: the impact
// follows the worst status of the visible affected components on every
// update. Any other choice is explicit and stays until changed.
const automaticImpact = "Automatic (follows components)"

// impactOptions lists the impacts after a first, empty choice labelled
// empty.
func impactOptions(empty string) []layout.Option {
	out := []layout.Option{{Value: "", Label: empty}}
	for _, i := range models.Impacts {
		out = append(out, layout.Option{Value: string(i), Label: i.Label()})
	}
	return out
}

func componentStatusChoices() []layout.Option {
	return append([]layout.Option{{Value: "", Label: "Not affected"}}, statusOptions()...)
}

// componentStatusesFromForm reads the component_<id> selects. It returns
// what was picked (to show the form again) and the statuses to set; a
// malformed field name is a field error, an unknown id is left to the
// models, which check that every component exists.
func componentStatusesFromForm(c echo.Context, val *models.Validator) (map[int64]string, map[int64]models.ComponentStatus) {
	picked := map[int64]string{}
	set := map[int64]models.ComponentStatus{}
	form, err := c.FormParams()
	if err != nil {
		val.Add("components", "Choose components from the list.")
		return picked, set
	}
	for key, values := range form {
		rest, ok := strings.CutPrefix(key, "component_")
		if !ok || len(values) == 0 || values[0] == "" {
			continue
		}
		id, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || id <= 0 {
			val.Add("components", "Choose components from the list.")
			continue
		}
		picked[id] = values[0]
		set[id] = models.ComponentStatus(values[0])
	}
	return picked, set
}

// incidentForm reads the new-incident form, its times in loc. What the
// models cannot judge (unparsable times, malformed field names) is checked
// here.
func incidentForm(c echo.Context, loc *time.Location) (models.IncidentInput, views.IncidentFormView, map[int64]string, models.Validator) {
	v := views.IncidentFormView{
		Title:      c.FormValue("title"),
		Status:     c.FormValue("status"),
		Impact:     c.FormValue("impact"),
		Message:    c.FormValue("message"),
		Backfill:   c.FormValue("backfill") == "1",
		StartedAt:  c.FormValue("started_at"),
		ResolvedAt: c.FormValue("resolved_at"),
		Notify:     formNotify(c),
	}
	v.NotifySubscribers = formNotifySubscribers(c, v.Notify)
	in := models.IncidentInput{Title: v.Title, Status: models.IncidentStatus(v.Status),
		Impact: models.Impact(v.Impact), Message: v.Message, Backfill: v.Backfill, Silent: !v.Notify,
		QuietSubscribers: !v.NotifySubscribers}
	var val models.Validator
	picked, set := componentStatusesFromForm(c, &val)
	in.Components = set
	if in.Backfill {
		in.StartedAt = parseFormTime(&val, "started_at", v.StartedAt, loc)
		in.ResolvedAt = parseFormTime(&val, "resolved_at", v.ResolvedAt, loc)
	}
	return in, v, picked, val
}

// CreateIncident opens an incident (or records a back-filled one); with
// the Preview button it shows the form again with the message rendered.
func (h *Handler) CreateIncident(c echo.Context) error {
	loc, err := h.pageZone(c)
	if err != nil {
		return err
	}
	in, v, picked, val := incidentForm(c, loc)
	if previewing(c, "message") {
		status := http.StatusOK
		v.Previewed = true
		if v.PreviewHTML, v.Errors = h.renderPreview("message", v.Message); v.Errors != nil {
			status = http.StatusUnprocessableEntity
		}
		return h.renderIncidentForm(c, status, v, picked)
	}
	if err := val.Err(); err != nil {
		return h.incidentFormError(c, v, picked, err)
	}
	ctx, notified := models.CountNotified(c.Request().Context())
	inc, err := h.Store.CreateIncident(ctx, pageID(c), in)
	if err != nil {
		return h.incidentFormError(c, v, picked, err)
	}
	msg := fmt.Sprintf("Incident “%s” published. %s", inc.Title, notifiedSentence(notified.Channels()))
	if inc.Backfilled {
		msg = fmt.Sprintf("Past incident “%s” recorded. No channels notified.", inc.Title)
	}
	return h.RedirectWithFlash(c, incidentPath(inc.ID), "success", msg)
}

func (h *Handler) incidentFormError(c echo.Context, v views.IncidentFormView, picked map[int64]string, err error) error {
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		v.Errors = ve.Fields
		return h.renderIncidentForm(c, http.StatusUnprocessableEntity, v, picked)
	}
	return err
}

// ShowIncident is an incident's admin page: timeline, update form,
// resolve, postmortem and delete.
func (h *Handler) ShowIncident(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	inc, err := h.Store.Incident(c.Request().Context(), id)
	if err != nil {
		return err
	}
	v := views.IncidentDetailView{
		Update:     views.IncidentUpdateForm{Status: string(inc.Status), Impact: impactChoice(inc), Notify: true, NotifySubscribers: true},
		Postmortem: inc.Postmortem,
	}
	return h.renderIncidentDetail(c, http.StatusOK, inc, v, currentPicks(inc))
}

// impactChoice presets the update form's impact select: the chosen
// impact, or automatic.
func impactChoice(inc *models.Incident) string {
	if inc.ImpactExplicit {
		return string(inc.Impact)
	}
	return ""
}

// currentPicks presets the update form's selects: each affected component
// at its current status.
func currentPicks(inc *models.Incident) map[int64]string {
	picked := map[int64]string{}
	for _, comp := range inc.Components {
		picked[comp.ID] = string(comp.Status)
	}
	return picked
}

func (h *Handler) renderIncidentDetail(c echo.Context, status int, inc *models.Incident, v views.IncidentDetailView, picked map[int64]string) error {
	ch, err := h.adminChrome(c, inc.Title, "incidents")
	if err != nil {
		return err
	}
	comps, err := h.Store.Components(c.Request().Context(), inc.PageID)
	if err != nil {
		return err
	}
	page, err := h.managedPage(c)
	if err != nil {
		return err
	}
	v.Chrome = ch
	v.Incident = h.IncidentView(inc, page, false)
	v.Update.Components = componentPickList(comps, picked)
	v.Statuses = incidentStatusOptions(true)
	v.Impacts = impactOptions(automaticImpact)
	v.ComponentStatuses = componentStatusChoices()
	return serve.Render(c, status, views.IncidentDetailPage(v))
}
