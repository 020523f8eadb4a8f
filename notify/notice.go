package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/heraldstatus/herald/models"
)

// Notice is the human-facing content of an event, shared by Slack and Discord.
type Notice struct {
	EventType models.EventType
	PageName  string
	Headline  string // e.g. "Incident: API errors", "Maintenance started: DB upgrade", "API is now Major outage"
	Status    string // human label of the status, e.g. "Investigating", "In progress", "Major outage"
	// Severity is the incident impact (none, minor, major, critical); for
	// maintenance "maintenance"; for components it is derived from the new
	// status the way models.ImpactFor does (major outage → critical, partial
	// outage → major, degraded performance → minor, under maintenance →
	// maintenance, operational or removed → none).
	Severity   string
	Components []string
	Message    string // the Markdown message as written by the admin (may be very long)
	URL        string
	Timestamp  time.Time
	Test       bool // a test send: said visibly ("Test notification")

	// Details only some families have, filled in by NoticeFor.
	windowStart, windowEnd time.Time // maintenance
	previousStatus         string    // component.status_changed, as a label
	uptime                 string    // component.status_changed, "99.95%"
}

// Severities besides the incident impacts.
const severityMaintenance = "maintenance"

// NoticeFor decodes an event's data JSON (as stored in models.Event.Data) into a Notice.
func NoticeFor(pageName string, typ models.EventType, data []byte, at time.Time, test bool) (Notice, error) {
	n := Notice{EventType: typ, PageName: pageName, Timestamp: at, Test: test}
	switch typ {
	case models.EventIncidentCreated, models.EventIncidentUpdated, models.EventIncidentResolved:
		var d models.IncidentData
		if err := json.Unmarshal(data, &d); err != nil {
			return Notice{}, fmt.Errorf("notify: decode %s data: %w", typ, err)
		}
		prefix := map[models.EventType]string{
			models.EventIncidentCreated:  "Incident",
			models.EventIncidentUpdated:  "Incident update",
			models.EventIncidentResolved: "Resolved",
		}[typ]
		n.Headline = prefix + ": " + d.Title
		n.Status = models.IncidentStatus(d.Status).Label()
		n.Severity = d.Severity
		if !models.Impact(d.Severity).Valid() {
			n.Severity = string(models.ImpactNone)
		}
		n.Components, n.Message, n.URL = d.Components, d.Message, d.URL
	case models.EventMaintenanceScheduled, models.EventMaintenanceStarted, models.EventMaintenanceUpdated, models.EventMaintenanceCompleted:
		var d models.MaintenanceData
		if err := json.Unmarshal(data, &d); err != nil {
			return Notice{}, fmt.Errorf("notify: decode %s data: %w", typ, err)
		}
		prefix := map[models.EventType]string{
			models.EventMaintenanceScheduled: "Maintenance scheduled",
			models.EventMaintenanceStarted:   "Maintenance started",
			models.EventMaintenanceUpdated:   "Maintenance update",
			models.EventMaintenanceCompleted: "Maintenance completed",
		}[typ]
		n.Headline = prefix + ": " + d.Title
		n.Status = models.MaintenanceStatus(d.Status).Label()
		n.Severity = severityMaintenance
		n.Components, n.Message, n.URL = d.Components, d.Message, d.URL
		n.windowStart, n.windowEnd = d.WindowStart, d.WindowEnd
	case models.EventComponentStatusChanged, models.EventComponentCreated, models.EventComponentDeleted:
		var d models.ComponentData
		if err := json.Unmarshal(data, &d); err != nil {
			return Notice{}, fmt.Errorf("notify: decode %s data: %w", typ, err)
		}
		newStatus := models.ComponentStatus(d.NewStatus)
		n.Components = []string{d.Name}
		n.Severity = componentSeverity(newStatus)
		switch typ {
		case models.EventComponentStatusChanged:
			n.Headline = d.Name + " is now " + newStatus.Label()
			n.Status = newStatus.Label()
			if d.PreviousStatus != "" {
				n.previousStatus = models.ComponentStatus(d.PreviousStatus).Label()
			}
			n.uptime = fmt.Sprintf("%.2f%%", d.UptimePercent)
		case models.EventComponentCreated:
			n.Headline = "Component added: " + d.Name
			n.Status = newStatus.Label()
		default:
			n.Headline = "Component removed: " + d.Name
			n.Status = "Removed"
			n.Severity = string(models.ImpactNone)
		}
	default:
		return Notice{}, fmt.Errorf("notify: no notice for event type %q", typ)
	}
	return n, nil
}

