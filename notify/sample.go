package notify

import (
	"time"

	"github.com/heraldstatus/herald/models"
)

// SampleData is realistic event data for a test send of type typ.
func SampleData(typ models.EventType, now time.Time, baseURL string) any {
	now = now.UTC().Truncate(time.Second)
	switch typ {
	case models.EventIncidentCreated, models.EventIncidentUpdated, models.EventIncidentResolved:
		d := models.IncidentData{ID: 0, Title: "Test incident: elevated API errors", Status: "investigating",
			Severity: "major", Message: "This is a **test notification** from Herald. No action is needed.",
			Components: []string{"API", "Dashboard"}, StartedAt: now.Add(-10 * time.Minute), URL: baseURL + "/"}
		switch typ {
		case models.EventIncidentUpdated:
			d.Status, d.Message = "identified", "This is a **test notification** from Herald: the cause has been identified."
		case models.EventIncidentResolved:
			d.Status, d.ResolvedAt = "resolved", &now
			d.Message = "This is a **test notification** from Herald: the incident is resolved."
		}
		return d
	case models.EventMaintenanceScheduled, models.EventMaintenanceStarted, models.EventMaintenanceUpdated, models.EventMaintenanceCompleted:
		d := models.MaintenanceData{ID: 0, Title: "Test maintenance: database upgrade",
			Message: "This is a **test notification** from Herald.", Components: []string{"Database"},
			WindowStart: now.Add(time.Hour), WindowEnd: now.Add(2 * time.Hour), Status: "scheduled", URL: baseURL + "/"}
		switch typ {
		case models.EventMaintenanceStarted:
			d.WindowStart, d.WindowEnd, d.Status = now, now.Add(time.Hour), "in_progress"
		case models.EventMaintenanceUpdated:
			d.WindowStart, d.WindowEnd, d.Status = now.Add(-time.Hour), now.Add(time.Hour), "in_progress"
		case models.EventMaintenanceCompleted:
			d.WindowStart, d.WindowEnd, d.Status = now.Add(-time.Hour), now, "completed"
		}
		return d
	case models.EventComponentCreated:
		return models.ComponentData{ID: 0, Name: "Test component", NewStatus: "operational", UptimePercent: 100}
	case models.EventComponentDeleted:
		return models.ComponentData{ID: 0, Name: "Test component", PreviousStatus: "operational", UptimePercent: 100}
	default:
		return models.ComponentData{ID: 0, Name: "Test component", PreviousStatus: "operational",
			NewStatus: "major_outage", UptimePercent: 99.95}
	}
}
