package api

import (
	"net/http"
	"slices"
	"time"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	"github.com/labstack/echo/v4"
)

const incidentGone = "That incident does not exist."

// apiIncident is an incident as the API shows it; names follow
// Statuspage's, ids are strings, updates come newest first.
type apiIncident struct {
	ID                    string              `json:"id"`
	PageID                string              `json:"page_id"`
	Name                  string              `json:"name"`
	NameEditedAt          *string             `json:"name_edited_at"` // last correction of the name; null: never
	Status                string              `json:"status"`
	Impact                string              `json:"impact"`
	Backfilled            bool                `json:"backfilled"`
	Components            []string            `json:"components"`
	IncidentUpdates       []apiIncidentUpdate `json:"incident_updates"`
	PostmortemBody        *string             `json:"postmortem_body"`
	PostmortemPublishedAt *string             `json:"postmortem_published_at"`
	Shortlink             string              `json:"shortlink"`
	StartedAt             string              `json:"started_at"`
	MonitoringAt          *string             `json:"monitoring_at"`
	ResolvedAt            *string             `json:"resolved_at"`
	CreatedAt             string              `json:"created_at"`
	UpdatedAt             string              `json:"updated_at"`
}

// apiIncidentUpdate is one entry of an incident's timeline.
type apiIncidentUpdate struct {
	ID         string `json:"id"`
	IncidentID string `json:"incident_id"`
	Status     string `json:"status"`
	Body       string `json:"body"`
	CreatedAt  string `json:"created_at"`
	// EditedAt is when the body was last corrected; null: never.
	EditedAt *string `json:"edited_at"`
	// AffectedComponents is [] when the update set no component, never
	// null, as on /api/v2.
	AffectedComponents []apiAffectedComponent `json:"affected_components"`
}

// apiAffectedComponent is a component status set with an update; code is
// the component's id, null once the component is deleted.
type apiAffectedComponent struct {
	Code      *string `json:"code"`
	Name      string  `json:"name"`
	OldStatus string  `json:"old_status"`
	NewStatus string  `json:"new_status"`
}

func (h *Handler) incidentJSON(c echo.Context, inc *models.Incident) apiIncident {
	out := apiIncident{ID: formatAPIID(inc.ID), PageID: formatAPIID(inc.PageID), Name: inc.Title,
		Status: string(inc.Status), Impact: string(inc.Impact), Backfilled: inc.Backfilled,
		Components:            make([]string, len(inc.Components)),
		IncidentUpdates:       make([]apiIncidentUpdate, len(inc.Updates)),
		PostmortemPublishedAt: apiTimePtr(inc.PostmortemAt),
		NameEditedAt:          apiTimePtr(inc.TitleEditedAt),
		Shortlink:             h.publicURL(c, "/incidents/"+formatAPIID(inc.ID)),
		StartedAt:             formatAPITime(inc.StartedAt),
		MonitoringAt:          apiTimePtr(inc.MonitoringAt),
		ResolvedAt:            apiTimePtr(inc.ResolvedAt),
		CreatedAt:             formatAPITime(inc.CreatedAt),
		UpdatedAt:             formatAPITime(inc.UpdatedAt),
	}
	if inc.Postmortem != "" {
		out.PostmortemBody = &inc.Postmortem
	}
	for i, comp := range inc.Components {
		out.Components[i] = formatAPIID(comp.ID)
	}
	for i := range inc.Updates {
		out.IncidentUpdates[i] = incidentUpdateJSON(&inc.Updates[i])
	}
	return out
}

func incidentUpdateJSON(u *models.IncidentUpdate) apiIncidentUpdate {
	out := apiIncidentUpdate{ID: formatAPIID(u.ID), IncidentID: formatAPIID(u.IncidentID), Status: string(u.Status),
		Body: u.Message, CreatedAt: formatAPITime(u.CreatedAt), EditedAt: apiTimePtr(u.EditedAt),
		AffectedComponents: []apiAffectedComponent{}}
	for _, uc := range u.Components {
		ac := apiAffectedComponent{Name: uc.ComponentName, OldStatus: string(uc.OldStatus), NewStatus: string(uc.NewStatus)}
		if uc.ComponentID != nil {
			code := formatAPIID(*uc.ComponentID)
			ac.Code = &code
		}
		out.AffectedComponents = append(out.AffectedComponents, ac)
	}
	return out
}

