package layout

import "strings"

// Banner is the overall status sentence at the top of the public page and
// the admin dashboard.
type Banner struct {
	Status   Status
	Sentence string
}

// ComponentRow is a component with its status, as incidents list the
// components they affect.
type ComponentRow struct {
	ID          int64
	Name        string
	Description string
	Status      Status
}

// IncidentView is an incident ready to print. MessageHTML and
// PostmortemHTML were sanitised by the markdown package: they are the only
// strings printed unescaped.
type IncidentView struct {
	ID         int64
	Title      string
	URL        string // public permalink
	Status     Status // incident status: investigating … resolved
	Impact     Status // none, minor, major, critical
	Started    Time
	Resolved   *Time
	Backfilled bool
	// TitleEdited: the title was corrected after publication.
	TitleEdited bool
	Updates     []UpdateView // newest first
	// Components are the affected components with their current status.
	Components     []ComponentRow
	PostmortemHTML string
	PostmortemAt   *Time
}

// UpdateView is one entry of an incident timeline.
type UpdateView struct {
	ID     int64
	Status Status
	// Edited is when the message was last corrected; nil: never.
	Edited      *Time
	MessageHTML string
	At          Time
	Changes     []ComponentChange
}

// ComponentChange is a component status set with an update.
type ComponentChange struct {
	Name   string
	Status Status
}

// MaintenanceView is a maintenance window ready to print.
type MaintenanceView struct {
	ID          int64
	Title       string
	URL         string // public permalink
	Status      Status // scheduled, in_progress, completed, cancelled
	Start       Time
	End         Time
	Components  []string
	MessageHTML string
	// SetMaintenance: components go under maintenance during the window.
	SetMaintenance bool
	// Updates posted to the window, newest first.
	Updates []UpdateView
}

// JoinNames lists names, comma-separated.
func JoinNames(names []string) string { return strings.Join(names, ", ") }
