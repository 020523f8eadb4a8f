package layout

import (
	"strconv"
	"strings"
	"time"
)

// Chrome is what every page's layout needs.
type Chrome struct {
	Title     string
	SiteName  string
	CSS       string
	Script    string
	CSRF      string
	UserEmail string
	Nav       string
	Flashes   []Flash
	// LogoURL, when set, replaces the site name in the public header (the
	// name becomes its alt text). Accent is the public page's accent
	// class, such as "accent-purple"; empty keeps the default.
	LogoURL string
	Accent  string
	// Private: the public page is private, read by a visitor with
	// access; its footer offers to sign out of it.
	Private bool
	// Allowed holds the admin routes, as registered ("POST
	// /admin/incidents/:id/resolve"), the signed-in user's role may use:
	// admin screens draw only the links and forms it holds.
	Allowed map[string]bool
	// Pages are the status pages the admin's page switcher offers (it
	// shows with two or more); PageID is the one being managed.
	Pages  []PageChoice
	PageID int64
	// PageURL is where visitors find the managed page ("/" when unset).
	PageURL string
}

// PageChoice is one status page in the admin's page switcher.
type PageChoice struct {
	ID   int64
	Name string
	Slug string
}

// Allows reports whether the signed-in user's role may use route
// ("METHOD /admin/path/:id", as web/routes.go registers it).
func (c Chrome) Allows(route string) bool { return c.Allowed[route] }

// Flash is a one-time message shown after an action.
type Flash struct {
	Kind string // "success" or "error"
	Text string
}

// Status describes a component status for display.
type Status struct {
	Slug  string
	Label string
}

// Icon is the shape that goes with the status, so colour is never the only
// signal.
func (s Status) Icon() string {
	switch s.Slug {
	case "operational":
		return "✓"
	case "degraded_performance":
		return "▲"
	case "partial_outage":
		return "◆"
	case "major_outage":
		return "✕"
	case "under_maintenance":
		return "●"
	}
	return "?"
}

// Option is one choice of a select or radio group.
type Option struct {
	Value string
	Label string
}

// FormErrors maps field names to messages.
type FormErrors map[string]string

// Field returns the error for name, or "".
func (e FormErrors) Field(name string) string { return e[name] }

// Time formats a time for display in UTC with a machine-readable value.
type Time struct {
	At time.Time
}

// ISO is the datetime attribute value.
func (t Time) ISO() string { return t.At.UTC().Format(time.RFC3339) }

// Human is the UTC text shown before the script localises it, with the
// year when it is not the current one.
func (t Time) Human() string {
	at := t.At.UTC()
	if at.Year() != time.Now().UTC().Year() {
		return at.Format("Jan 2, 2006, 15:04 UTC")
	}
	return at.Format("Jan 2, 15:04 UTC")
}

// Thousands writes n with a comma between each group of three digits,
// as in "1,204".
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}