// incidentBody is the body of POST /api/v1/incidents, wrapped in
// "incident" or bare (see decodeWrapped). Left out: status investigating,
// impact derived from the component statuses, notifications delivered
// (deliver_notifications defaults to true).
type incidentBody struct {
	Name                 optional[string]            `json:"name"`
	Status               optional[string]            `json:"status"`
	ImpactOverride       optional[string]            `json:"impact_override"`
	Body                 optional[string]            `json:"body"`
	Components           optional[map[string]string] `json:"components"`
	DeliverNotifications optional[bool]              `json:"deliver_notifications"`
	NotifySubscribers    optional[bool]              `json:"notify_subscribers"`
	Backfilled           optional[bool]              `json:"backfilled"`
	BackfillDate         optional[string]            `json:"backfill_date"`
	ResolvedDate         optional[string]            `json:"resolved_date"`
	// PageID is the page a new incident goes on (default: the first
	// page).
	PageID optional[apiID] `json:"page_id"`
}

// input turns b into the models' input. What the models cannot judge
// (times, and flags that contradict each other) is checked here: a
// back-fill needs backfill_date; it is resolved at resolved_date or, left
// out, one second after backfill_date (the models want the end after the
// start). It notifies no one, so deliver_notifications: true is refused
// with it. A live incident with deliver_notifications: false is saved and
// shown but announced to no channel (the admin's unticked "Notify
// channels").
func (b *incidentBody) input() (models.IncidentInput, error) {
	in := models.IncidentInput{Title: b.Name.Value, Status: models.IncidentInvestigating,
		Impact: models.Impact(b.ImpactOverride.Value), Message: b.Body.Value, Backfill: b.Backfilled.Value}
	if b.Status.Set {
		in.Status = models.IncidentStatus(b.Status.Value)
	}
	set, err := componentStatusMap(b.Components.Value)
	if err != nil {
		return in, err
	}
	in.Components = set
	var v models.Validator
	checkImpactOverride(&v, b.ImpactOverride)
	if in.Backfill {
		v.Check(!b.Status.Set || in.Status == models.IncidentResolved, "status",
			"A back-filled incident is recorded resolved: leave status out, or send resolved.")
		v.Check(!b.DeliverNotifications.Value, "deliver_notifications",
			"A back-filled incident notifies no one: leave deliver_notifications out, or send false.")
		v.Check(!b.NotifySubscribers.Value, "notify_subscribers",
			"A back-filled incident notifies no one: leave notify_subscribers out, or send false.")
		v.Check(b.BackfillDate.Set, "backfill_date", "A back-filled incident needs backfill_date: when it started, as an RFC 3339 time.")
		if b.BackfillDate.Set {
			in.StartedAt = parseAPITime(&v, "backfill_date", b.BackfillDate.Value)
		}
		if b.ResolvedDate.Set {
			in.ResolvedAt = parseAPITime(&v, "resolved_date", b.ResolvedDate.Value)
		} else if !in.StartedAt.IsZero() {
			in.ResolvedAt = in.StartedAt.Add(time.Second)
		}
		return in, v.Err()
	}
	in.Silent = b.DeliverNotifications.Set && !b.DeliverNotifications.Value
	in.QuietSubscribers = quietSubscribers(b.DeliverNotifications, b.NotifySubscribers)
	v.Check(!b.BackfillDate.Set, "backfill_date", "backfill_date is for back-filled incidents: send backfilled: true with it.")
	v.Check(!b.ResolvedDate.Set, "resolved_date", "resolved_date is for back-filled incidents: send backfilled: true with it.")
	return in, v.Err()
}

// quietSubscribers reads notify_subscribers: false leaves the visitors who
// subscribed out; left out, it follows deliver_notifications (true when
// that is left out too), so a client that silences an incident keeps it
// silent.
func quietSubscribers(deliver, notify optional[bool]) bool {
	if notify.Set {
		return !notify.Value
	}
	return deliver.Set && !deliver.Value
}

// checkImpactOverride refuses an impact_override sent empty: left out,
// the impact follows the components (or stays as chosen); sent, it must
// name an impact, which the incident then keeps.
func checkImpactOverride(v *models.Validator, o optional[string]) {
	v.Check(!o.Set || o.Value != "", "impact_override", useOneOf(models.Impacts))
}

// automaticImpact, sent as impact_override with an update, makes a
// chosen impact follow the components again (the admin's "Automatic").
const automaticImpact = "automatic"

// useOneOfOrAutomatic is the message of a bad impact_override on an
// update, which may also be automaticImpact.
func useOneOfOrAutomatic() string {
	return useOneOf(append(slices.Clone(models.Impacts), automaticImpact))
}

