package site

import (
	"bytes"
	"context"
	"slices"
	"strconv"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/public"
	"github.com/heraldstatus/herald/views/layout"
	views "github.com/heraldstatus/herald/views/site"
)

// recentDays is how many days the status page's recent history covers.
const recentDays = 14

// renderPublicPage renders the public page of d; the snapshot calls it
// once per rebuild, never per request.
func (h *Handler) renderPublicPage(ctx context.Context, d *public.Data) ([]byte, error) {
	v := h.publicView(d)
	var buf bytes.Buffer
	if err := views.PublicPage(v).Render(ctx, &buf); err != nil {
		return nil, err
	}
	return prefixLinks(buf.Bytes(), d.Ref.Prefix()), nil
}

// pageChrome is the layout data of a public page of p: its name, logo and
// accent. A handler serving it calls serve.SetPagePolicy too: the default
// Content-Security-Policy lets no image in from the logo's host or the
// page's allowed image hosts.
func (h *Handler) pageChrome(title string, p *models.Page) layout.Chrome {
	ch := h.publicChrome(title, p.Name)
	ch.LogoURL = p.LogoURL
	ch.Accent = "accent-" + p.Accent()
	ch.Private = !p.Public
	return ch
}

// publicView is the public page's view of d: banner, activity, the
// visible components by group with their uptime bars, and the recent
// history.
func (h *Handler) publicView(d *public.Data) views.PublicView {
	v := views.PublicView{
		Chrome:      h.pageChrome(d.Page.Name, &d.Page),
		PageName:    d.Page.Name,
		Heading:     public.StatusTitle(d.Page.Name),
		Description: d.Page.Description,
		UpdatedAt:   layout.Time{At: d.Now},
	}
	bars := public.UptimeBars(d)
	byGroup := map[int64][]views.ComponentRow{}
	worstByGroup := map[int64]models.ComponentStatus{}
	for _, comp := range d.Components {
		row := views.ComponentRow{ComponentRow: layout.ComponentRow{ID: comp.ID, Name: comp.Name, Description: comp.Description,
			Status: serve.StatusView(comp.Status)}, Uptime: uptimeBarView(bars[comp.ID])}
		if comp.GroupID == nil {
			v.Ungrouped = append(v.Ungrouped, row)
			continue
		}
		byGroup[*comp.GroupID] = append(byGroup[*comp.GroupID], row)
		worstByGroup[*comp.GroupID] = models.WorstStatus(worstByGroup[*comp.GroupID], comp.Status)
	}
	for _, g := range d.Groups {
		rows := byGroup[g.ID]
		if len(rows) == 0 {
			continue
		}
		v.Groups = append(v.Groups, views.GroupSection{Name: g.Name, Open: !g.Collapsed,
			Status: serve.StatusView(worstByGroup[g.ID]), Components: rows})
	}
	// The page's status follows the one rule of the badge and status.json.
	indicator, description := public.Indicator(d)
	v.Banner = layout.Banner{Status: serve.StatusView(public.IndicatorStatus(indicator)), Sentence: description}
	for i := range d.Unresolved {
		v.Incidents = append(v.Incidents, h.IncidentView(&d.Unresolved[i], &d.Page, true))
	}
	for i := range d.Active {
		v.InProgress = append(v.InProgress, h.MaintenanceView(&d.Active[i], &d.Page, true))
	}
	for i := range d.Upcoming {
		v.Upcoming = append(v.Upcoming, h.MaintenanceView(&d.Upcoming[i], &d.Page, true))
	}
	for _, day := range public.RecentHistory(d, recentDays) {
		dv := views.HistoryDayView{Date: day.Date.Format("2006-01-02"), Label: day.Date.Format("Jan 2, 2006")}
		for _, inc := range day.Incidents {
			dv.Items = append(dv.Items, h.pastIncident(inc, &d.Page))
		}
		for _, m := range day.Maintenances {
			dv.Items = append(dv.Items, pastMaintenance(m))
		}
		sortHistory(dv.Items)
		v.History = append(v.History, dv)
	}
	return v
}

func uptimeBarView(b public.Bar) views.UptimeBar {
	v := views.UptimeBar{Percent: "No data yet", Days: make([]views.UptimeDay, len(b.Days))}
	if b.Percent != "" {
		v.Percent = b.Percent + " uptime"
		v.Period = " over the last " + strconv.Itoa(len(b.Days)) + " days"
	}
	for i, d := range b.Days {
		v.Days[i] = views.UptimeDay{Date: d.Date.Format("2006-01-02"), Status: string(d.Status), Title: d.Tooltip()}
	}
	return v
}

// pastIncident is inc as a history entry; with a page, it has its latest
// update's message, rendered with the images page allows.
func (h *Handler) pastIncident(inc *models.Incident, page *models.Page) views.HistoryItem {
	it := views.HistoryItem{Kind: "incident", ID: inc.ID, Title: inc.Title, URL: serve.IncidentPermalink(inc.ID),
		Impact: serve.ImpactView(inc.Impact), Status: serve.IncidentStatusView(inc.Status), StatusClass: "is-" + string(inc.Status),
		Start: layout.Time{At: inc.StartedAt}, End: serve.TimePtr(inc.ResolvedAt)}
	if page != nil && len(inc.Updates) > 0 {
		final := inc.Updates[0] // newest first
		it.Status, it.StatusClass = serve.IncidentStatusView(final.Status), "is-"+string(final.Status)
		it.FinalHTML = h.PageMarkdown(page).Render(final.Message)
		it.FinalAt = &layout.Time{At: final.CreatedAt}
	}
	return it
}

// pastMaintenance is m as a history entry.
func pastMaintenance(m *models.Maintenance) views.HistoryItem {
	return views.HistoryItem{Kind: "maintenance", ID: m.ID, Title: m.Title, URL: serve.MaintenancePermalink(m.ID),
		Status: serve.MaintenanceStatusView(m.Status), StatusClass: "ms-" + string(m.Status),
		Start: layout.Time{At: m.WindowStart}, End: &layout.Time{At: m.WindowEnd}}
}

// sortHistory orders incidents and maintenance together, newest first.
func sortHistory(items []views.HistoryItem) {
	slices.SortStableFunc(items, func(a, b views.HistoryItem) int { return b.Start.At.Compare(a.Start.At) })
}
