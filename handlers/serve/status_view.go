package serve

import (
	"strings"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/views/layout"
)

// StatusView is a component status as views print it.
func StatusView(s models.ComponentStatus) layout.Status {
	return layout.Status{Slug: string(s), Label: s.Label()}
}

// IncidentStatusView is an incident status as views print it.
func IncidentStatusView(s models.IncidentStatus) layout.Status {
	return layout.Status{Slug: string(s), Label: s.Label()}
}

// ImpactView is an incident's impact as views print it.
func ImpactView(i models.Impact) layout.Status {
	return layout.Status{Slug: string(i), Label: i.Label()}
}

// MaintenanceStatusView is a maintenance window's status as views print
// it.
func MaintenanceStatusView(s models.MaintenanceStatus) layout.Status {
	return layout.Status{Slug: string(s), Label: s.Label()}
}

// LowerLabel is a maintenance status in the middle of a sentence:
// "in progress".
func LowerLabel(s models.MaintenanceStatus) string {
	return strings.ToLower(s.Label())
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

// Banner is the overall status for the worst status of the visible
// components.
func Banner(worst models.ComponentStatus) layout.Banner {
	return layout.Banner{Status: StatusView(worst), Sentence: bannerSentence(worst)}
}

// TimePtr is t for a view; nil stays nil.
func TimePtr(t *time.Time) *layout.Time {
	if t == nil {
		return nil
	}
	return &layout.Time{At: *t}
}
