package handlers

import (
	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/views/layout"
)

func statusView(s models.ComponentStatus) layout.Status {
	return layout.Status{Slug: string(s), Label: s.Label()}
}

// bannerSentence is the overall status in words, for the worst status.
func bannerSentence(s models.ComponentStatus) string {
	switch s {
	case models.StatusDegradedPerformance:
		return "Degraded performance"
	case models.StatusPartialOutage:
		return "Partial outage"
	case models.StatusMajorOutage:
		return "Major outage"
	case models.StatusUnderMaintenance:
		return "Service under maintenance"
	}
	return "All systems operational"
}

func banner(worst models.ComponentStatus) layout.Banner {
	return layout.Banner{Status: statusView(worst), Sentence: bannerSentence(worst)}
}

func statusOptions() []layout.Option {
	out := make([]layout.Option, len(models.ComponentStatuses))
	for i, s := range models.ComponentStatuses {
		out[i] = layout.Option{Value: string(s), Label: s.Label()}
	}
	return out
}
