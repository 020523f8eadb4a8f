package serve

import (
	"fmt"
	"strings"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/views/layout"
)

// IncidentPermalink is the public page of incident id.
func IncidentPermalink(id int64) string { return fmt.Sprintf("/incidents/%d", id) }

// MaintenancePermalink is the public page of maintenance window id.
func MaintenancePermalink(id int64) string { return fmt.Sprintf("/maintenance/%d", id) }

// IncidentView prepares inc for a page; Markdown is rendered and sanitised
// here, once, with the images page allows (see PageMarkdown). Public
// pages leave out hidden components.
func (b *Base) IncidentView(inc *models.Incident, page *models.Page, public bool) layout.IncidentView {
	md := b.PageMarkdown(page)
	v := layout.IncidentView{
		ID:          inc.ID,
		Title:       inc.Title,
		URL:         IncidentPermalink(inc.ID),
		Status:      IncidentStatusView(inc.Status),
		Impact:      ImpactView(inc.Impact),
		Started:     layout.Time{At: inc.StartedAt},
		Resolved:    TimePtr(inc.ResolvedAt),
		Backfilled:  inc.Backfilled,
		TitleEdited: inc.TitleEditedAt != nil,
	}
	hidden := map[int64]bool{}
	for _, c := range inc.Components {
		if public && !c.Visible {
			hidden[c.ID] = true
			continue
		}
		v.Components = append(v.Components, layout.ComponentRow{ID: c.ID, Name: c.Name, Description: c.Description, Status: StatusView(c.Status)})
	}
	for _, u := range inc.Updates {
		uv := layout.UpdateView{ID: u.ID, Status: IncidentStatusView(u.Status), MessageHTML: md.Render(u.Message),
			At: layout.Time{At: u.CreatedAt}, Edited: TimePtr(u.EditedAt)}
		for _, ch := range u.Components {
			if public && (ch.ComponentID == nil || hidden[*ch.ComponentID]) {
				continue
			}
			uv.Changes = append(uv.Changes, layout.ComponentChange{Name: ch.ComponentName, Status: StatusView(ch.NewStatus)})
		}
		v.Updates = append(v.Updates, uv)
	}
	if strings.TrimSpace(inc.Postmortem) != "" {
		v.PostmortemHTML = md.Render(inc.Postmortem)
		v.PostmortemAt = TimePtr(inc.PostmortemAt)
	}
	return v
}

// MaintenanceView prepares m for a page, with the images page allows
// (see PageMarkdown). Public pages leave out hidden components.
func (b *Base) MaintenanceView(m *models.Maintenance, page *models.Page, public bool) layout.MaintenanceView {
	md := b.PageMarkdown(page)
	v := layout.MaintenanceView{
		ID:             m.ID,
		Title:          m.Title,
		URL:            MaintenancePermalink(m.ID),
		Status:         MaintenanceStatusView(m.Status),
		Start:          layout.Time{At: m.WindowStart},
		End:            layout.Time{At: m.WindowEnd},
		MessageHTML:    md.Render(m.Message),
		SetMaintenance: m.SetMaintenance,
	}
	for _, c := range m.Components {
		if public && !c.Visible {
			continue
		}
		v.Components = append(v.Components, c.Name)
	}
	for _, u := range m.Updates {
		v.Updates = append(v.Updates, layout.UpdateView{ID: u.ID, Status: MaintenanceStatusView(u.Status),
			MessageHTML: md.Render(u.Message), At: layout.Time{At: u.CreatedAt}})
	}
	return v
}
