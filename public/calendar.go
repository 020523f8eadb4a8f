package public

import (
	"bytes"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldstatus/herald/markdown"
	"github.com/heraldstatus/herald/models"
)

// CalendarHorizon is how far back /maintenance.ics keeps completed and
// cancelled windows: a calendar app that subscribed keeps what it saw,
// and one that subscribes now sees the recent past.
const CalendarHorizon = 90 * 24 * time.Hour

// calendarLimit caps the windows of the calendar (the most recent ones).
const calendarLimit = 500

// CalendarPath is where the maintenance calendar is served.
const CalendarPath = "/maintenance.ics"

// icsLineOctets is the longest content line RFC 5545 §3.1 allows,
// without its CRLF.
const icsLineOctets = 75

// MaintenanceCalendar renders d's maintenance windows as an iCalendar
// object (RFC 5545) that calendar apps subscribe to: one VEVENT per
// window, its UID stable, its SEQUENCE raised on every change, cancelled
// windows with STATUS:CANCELLED. The output depends only on the data, so
// an unchanged page keeps its ETag: DTSTAMP is the window's last change
// rather than the time of the request.
func MaintenanceCalendar(d *Data, md *markdown.Renderer) []byte {
	var w icsWriter
	w.line("BEGIN", "VCALENDAR")
	w.line("PRODID", "-//Herald//Herald status page//EN")
	w.line("VERSION", "2.0")
	w.line("CALSCALE", "GREGORIAN")
	w.line("METHOD", "PUBLISH")
	w.line("X-WR-CALNAME", icsText("Maintenance · "+d.Page.Name))
	w.line("X-WR-CALDESC", icsText("Scheduled maintenance of "+d.Page.Name))
	// Ask subscribed calendar apps to look again every hour.
	w.line("REFRESH-INTERVAL;VALUE=DURATION", "PT1H")
	w.line("X-PUBLISHED-TTL", "PT1H")
	host := calendarHost(d.BaseURL)
	for i := range d.Calendar {
		calendarEvent(&w, d, &d.Calendar[i], md, host)
	}
	w.line("END", "VCALENDAR")
	return w.buf.Bytes()
}

func calendarEvent(w *icsWriter, d *Data, m *models.Maintenance, md *markdown.Renderer, host string) {
	modified := m.UpdatedAt
	if modified.IsZero() {
		modified = m.CreatedAt
	}
	link := fmt.Sprintf("%s/maintenance/%d", d.BaseURL, m.ID)
	status := "CONFIRMED"
	if m.Status == models.MaintenanceCancelled {
		status = "CANCELLED"
	}
	w.line("BEGIN", "VEVENT")
	w.line("UID", "maintenance-"+strconv.FormatInt(m.ID, 10)+"@"+host)
	w.line("DTSTAMP", icsTime(modified))
	w.line("DTSTART", icsTime(m.WindowStart))
	w.line("DTEND", icsTime(m.WindowEnd))
	w.line("SUMMARY", icsText(m.Title))
	w.line("DESCRIPTION", icsText(calendarDescription(d, m, md, link)))
	w.line("URL", link)
	w.line("STATUS", status)
	w.line("SEQUENCE", strconv.Itoa(m.Sequence))
	// Maintenance is something to know about, not time the subscriber
	// is busy.
	w.line("TRANSP", "TRANSPARENT")
	if !m.CreatedAt.IsZero() {
		w.line("CREATED", icsTime(m.CreatedAt))
	}
	w.line("LAST-MODIFIED", icsTime(modified))
	w.line("END", "VEVENT")
}

// calendarDescription is the event's text: the message without its
// Markdown, the affected components the page shows, and the permalink
// (many calendar apps do not show URL).
func calendarDescription(d *Data, m *models.Maintenance, md *markdown.Renderer, link string) string {
	var parts []string
	if m.Status == models.MaintenanceCancelled {
		parts = append(parts, "This maintenance was cancelled.")
	}
	if msg := md.Plain(m.Message); msg != "" {
		parts = append(parts, msg)
	}
	var names []string
	for _, c := range m.Components {
		if d.visible(c.ID) { // a hidden component's name reaches no public surface
			names = append(names, c.Name)
		}
	}
	if len(names) > 0 {
		parts = append(parts, "Affected components: "+strings.Join(names, ", "))
	}
	parts = append(parts, "Details: "+link)
	return strings.Join(parts, "\n\n")
}

// calendarHost is the host of the base URL, the right-hand side of every
// UID, so UIDs stay unique across installs.
func calendarHost(baseURL string) string {
	if u, err := url.Parse(baseURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "herald.invalid"
}

// icsTime is a UTC DATE-TIME (RFC 5545 §3.3.5, form 2).
func icsTime(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// icsText escapes a TEXT value (RFC 5545 §3.3.11): backslash, semicolon
// and comma are escaped, every line break becomes \n, and other control
// characters, which TEXT may not hold, become spaces. A value can thus
// never end its line and start a property of its own.
func icsText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == ';':
			b.WriteString(`\;`)
		case r == ',':
			b.WriteString(`\,`)
		case r == '\n' || r == '\r':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			b.WriteByte(' ')
		case r == utf8.RuneError:
			b.WriteRune('\uFFFD') // invalid UTF-8 leaves as the replacement character
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// icsWriter writes content lines, folded and ended with CRLF.
type icsWriter struct{ buf bytes.Buffer }

// line writes "name:value" folded at icsLineOctets octets (RFC 5545
// §3.1): each continuation line starts with a space, and a fold never
// splits a multi-byte UTF-8 character.
func (w *icsWriter) line(name, value string) {
	s := name + ":" + value
	limit := icsLineOctets
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		w.buf.WriteString(s[:cut])
		w.buf.WriteString("\r\n ")
		s = s[cut:]
		limit = icsLineOctets - 1 // the leading space counts
	}
	w.buf.WriteString(s)
	w.buf.WriteString("\r\n")
}
