package handlers

import (
	"fmt"
	"strings"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/views/layout"
)

func incidentPath(id int64) string         { return fmt.Sprintf("/admin/incidents/%d", id) }
func incidentPermalink(id int64) string    { return fmt.Sprintf("/incidents/%d", id) }
func maintenancePermalink(id int64) string { return fmt.Sprintf("/maintenance/%d", id) }

func incidentStatusView(s models.IncidentStatus) layout.Status {
	return layout.Status{Slug: string(s), Label: s.Label()}
}

func impactView(i models.Impact) layout.Status {
	return layout.Status{Slug: string(i), Label: i.Label()}
}

func maintenanceStatusView(s models.MaintenanceStatus) layout.Status {
	return layout.Status{Slug: string(s), Label: s.Label()}
}

func timePtr(t *time.Time) *layout.Time {
	if t == nil {
		return nil
	}
	return &layout.Time{At: *t}
}

// incidentView prepares inc for a page; Markdown is rendered and sanitised
// here, once. Public pages leave out hidden components.
func (h *Handler) incidentView(inc *models.Incident, public bool) layout.IncidentView {
	v := layout.IncidentView{
		ID:         inc.ID,
		Title:      inc.Title,
		URL:        incidentPermalink(inc.ID),
		Status:     incidentStatusView(inc.Status),
		Impact:     impactView(inc.Impact),
		Started:    layout.Time{At: inc.StartedAt},
		Resolved:   timePtr(inc.ResolvedAt),
		Backfilled: inc.Backfilled,
	}
	hidden := map[int64]bool{}
	for _, c := range inc.Components {
		if public && !c.Visible {
			hidden[c.ID] = true
			continue
		}
		v.Components = append(v.Components, layout.ComponentRow{ID: c.ID, Name: c.Name, Description: c.Description, Status: statusView(c.Status)})
	}
	for _, u := range inc.Updates {
		uv := layout.UpdateView{Status: incidentStatusView(u.Status), MessageHTML: h.markdown.Render(u.Message), At: layout.Time{At: u.CreatedAt}}
		for _, ch := range u.Components {
			if public && (ch.ComponentID == nil || hidden[*ch.ComponentID]) {
				continue
			}
			uv.Changes = append(uv.Changes, layout.ComponentChange{Name: ch.ComponentName, Status: statusView(ch.NewStatus)})
		}
		v.Updates = append(v.Updates, uv)
	}
	if strings.TrimSpace(inc.Postmortem) != "" {
		v.PostmortemHTML = h.markdown.Render(inc.Postmortem)
		v.PostmortemAt = timePtr(inc.PostmortemAt)
	}
	return v
}

// maintenanceView prepares m for a page. Public pages leave out hidden
// components.
func (h *Handler) maintenanceView(m *models.Maintenance, public bool) layout.MaintenanceView {
	v := layout.MaintenanceView{
		ID:             m.ID,
		Title:          m.Title,
		URL:            maintenancePermalink(m.ID),
		Status:         maintenanceStatusView(m.Status),
		Start:          layout.Time{At: m.WindowStart},
		End:            layout.Time{At: m.WindowEnd},
		MessageHTML:    h.markdown.Render(m.Message),
		SetMaintenance: m.SetMaintenance,
	}
	for _, c := range m.Components {
		if public && !c.Visible {
			continue
		}
		v.Components = append(v.Components, c.Name)
	}
	return v
}

// relativeTime says how long ago t was, roughly: "just now", "5 minutes
// ago", "3 days ago"; future times read "in 2 hours".
func relativeTime(now, t time.Time) string {
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var amount string
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		amount = plural(int(d/time.Minute), "minute")
	case d < 24*time.Hour:
		amount = plural(int(d/time.Hour), "hour")
	case d < 60*24*time.Hour:
		amount = plural(int(d/(24*time.Hour)), "day")
	case d < 2*365*24*time.Hour:
		amount = plural(int(d/(30*24*time.Hour)), "month")
	default:
		amount = plural(int(d/(365*24*time.Hour)), "year")
	}
	if future {
		return "in " + amount
	}
	return amount + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// datetime-local inputs carry no zone; Herald reads them as UTC and says so
// next to the field.
var formTimeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05"}

// parseFormTime reads a datetime-local value as UTC. Empty gives the zero
// time (the models then say the field is required); anything unparsable is
// a field error.
func parseFormTime(val *models.Validator, field, value string) time.Time {
	value = strings.TrimSpace(value)
	if value == "" {
		return time.Time{}
	}
	for _, layout := range formTimeLayouts {
		t, err := time.ParseInLocation(layout, value, time.UTC)
		if err != nil {
			continue
		}
		if t.Year() < 1970 {
			val.Add(field, "Enter a date after 1970.")
			return time.Time{}
		}
		return t
	}
	val.Add(field, "Enter a date and time in UTC, like 2026-01-14 12:00.")
	return time.Time{}
}

// formTime formats t for a datetime-local input, in UTC.
func formTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04")
}
