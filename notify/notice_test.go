package notify

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/heraldstatus/herald/models"
)

var testAt = time.Date(2026, 1, 14, 12, 0, 0, 0, time.UTC)

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func incidentData(status, severity string) models.IncidentData {
	return models.IncidentData{ID: 123, Title: "API errors", Status: status, Severity: severity,
		Message: "We are **investigating**.", Components: []string{"API", "Website"},
		StartedAt: testAt, URL: "https://status.example.com/incidents/123"}
}

func maintenanceData(status string) models.MaintenanceData {
	return models.MaintenanceData{ID: 7, Title: "DB upgrade", Message: "Upgrading PostgreSQL.",
		Components: []string{"Database"}, WindowStart: testAt, WindowEnd: testAt.Add(2 * time.Hour),
		Status: status, URL: "https://status.example.com/maintenance/7"}
}

// eventCase is one event of each type, with what its notice should say.
type eventCase struct {
	name       string
	typ        models.EventType
	data       any
	headline   string
	status     string
	severity   string
	components []string
	fields     []string // field names, in order
	colour     int
}

func eventCases() []eventCase {
	return []eventCase{
		{"incident created", models.EventIncidentCreated, incidentData("investigating", "major"),
			"Incident: API errors", "Investigating", "major", []string{"API", "Website"},
			[]string{"Status", "Impact", "Components"}, 0xd1570b},
		{"incident updated", models.EventIncidentUpdated, incidentData("identified", "critical"),
			"Incident update: API errors", "Identified", "critical", []string{"API", "Website"},
			[]string{"Status", "Impact", "Components"}, 0xcf222e},
		{"incident resolved", models.EventIncidentResolved, incidentData("resolved", "critical"),
			"Resolved: API errors", "Resolved", "critical", []string{"API", "Website"},
			[]string{"Status", "Impact", "Components"}, 0x1f883d},
		{"maintenance scheduled", models.EventMaintenanceScheduled, maintenanceData("scheduled"),
			"Maintenance scheduled: DB upgrade", "Scheduled", "maintenance", []string{"Database"},
			[]string{"Status", "Window", "Components"}, 0x0969da},
		{"maintenance started", models.EventMaintenanceStarted, maintenanceData("in_progress"),
			"Maintenance started: DB upgrade", "In progress", "maintenance", []string{"Database"},
			[]string{"Status", "Window", "Components"}, 0x0969da},
		{"maintenance updated", models.EventMaintenanceUpdated, maintenanceData("in_progress"),
			"Maintenance update: DB upgrade", "In progress", "maintenance", []string{"Database"},
			[]string{"Status", "Window", "Components"}, 0x0969da},
		{"maintenance completed", models.EventMaintenanceCompleted, maintenanceData("completed"),
			"Maintenance completed: DB upgrade", "Completed", "maintenance", []string{"Database"},
			[]string{"Status", "Window", "Components"}, 0x1f883d},
		{"component status changed", models.EventComponentStatusChanged,
			models.ComponentData{ID: 3, Name: "API", PreviousStatus: "operational", NewStatus: "major_outage", UptimePercent: 99.5},
			"API is now Major outage", "Major outage", "critical", []string{"API"},
			[]string{"Status", "Previous status", "Uptime (90 days)"}, 0xcf222e},
		{"component created", models.EventComponentCreated,
			models.ComponentData{ID: 4, Name: "Search", NewStatus: "operational", UptimePercent: 100},
			"Component added: Search", "Operational", "none", []string{"Search"},
			[]string{"Status"}, 0x1f883d},
		{"component deleted", models.EventComponentDeleted,
			models.ComponentData{ID: 5, Name: "Legacy", PreviousStatus: "partial_outage", UptimePercent: 97},
			"Component removed: Legacy", "Removed", "none", []string{"Legacy"},
			[]string{"Status"}, 0x59636e},
	}
}

func TestNoticeForEveryEventType(t *testing.T) {
	if len(eventCases()) != len(models.EventTypes) {
		t.Fatalf("%d cases for %d event types", len(eventCases()), len(models.EventTypes))
	}
	for _, tc := range eventCases() {
		t.Run(tc.name, func(t *testing.T) {
			n, err := NoticeFor("Main Status", tc.typ, mustJSON(t, tc.data), testAt, false)
			if err != nil {
				t.Fatal(err)
			}
			if n.Headline != tc.headline || n.Status != tc.status || n.Severity != tc.severity {
				t.Errorf("headline, status, severity = %q, %q, %q; want %q, %q, %q",
					n.Headline, n.Status, n.Severity, tc.headline, tc.status, tc.severity)
			}
			if !reflect.DeepEqual(n.Components, tc.components) {
				t.Errorf("components = %q, want %q", n.Components, tc.components)
			}
			if n.PageName != "Main Status" || !n.Timestamp.Equal(testAt) || n.EventType != tc.typ || n.Test {
				t.Errorf("page, time, type, test = %q, %v, %q, %v", n.PageName, n.Timestamp, n.EventType, n.Test)
			}
			var names []string
			for _, f := range n.fields() {
				names = append(names, f.name)
			}
			if !reflect.DeepEqual(names, tc.fields) {
				t.Errorf("fields = %q, want %q", names, tc.fields)
			}
			if got := n.colour(); got != tc.colour {
				t.Errorf("colour = %06x, want %06x", got, tc.colour)
			}
		})
	}
}

