package admin

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/heraldstatus/herald/views/layout"
	"github.com/labstack/echo/v4"
)

const auditPerPage = 50

// maxActorFilter bounds the actor search: longer than any e-mail address.
const maxActorFilter = 254

func auditPath(id int64) string { return fmt.Sprintf("/admin/audit/%d", id) }

// ListAudit is the audit log: every change, newest first, with filters.
// It is read-only: nothing in Herald edits or deletes audit rows.
func (h *Handler) ListAudit(c echo.Context) error {
	ctx := c.Request().Context()
	f, fv, query := auditFilter(c)
	page := listPage(c)
	total, err := h.Store.CountAuditEntries(ctx, f)
	if err != nil {
		return err
	}
	f.Limit, f.Offset = auditPerPage, (page-1)*auditPerPage
	list, err := h.Store.AuditEntries(ctx, f)
	if err != nil {
		return err
	}
	ch, err := h.adminChrome(c, "Audit log", "audit")
	if err != nil {
		return err
	}
	v := views.AuditLogView{Chrome: ch, Filter: fv, Total: total}
	for _, e := range list {
		v.Rows = append(v.Rows, auditRow(e, ch))
	}
	pageURL := func(n int) string {
		q := url.Values{}
		for k, vs := range query {
			q[k] = vs
		}
		if n > 1 {
			q.Set("page", strconv.Itoa(n))
		}
		if enc := q.Encode(); enc != "" {
			return "/admin/audit?" + enc
		}
		return "/admin/audit"
	}
	if page > 1 {
		v.Newer = pageURL(page - 1)
	}
	if int64(page*auditPerPage) < total {
		v.Older = pageURL(page + 1)
	}
	return serve.Render(c, http.StatusOK, views.AuditLogPage(v))
}

