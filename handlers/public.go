package handlers

import (
	"bytes"
	"context"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/public"
	"github.com/heraldstatus/herald/views"
)

// renderPublicPage renders the public page of d; the snapshot calls it
// once per rebuild, never per request.
func (h *Handler) renderPublicPage(ctx context.Context, d *public.Data) ([]byte, error) {
	v := h.publicView(d)
	var buf bytes.Buffer
	if err := views.PublicPage(v).Render(ctx, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// publicView is the public page's view of d: banner, activity and the
// visible components by group.
func (h *Handler) publicView(d *public.Data) views.PublicView {
	v := views.PublicView{
		Chrome:      h.publicChrome(d.Page.Name, d.Page.Name),
		PageName:    d.Page.Name,
		Description: d.Page.Description,
		UpdatedAt:   views.Time{At: d.Now},
	}
	byGroup := map[int64][]views.ComponentRow{}
	worstByGroup := map[int64]models.ComponentStatus{}
	for _, comp := range d.Components {
		row := views.ComponentRow{ID: comp.ID, Name: comp.Name, Description: comp.Description, Status: statusView(comp.Status)}
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
			Status: statusView(worstByGroup[g.ID]), Components: rows})
	}
	v.Banner = banner(d.Worst())
	for i := range d.Unresolved {
		v.Incidents = append(v.Incidents, h.incidentView(&d.Unresolved[i], true))
	}
	for i := range d.Active {
		v.InProgress = append(v.InProgress, h.maintenanceView(&d.Active[i], true))
	}
	for i := range d.Upcoming {
		v.Upcoming = append(v.Upcoming, h.maintenanceView(&d.Upcoming[i], true))
	}
	return v
}
