package models

import (
	"context"
	"fmt"
)

// PageOverview is what the all-pages dashboard shows of one page: enough
// to work out its overall status the way its public banner does
// (public.Indicator), and what needs attention.
type PageOverview struct {
	Page Page
	// Visible are the page's visible components, Status set (the
	// banner's input); NotOperational counts every component, visible
	// or not, whose status is not operational.
	Visible        []Component
	NotOperational int
	// Unresolved are the open incidents, with their status and impact.
	Unresolved []Incident
	// InProgress are the maintenance windows running now; Upcoming
	// counts those scheduled.
	InProgress []Maintenance
	Upcoming   int
	// Queued counts the notifications still to be sent: channel
	// deliveries and subscriber e-mails or webhooks pending or retrying,
	// and subscriber fan-outs not yet walked.
	Queued int64
}

// PagesOverview reads the overview of every page in pages, in that
// order, with one query per kind of thing whatever the number of pages.
func (s *Store) PagesOverview(ctx context.Context, pages []Page) ([]PageOverview, error) {
	out := make([]PageOverview, len(pages))
	byID := make(map[int64]*PageOverview, len(pages))
	ids := make([]int64, len(pages))
	for i := range pages {
		out[i].Page = pages[i]
		byID[pages[i].ID] = &out[i]
		ids[i] = pages[i].ID
	}
	if len(ids) == 0 {
		return out, nil
	}
	db := s.conn(ctx)

	var comps []Component
	if err := db.Select("id", "page_id", "name", "status", "visible").Where("page_id IN ?", ids).
		Order("page_id, position, id").Find(&comps).Error; err != nil {
		return nil, fmt.Errorf("overview components: %w", err)
	}
	for _, c := range comps {
		o := byID[c.PageID]
		if c.Visible {
			o.Visible = append(o.Visible, c)
		}
		if c.Status != StatusOperational {
			o.NotOperational++
		}
	}

	var incs []Incident
	if err := db.Select("id", "page_id", "title", "status", "impact").Where("page_id IN ? AND status <> ?", ids, IncidentResolved).
		Order("page_id, started_at DESC, id DESC").Find(&incs).Error; err != nil {
		return nil, fmt.Errorf("overview incidents: %w", err)
	}
	for _, inc := range incs {
		byID[inc.PageID].Unresolved = append(byID[inc.PageID].Unresolved, inc)
	}

	var windows []Maintenance
	if err := db.Select("id", "page_id", "title", "status").
		Where("page_id IN ? AND status IN ?", ids, []MaintenanceStatus{MaintenanceInProgress, MaintenanceScheduled}).
		Order("page_id, id").Find(&windows).Error; err != nil {
		return nil, fmt.Errorf("overview maintenance: %w", err)
	}
	for _, m := range windows {
		o := byID[m.PageID]
		if m.Status == MaintenanceInProgress {
			o.InProgress = append(o.InProgress, m)
		} else {
			o.Upcoming++
		}
	}

	for _, q := range []struct{ table, where string }{
		{"deliveries", "page_id IN ? AND due_at IS NOT NULL"},
		{"subscriber_deliveries", "page_id IN ? AND due_at IS NOT NULL"},
		{"subscriber_fanouts", "page_id IN ?"},
	} {
		var rows []struct {
			PageID int64
			N      int64
		}
		if err := db.Table(q.table).Select("page_id, COUNT(*) AS n").Where(q.where, ids).
			Group("page_id").Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("overview queued %s: %w", q.table, err)
		}
		for _, r := range rows {
			if o := byID[r.PageID]; o != nil {
				o.Queued += r.N
			}
		}
	}
	return out, nil
}