// ShowAuditEntry is one audit row with its before and after snapshots.
func (h *Handler) ShowAuditEntry(c echo.Context) error {
	id, err := serve.PathID(c, "id")
	if err != nil {
		return err
	}
	e, err := h.Store.AuditEntry(c.Request().Context(), id)
	if err != nil {
		return err
	}
	// Like the log it comes from: the entries of the page being managed
	// only (which is always one the user may see).
	if e.PageID != pageID(c) || !serve.CurrentUser(c).AllPages && !e.PageOnly(e.PageID) {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	ch, err := h.adminChrome(c, e.Action+" · Audit log", "audit")
	if err != nil {
		return err
	}
	v := views.AuditEntryView{Chrome: ch, Row: auditRow(*e, ch), Before: prettyBody(e.Before), After: prettyBody(e.After)}
	for _, d := range models.AuditChanges(e.Before, e.After) {
		v.Changes = append(v.Changes, auditChangeRow(d))
	}
	if e.ActorID != nil {
		v.ActorID = strconv.FormatInt(*e.ActorID, 10)
	}
	if e.ObjectID != "" {
		v.HistoryURL = "/admin/audit?" + url.Values{"type": {e.ObjectType}, "object": {e.ObjectID}}.Encode()
	}
	return serve.Render(c, http.StatusOK, views.AuditEntryPage(v))
}

// auditRow is an entry as the log shows it; the object is linked only
// when the viewer's role may open its screen (ch.Allows).
func auditRow(e models.AuditEntry, ch layout.Chrome) views.AuditRow {
	r := views.AuditRow{ID: e.ID, URL: auditPath(e.ID), At: layout.Time{At: e.At}, Actor: e.ActorName,
		ActorType: e.ActorType, IP: e.IP, Action: e.Action, Object: strings.TrimSpace(e.ObjectType + " " + e.ObjectID),
		Summary: e.Summary}
	if route := auditObjectRoute(e.ObjectType); e.ObjectExists && (route == "" || ch.Allows(route)) {
		r.ObjectURL = auditObjectPath(e.ObjectType, e.ObjectID)
	}
	return r
}

// auditChangeRow prints a changed field; an accent shows its palette
// name, capitalised as in the settings form, beside a swatch.
func auditChangeRow(d models.AuditChange) views.AuditChangeRow {
	r := views.AuditChangeRow{Field: d.Field, Before: d.Before, After: d.After}
	if d.Field == "accent_color" {
		r.Before, r.BeforeSwatch = accentValue(d.Before)
		r.After, r.AfterSwatch = accentValue(d.After)
	}
	return r
}

func accentValue(v string) (label, swatch string) {
	name := models.AccentName(v)
	if name == "" {
		return v, ""
	}
	return accentLabel(name), "accent-" + name
}

// auditObjectPath is where an admin sees an audited object, or "".
func auditObjectPath(objectType, id string) string {
	switch objectType {
	case models.AuditComponent:
		return "/admin/components/" + id + "/edit"
	case models.AuditGroup:
		return "/admin/groups/" + id + "/edit"
	case models.AuditIncident:
		return "/admin/incidents/" + id
	case models.AuditMaintenance:
		return "/maintenance/" + id // the permalink shows a window in any state
	case models.AuditChannel:
		return "/admin/channels/" + id
	case models.AuditPage:
		return "/admin/settings"
	case models.AuditToken:
		return "/admin/tokens"
	case models.AuditUser, models.AuditInvitation:
		return "/admin/users"
	case models.AuditSubscriber:
		return "/admin/subscribers/" + id
	}
	return ""
}

// auditObjectRoute is the route of auditObjectPath's screen, as
// registered, for the role check; "" for public pages.
func auditObjectRoute(objectType string) string {
	switch objectType {
	case models.AuditComponent:
		return "GET /admin/components/:id/edit"
	case models.AuditGroup:
		return "GET /admin/groups/:id/edit"
	case models.AuditIncident:
		return "GET /admin/incidents/:id"
	case models.AuditChannel:
		return "GET /admin/channels/:id"
	case models.AuditPage:
		return "GET /admin/settings"
	case models.AuditToken:
		return "GET /admin/tokens"
	case models.AuditUser, models.AuditInvitation:
		return "GET /admin/users"
	case models.AuditSubscriber:
		return "GET /admin/subscribers/:id"
	}
	return ""
}

// auditFilter parses type, object, action, actor, from and to. Values it
// cannot use are ignored with a note, so a bad link still shows the log.
func auditFilter(c echo.Context) (models.AuditFilter, views.AuditFilterView, url.Values) {
	// A user limited to some pages sees what was done on them, not the
	// install's users and pages recorded with the first page.
	f := models.AuditFilter{PageID: pageID(c), PageOnly: !serve.CurrentUser(c).AllPages}
	fv := views.AuditFilterView{
		Types:   []layout.Option{{Value: "", Label: "All objects"}},
		Actions: []layout.Option{{Value: "", Label: "All actions"}},
	}
	for _, t := range models.AuditObjectTypes {
		fv.Types = append(fv.Types, layout.Option{Value: t, Label: t})
	}
	for _, a := range models.AuditActions {
		fv.Actions = append(fv.Actions, layout.Option{Value: a, Label: a})
	}
	query := url.Values{}
	if t := c.QueryParam("type"); t != "" {
		if slices.Contains(models.AuditObjectTypes, t) {
			f.ObjectType, fv.Type = t, t
			query.Set("type", t)
		} else {
			fv.Notes = append(fv.Notes, fmt.Sprintf("Unknown object type “%s” ignored.", serve.Clip(t)))
		}
	}
	if id := c.QueryParam("object"); id != "" {
		if n, err := strconv.ParseInt(id, 10, 64); err == nil && n > 0 && f.ObjectType != "" {
			f.ObjectID, fv.Object = id, id
			query.Set("object", id)
		} else {
			fv.Notes = append(fv.Notes, fmt.Sprintf("Object “%s” ignored: it needs a known object type and a numeric id.", serve.Clip(id)))
		}
	}
	if a := c.QueryParam("action"); a != "" {
		if slices.Contains(models.AuditActions, a) {
			f.Action, fv.Action = a, a
			query.Set("action", a)
		} else {
			fv.Notes = append(fv.Notes, fmt.Sprintf("Unknown action “%s” ignored.", serve.Clip(a)))
		}
	}
	if a := strings.TrimSpace(c.QueryParam("actor")); a != "" {
		if len(a) <= maxActorFilter && utf8.ValidString(a) && !strings.ContainsAny(a, "\x00\r\n") {
			f.ActorName, fv.Actor = a, a
			query.Set("actor", a)
		} else {
			fv.Notes = append(fv.Notes, fmt.Sprintf("Actor “%s” ignored: enter part of an e-mail address or token name.", serve.Clip(a)))
		}
	}
	r := readDateRange(c, &fv.Notes, query)
	f.From, f.To, fv.From, fv.To = r.From, r.To, r.FromText, r.ToText
	fv.Active = len(query) > 0 || len(fv.Notes) > 0
	return f, fv, query
}
