package models

// ComponentStatus is a component's state, in Statuspage's vocabulary.
type ComponentStatus string

// Component statuses, from best to worst for the overall rollup (maintenance
// ranks between operational and degraded: it is planned, not broken).
const (
	StatusOperational         ComponentStatus = "operational"
	StatusUnderMaintenance    ComponentStatus = "under_maintenance"
	StatusDegradedPerformance ComponentStatus = "degraded_performance"
	StatusPartialOutage       ComponentStatus = "partial_outage"
	StatusMajorOutage         ComponentStatus = "major_outage"
)

// ComponentStatuses lists every status in the order admins pick them.
var ComponentStatuses = []ComponentStatus{
	StatusOperational,
	StatusDegradedPerformance,
	StatusPartialOutage,
	StatusMajorOutage,
	StatusUnderMaintenance,
}

// Valid reports whether s is a known status.
func (s ComponentStatus) Valid() bool {
	return s.rank() >= 0
}

func (s ComponentStatus) rank() int {
	switch s {
	case StatusOperational:
		return 0
	case StatusUnderMaintenance:
		return 1
	case StatusDegradedPerformance:
		return 2
	case StatusPartialOutage:
		return 3
	case StatusMajorOutage:
		return 4
	}
	return -1
}

// Worse reports whether s is a worse status than other.
func (s ComponentStatus) Worse(other ComponentStatus) bool {
	return s.rank() > other.rank()
}

// Label is the status as people read it.
func (s ComponentStatus) Label() string {
	switch s {
	case StatusOperational:
		return "Operational"
	case StatusDegradedPerformance:
		return "Degraded performance"
	case StatusPartialOutage:
		return "Partial outage"
	case StatusMajorOutage:
		return "Major outage"
	case StatusUnderMaintenance:
		return "Under maintenance"
	}
	return string(s)
}

// WorstStatus returns the worst of statuses, operational when empty.
func WorstStatus(statuses ...ComponentStatus) ComponentStatus {
	worst := StatusOperational
	for _, s := range statuses {
		if s.Worse(worst) {
			worst = s
		}
	}
	return worst
}

// StatusSource says why a component's status changed.
type StatusSource string

// Status change sources.
const (
	SourceManual      StatusSource = "manual"
	SourceIncident    StatusSource = "incident"
	SourceMaintenance StatusSource = "maintenance"
)
