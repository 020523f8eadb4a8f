package site

import (
	"context"
	"net/http"
	"strconv"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/public"
	views "github.com/heraldstatus/herald/views/site"
	"github.com/labstack/echo/v4"
)

// historyPerPage is how many incidents a page of /history lists.
const historyPerPage = 20

// ShowHistory is the public archive: the page's incidents, newest first,
// historyPerPage to a page, with the completed maintenance windows of the
// same span, grouped by month. It is rendered per request, not kept in the
// snapshot: visitors rarely page through it.
func (h *Handler) ShowHistory(c echo.Context) error {
	ctx := models.ReadOnly(c.Request().Context()) // on SQLite, beside the writer
	page, err := h.Store.Page(ctx, pageID(c))
	if err != nil {
		return err
	}
	total, err := h.Store.CountIncidents(ctx, pageID(c))
	if err != nil {
		return err
	}
	pages := max(1, int((total+historyPerPage-1)/historyPerPage))
	n, err := historyPageNumber(c.QueryParam("page"), pages)
	if err != nil {
		return err
	}
	// One incident more than the page shows: the newest incident of the
	// next page bounds the maintenance windows that belong to this one.
	incidents, err := h.Store.Incidents(ctx, pageID(c), models.IncidentFilter{
		Limit: historyPerPage + 1, Offset: (n - 1) * historyPerPage})
	if err != nil {
		return err
	}
	maintenance, err := h.Store.Maintenances(ctx, pageID(c), models.MaintenanceFilter{
		Statuses: []models.MaintenanceStatus{models.MaintenanceCompleted}})
	if err != nil {
		return err
	}

	var items []views.HistoryItem
	shown := incidents[:min(len(incidents), historyPerPage)]
	for i := range shown {
		items = append(items, h.pastIncident(&shown[i], nil))
	}
	for i := range maintenance {
		m := &maintenance[i]
		newerPage := n > 1 && len(shown) > 0 && m.WindowStart.After(shown[0].StartedAt)
		olderPage := len(incidents) > historyPerPage && !m.WindowStart.After(incidents[historyPerPage].StartedAt)
		if !newerPage && !olderPage {
			items = append(items, pastMaintenance(m))
		}
	}
	sortHistory(items)

	v := views.HistoryPageView{Chrome: h.pageChrome("History · "+page.Name, page), PageName: page.Name,
		Months: historyMonths(items), Page: n, Pages: pages}
	v.Nav = "history"
	if v.ComponentFeeds, err = h.componentFeeds(ctx, pageID(c)); err != nil {
		return err
	}
	if n > 1 {
		v.Newer = historyURL(n - 1)
	}
	if n < pages {
		v.Older = historyURL(n + 1)
	}
	c.Response().Header().Set("Cache-Control", h.publicCacheControl)
	serve.SetPagePolicy(c, page, true)
	return h.render(c, http.StatusOK, views.HistoryPage(v))
}

// componentFeeds links the feeds of each component the page shows.
func (h *Handler) componentFeeds(ctx context.Context, pageID int64) ([]views.ComponentFeed, error) {
	comps, err := h.Store.Components(ctx, pageID)
	if err != nil {
		return nil, err
	}
	var out []views.ComponentFeed
	for _, c := range comps {
		if c.Visible {
			out = append(out, views.ComponentFeed{Name: c.Name,
				AtomURL: public.ComponentFeedKey("/history.atom", c.ID), RSSURL: public.ComponentFeedKey("/history.rss", c.ID)})
		}
	}
	return out, nil
}

// historyPageNumber reads ?page=: absent is the first page; anything but a
// page that exists is a 404, so a bad link never lands on an empty page.
func historyPageNumber(raw string, pages int) (int, error) {
	if raw == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > pages {
		return 0, echo.NewHTTPError(http.StatusNotFound, "That page of the history does not exist.")
	}
	return n, nil
}

func historyURL(n int) string {
	if n == 1 {
		return "/history"
	}
	return "/history?page=" + strconv.Itoa(n)
}

// historyMonths groups items, newest first, by UTC month.
func historyMonths(items []views.HistoryItem) []views.HistoryMonth {
	var out []views.HistoryMonth
	for _, it := range items {
		at := it.Start.At.UTC()
		id := at.Format("2006-01")
		if len(out) == 0 || out[len(out)-1].ID != id {
			out = append(out, views.HistoryMonth{ID: id, Label: at.Format("January 2006")})
		}
		out[len(out)-1].Items = append(out[len(out)-1].Items, it)
	}
	return out
}
