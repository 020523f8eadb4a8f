package admin

import (
	"net/http"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/public"
	views "github.com/heraldstatus/herald/views/admin"
	"github.com/labstack/echo/v4"
)

// showAllPages is the dashboard's "All pages" tab (/admin?pages=all):
// a row per page the user may see, with its overall status worked out
// as its public banner does (public.Indicator), and what needs
// attention. The store reads every page at once: a fixed number of
// queries, however many pages.
func (h *Handler) showAllPages(c echo.Context) error {
	ch, err := h.adminChrome(c, "All pages · Dashboard", "dashboard")
	if err != nil {
		return err
	}
	pages, err := h.userPages(c)
	if err != nil {
		return err
	}
	overview, err := h.Store.PagesOverview(c.Request().Context(), pages)
	if err != nil {
		return err
	}
	v := views.AllPagesView{Chrome: ch}
	for i := range overview {
		o := &overview[i]
		indicator, sentence := public.Indicator(&public.Data{Components: o.Visible, Unresolved: o.Unresolved, Active: o.InProgress})
		v.Rows = append(v.Rows, views.PageOverviewRow{ID: o.Page.ID, Name: o.Page.Name, Address: PageAddress(&o.Page),
			Current: o.Page.ID == ch.PageID, Status: serve.StatusView(public.IndicatorStatus(indicator)), Sentence: sentence,
			Incidents: len(o.Unresolved), InProgress: len(o.InProgress), Upcoming: o.Upcoming,
			NotOperational: o.NotOperational, Queued: o.Queued})
	}
	return serve.Render(c, http.StatusOK, views.AllPagesPage(v))
}

// allPagesAsked says whether the dashboard is asked for every page.
func allPagesAsked(c echo.Context) bool { return c.QueryParam("pages") == "all" }
