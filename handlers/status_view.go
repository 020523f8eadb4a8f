package handlers

import (
	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/views"
)

func statusView(s models.ComponentStatus) views.Status {
	return views.Status{Slug: string(s), Label: s.Label()}
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

func banner(worst models.ComponentStatus) views.Banner {
	return views.Banner{Status: statusView(worst), Sentence: bannerSentence(worst)}
}

func statusOptions() []views.Option {
	out := make([]views.Option, len(models.ComponentStatuses))
	for i, s := range models.ComponentStatuses {
		out[i] = views.Option{Value: string(s), Label: s.Label()}
	}
	return out
}