func TestNoticeForCarriesMessageURLAndTestFlag(t *testing.T) {
	n, err := NoticeFor("Main", models.EventIncidentCreated, mustJSON(t, incidentData("investigating", "minor")), testAt, true)
	if err != nil {
		t.Fatal(err)
	}
	if n.Message != "We are **investigating**." || n.URL != "https://status.example.com/incidents/123" || !n.Test {
		t.Errorf("message, url, test = %q, %q, %v", n.Message, n.URL, n.Test)
	}
}

func TestNoticeForRejectsWhatItCannotRead(t *testing.T) {
	cases := []struct {
		name string
		typ  models.EventType
		data string
	}{
		{"unknown event type", "incident.exploded", `{}`},
		{"garbage incident data", models.EventIncidentCreated, `not json`},
		{"garbage maintenance data", models.EventMaintenanceStarted, `{"title": 3}`},
		{"garbage component data", models.EventComponentCreated, `[`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NoticeFor("Main", tc.typ, []byte(tc.data), testAt, false); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestUnknownImpactIsNone(t *testing.T) {
	n, err := NoticeFor("Main", models.EventIncidentCreated, mustJSON(t, incidentData("investigating", "apocalyptic")), testAt, false)
	if err != nil {
		t.Fatal(err)
	}
	if n.Severity != "none" || n.colour() != 0x59636e {
		t.Errorf("severity %q colour %06x, want none and grey", n.Severity, n.colour())
	}
}

func TestColourBySeverity(t *testing.T) {
	cases := []struct {
		name string
		n    Notice
		want int
	}{
		{"critical is red", Notice{EventType: models.EventIncidentCreated, Status: "Investigating", Severity: "critical"}, 0xcf222e},
		{"major is orange", Notice{EventType: models.EventIncidentUpdated, Status: "Identified", Severity: "major"}, 0xd1570b},
		{"minor is yellow", Notice{EventType: models.EventIncidentCreated, Status: "Monitoring", Severity: "minor"}, 0xb08800},
		{"none is grey", Notice{EventType: models.EventIncidentCreated, Status: "Investigating", Severity: "none"}, 0x59636e},
		{"unknown is grey", Notice{Severity: "weird"}, 0x59636e},
		{"maintenance is blue", Notice{EventType: models.EventMaintenanceStarted, Status: "In progress", Severity: "maintenance"}, 0x0969da},
		{"resolved critical incident is green", Notice{EventType: models.EventIncidentResolved, Status: "Resolved", Severity: "critical"}, 0x1f883d},
		{"update to a resolved incident is green", Notice{EventType: models.EventIncidentUpdated, Status: "Resolved", Severity: "major"}, 0x1f883d},
		{"completed maintenance is green", Notice{EventType: models.EventMaintenanceCompleted, Status: "Completed", Severity: "maintenance"}, 0x1f883d},
		{"component back to operational is green", Notice{EventType: models.EventComponentStatusChanged, Status: "Operational", Severity: "none"}, 0x1f883d},
		{"component in maintenance is blue", Notice{EventType: models.EventComponentStatusChanged, Status: "Under maintenance", Severity: "maintenance"}, 0x0969da},
		{"degraded component is yellow", Notice{EventType: models.EventComponentStatusChanged, Status: "Degraded performance", Severity: "minor"}, 0xb08800},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.n.colour(); got != tc.want {
				t.Errorf("colour = %06x, want %06x", got, tc.want)
			}
		})
	}
}

func TestTruncateNeverSplitsARune(t *testing.T) {
	cases := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"short stays", "abc", 3, "abc"},
		{"long is cut with an ellipsis", "abcdef", 4, "abc…"},
		{"emoji counted as two UTF-16 units", "😀😀😀😀", 5, "😀😀…"},
		{"cjk counted as one", "漢字漢字漢字", 5, "漢字漢字…"},
		{"trailing space before the ellipsis dropped", "ab  cdef", 5, "ab…"},
		{"zero room", "abc", 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := truncate(tc.in, tc.max)
			if got != tc.want || !utf8.ValidString(got) || UTF16Len(got) > max(tc.max, 0) {
				t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
			}
		})
	}
}

func TestJoinLimitedCountsWhatDoesNotFit(t *testing.T) {
	var many []string
	for i := range 60 {
		many = append(many, fmt.Sprintf("Component %02d", i))
	}
	same := func(s string) string { return s }
	cases := []struct {
		name  string
		items []string
		max   int
		want  string
	}{
		{"all fit", []string{"API", "Web"}, 100, "API, Web"},
		{"rest counted", many, 40, "Component 00, Component 01 and 58 more"},
		{"nothing fits", many, 12, "60 componen…"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := joinLimited(tc.items, tc.max, same)
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if n := UTF16Len(got); n > tc.max {
				t.Errorf("%d characters, limit %d", n, tc.max)
			}
		})
	}
}

// longNotice is the worst input: every text far over every limit, in
// multi-byte characters, with Slack's special characters at every cut.
func longNotice(typ models.EventType, test bool) Notice {
	unit := "é漢字😀&<> "                                                // 9 runes, 1–4 bytes each
	long := func(n int) string { return strings.Repeat(unit, n/9+1) } // at least n runes
	var comps []string
	for i := range 60 {
		comps = append(comps, fmt.Sprintf("Component %d %s", i, long(300)))
	}
	return Notice{
		EventType: typ, PageName: long(3000), Headline: long(1000), Status: long(5000),
		Severity: "critical", Components: comps, Message: long(20000),
		URL: "https://status.example.com/incidents/1", Timestamp: testAt, Test: test,
		windowStart: testAt, windowEnd: testAt.Add(time.Hour),
		previousStatus: long(5000), uptime: long(5000),
	}
}