// componentSeverity maps a component status onto the impact scale, as
// models.ImpactFor does, with maintenance kept apart.
func componentSeverity(s models.ComponentStatus) string {
	switch s {
	case models.StatusMajorOutage:
		return string(models.ImpactCritical)
	case models.StatusPartialOutage:
		return string(models.ImpactMajor)
	case models.StatusDegradedPerformance:
		return string(models.ImpactMinor)
	case models.StatusUnderMaintenance:
		return severityMaintenance
	}
	return string(models.ImpactNone)
}

// family is the part of the event type before the dot: incident,
// maintenance or component.
func (n Notice) family() string {
	f, _, _ := strings.Cut(string(n.EventType), ".")
	return f
}

// recovered reports whether the notice is good news, shown green whatever
// the severity was: a resolved incident, a completed maintenance, a
// component (back) in operation.
func (n Notice) recovered() bool {
	switch n.family() {
	case "incident":
		return n.EventType == models.EventIncidentResolved || n.Status == models.IncidentResolved.Label()
	case "maintenance":
		return n.EventType == models.EventMaintenanceCompleted || n.Status == models.MaintenanceCompleted.Label()
	case "component":
		return n.EventType != models.EventComponentDeleted && n.Status == models.StatusOperational.Label()
	}
	return false
}

// colour is the notice's colour as 0xRRGGBB, from UI.md's status colours:
// the same scale on the page, in Slack and in Discord.
func (n Notice) colour() int {
	if n.recovered() {
		return 0x1f883d // green, operational
	}
	switch n.Severity {
	case string(models.ImpactCritical):
		return 0xcf222e // red, major outage
	case string(models.ImpactMajor):
		return 0xd1570b // orange, partial outage
	case string(models.ImpactMinor):
		return 0xb08800 // yellow, degraded performance
	case severityMaintenance:
		return 0x0969da // blue, under maintenance
	}
	return 0x59636e // grey, no impact
}

// linkLabel names what the notice's URL opens.
func (n Notice) linkLabel() string {
	switch n.family() {
	case "incident":
		return "View incident"
	case "maintenance":
		return "View maintenance"
	}
	return "View status page"
}

// linkURL is the notice's URL when it is safe to hand to Slack or Discord
// as a link (both reject anything else, and fail the whole message).
func (n Notice) linkURL() string {
	u := strings.TrimSpace(n.URL)
	l := strings.ToLower(u)
	if !strings.HasPrefix(l, "https://") && !strings.HasPrefix(l, "http://") {
		return ""
	}
	if len(u) > 2000 || strings.ContainsAny(u, " <>|\"\n\r\t") {
		return ""
	}
	return u
}

// noticeField is a name/value pair shown next to the message. Exactly one
// of value, items and the window is set.
type noticeField struct {
	name                   string
	value                  string
	items                  []string  // joined by the renderer within its limit
	windowStart, windowEnd time.Time // formatted by the renderer
}

// fields lists what Slack and Discord show beside the message, in order.
// Empty values are left out: both platforms reject an empty field.
func (n Notice) fields() []noticeField {
	var fs []noticeField
	add := func(name, value string) {
		if strings.TrimSpace(value) != "" {
			fs = append(fs, noticeField{name: name, value: value})
		}
	}
	add("Status", n.Status)
	switch n.family() {
	case "incident":
		add("Impact", models.Impact(n.Severity).Label())
	case "maintenance":
		if !n.windowStart.IsZero() && !n.windowEnd.IsZero() {
			fs = append(fs, noticeField{name: "Window", windowStart: n.windowStart, windowEnd: n.windowEnd})
		}
	case "component":
		add("Previous status", n.previousStatus)
		add("Uptime (90 days)", n.uptime)
		return fs // the component is named in the headline
	default:
		add("Impact", models.Impact(n.Severity).Label())
	}
	var items []string
	for _, c := range n.Components {
		if strings.TrimSpace(c) != "" {
			items = append(items, c)
		}
	}
	if len(items) > 0 {
		fs = append(fs, noticeField{name: "Components", items: items})
	}
	return fs
}

// clean makes s valid UTF-8 and replaces control characters (other than
// newline and tab) that receivers reject or render as boxes.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// oneLine is clean(s) on a single line, for titles and field names.
func oneLine(s string) string {
	return strings.Join(strings.Fields(clean(s)), " ")
}