// createRewrites names the models' fields as the API does.
func (b *incidentBody) createRewrites(in models.IncidentInput) []fieldRewrite {
	status := ""
	switch {
	case in.Status == models.IncidentResolved:
		status = "A new incident cannot start resolved. To record past trouble, send backfilled: true with backfill_date."
	case !in.Status.Valid():
		status = useOneOf(slices.DeleteFunc(slices.Clone(models.IncidentStatuses),
			func(s models.IncidentStatus) bool { return s == models.IncidentResolved }))
	}
	resolvedAt := "resolved_date"
	if !b.ResolvedDate.Set {
		resolvedAt = "backfill_date" // the end was derived from it
	}
	return []fieldRewrite{
		{from: "title", to: "name"},
		{from: "message", to: "body"},
		{from: "status", to: "status", message: status},
		{from: "impact", to: "impact_override", message: useOneOf(models.Impacts)},
		{from: "started_at", to: "backfill_date"},
		{from: "resolved_at", to: resolvedAt},
		componentsRewrite(in.Components),
	}
}

// pageIncident loads an incident of the token's page; those of other
// pages do not exist for it.
func (h *Handler) pageIncident(c echo.Context, id int64) (*models.Incident, error) {
	inc, err := h.Store.Incident(c.Request().Context(), id)
	if err != nil {
		return nil, err
	}
	if !tokenReaches(c, inc.PageID) {
		return nil, models.ErrNotFound
	}
	return inc, nil
}

// incidentAnswer loads incident id afresh and writes it.
func (h *Handler) incidentAnswer(c echo.Context, status int, id int64) error {
	inc, err := h.Store.Incident(c.Request().Context(), id)
	if err != nil {
		return h.apiFail(c, err, incidentGone)
	}
	return c.JSON(status, h.incidentJSON(c, inc))
}

// APIListIncidents is GET /api/v1/incidents: newest first (by start),
// paginated, filtered by ?status=unresolved|resolved|investigating|
// identified|monitoring.
func (h *Handler) APIListIncidents(c echo.Context) error {
	paging, filters, err := readListQuery(c, "status", "page_id")
	if err != nil {
		return h.apiFail(c, err, "")
	}
	status := filters.Get("status")
	if status != "" && status != "unresolved" && !models.IncidentStatus(status).Valid() {
		return h.apiFail(c, queryProblem("invalid_parameter", "status",
			"Filter by one of: unresolved, resolved, investigating, identified, monitoring."), "")
	}
	list, total, err := h.listIncidents(c, status, paging)
	if err != nil {
		return h.apiFail(c, err, "")
	}
	out := make([]apiIncident, len(list))
	for i := range list {
		out[i] = h.incidentJSON(c, &list[i])
	}
	setListHeaders(c, paging, total, filters)
	return c.JSON(http.StatusOK, out)
}

// listIncidents loads one page of the token's incidents with status
// (empty: all). The models filter only by unresolved and count only all
// incidents, so a filtered list is loaded whole and cut here.
func (h *Handler) listIncidents(c echo.Context, status string, p listPaging) ([]models.Incident, int, error) {
	ctx := c.Request().Context()
	pageID, err := h.listPage(c)
	if err != nil {
		return nil, 0, err
	}
	if status == "" {
		total, err := h.Store.CountIncidents(ctx, pageID)
		if err != nil {
			return nil, 0, err
		}
		list, err := h.Store.Incidents(ctx, pageID, models.IncidentFilter{Limit: p.PerPage, Offset: p.offset()})
		return list, int(total), err
	}
	all, err := h.Store.Incidents(ctx, pageID, models.IncidentFilter{Unresolved: status != string(models.IncidentResolved)})
	if err != nil {
		return nil, 0, err
	}
	if status != "unresolved" {
		all = slices.DeleteFunc(all, func(inc models.Incident) bool { return string(inc.Status) != status })
	}
	return pageOf(all, p), len(all), nil
}

// APIShowIncident is GET /api/v1/incidents/:id.
func (h *Handler) APIShowIncident(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return serve.JSONError(c, http.StatusNotFound, "not_found", incidentGone, "")
	}
	inc, err := h.pageIncident(c, id)
	if err != nil {
		return h.apiFail(c, err, incidentGone)
	}
	return c.JSON(http.StatusOK, h.incidentJSON(c, inc))
}

// APICreateIncident is POST /api/v1/incidents: it opens an incident with
// its first update, or records a back-filled one, through the same models
// call as the admin's form.
func (h *Handler) APICreateIncident(c echo.Context) error {
	var body incidentBody
	if err := decodeWrapped(c, "incident", &body); err != nil {
		return h.apiFail(c, err, "")
	}
	in, err := body.input()
	if err != nil {
		return h.apiFail(c, err, "")
	}
	pageID, err := h.createPage(c, body.PageID)
	if err != nil {
		return h.apiFail(c, err, "")
	}
	inc, err := h.Store.CreateIncident(c.Request().Context(), pageID, in)
	if err != nil {
		return h.apiFail(c, rewriteValidation(err, body.createRewrites(in)...), "")
	}
	c.Response().Header().Set("Location", apiPrefix+"/incidents/"+formatAPIID(inc.ID))
	return h.incidentAnswer(c, http.StatusCreated, inc.ID)
}
