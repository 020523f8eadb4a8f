package admin

import (
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/heraldstatus/herald/views/layout"
	"github.com/labstack/echo/v4"
)

// The query-string filters of the delivery log, and the date range it
// shares with the audit log.

// deliveryFilter parses state, event, from and to. It returns the filter,
// the form's values and notes, and the query of the valid values (for
// page links).
func deliveryFilter(c echo.Context) (models.DeliveryFilter, views.DeliveryFilterView, url.Values) {
	var f models.DeliveryFilter
	fv := views.DeliveryFilterView{States: []layout.Option{{Value: "", Label: "All states"}}, Events: []layout.Option{{Value: "", Label: "All events"}}}
	for _, s := range models.DeliveryStates {
		fv.States = append(fv.States, layout.Option{Value: string(s), Label: deliveryStateView(s).Label})
	}
	for _, e := range models.EventTypes {
		fv.Events = append(fv.Events, layout.Option{Value: string(e), Label: string(e)})
	}
	query := url.Values{}
	if s := c.QueryParam("state"); s != "" {
		if slices.Contains(models.DeliveryStates, models.DeliveryState(s)) {
			f.State, fv.State = models.DeliveryState(s), s
			query.Set("state", s)
		} else {
			fv.Notes = append(fv.Notes, fmt.Sprintf("Unknown state “%s” ignored: choose pending, retrying, delivered, failed or skipped.", serve.Clip(s)))
		}
	}
	if e := c.QueryParam("event"); e != "" {
		if slices.Contains(models.EventTypes, models.EventType(e)) {
			f.EventType, fv.Event = models.EventType(e), e
			query.Set("event", e)
		} else {
			fv.Notes = append(fv.Notes, fmt.Sprintf("Unknown event type “%s” ignored.", serve.Clip(e)))
		}
	}
	r := readDateRange(c, &fv.Notes, query)
	f.From, f.To, fv.From, fv.To = r.From, r.To, r.FromText, r.ToText
	fv.Active = len(query) > 0 || len(fv.Notes) > 0
	return f, fv, query
}

// dateRange is a filter on whole UTC days: [From, To), zero when unset.
type dateRange struct {
	From, To         time.Time
	FromText, ToText string // as the form shows them
}

// readDateRange reads ?from and ?to (YYYY-MM-DD) for a list filter. Bad
// values, and an end before the start, become notes and are left out of
// query, the filter's canonical form.
func readDateRange(c echo.Context, notes *[]string, query url.Values) dateRange {
	var r dateRange
	from, okFrom := filterDate(c.QueryParam("from"), "start", notes)
	to, okTo := filterDate(c.QueryParam("to"), "end", notes)
	if okFrom && okTo && to.Before(from) {
		*notes = append(*notes, "The end date is before the start date; the end date is ignored.")
		okTo = false
	}
	if okFrom {
		r.From, r.FromText = from, from.Format(time.DateOnly)
		query.Set("from", r.FromText)
	}
	if okTo {
		r.To, r.ToText = to.AddDate(0, 0, 1), to.Format(time.DateOnly) // the whole end day
		query.Set("to", r.ToText)
	}
	return r
}

// filterDate reads a YYYY-MM-DD date as midnight UTC.
func filterDate(s, which string, notes *[]string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation(time.DateOnly, s, time.UTC)
	if err != nil || t.Year() < 1970 || t.Year() > 9999 {
		*notes = append(*notes, fmt.Sprintf("“%s” is not a date like 2026-01-14; the %s date is ignored.", serve.Clip(s), which))
		return time.Time{}, false
	}
	return t, true
}
