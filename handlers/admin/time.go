package admin

import (
	"fmt"
	"github.com/labstack/echo/v4"
	"strings"
	"time"

	"github.com/heraldstatus/herald/models"
)

// relativeTime says how long ago t was, roughly: "just now", "5 minutes
// ago", "3 days ago"; future times read "in 2 hours".
func relativeTime(now, t time.Time) string {
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var amount string
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		amount = plural(int(d/time.Minute), "minute")
	case d < 24*time.Hour:
		amount = plural(int(d/time.Hour), "hour")
	case d < 60*24*time.Hour:
		amount = plural(int(d/(24*time.Hour)), "day")
	case d < 2*365*24*time.Hour:
		amount = plural(int(d/(30*24*time.Hour)), "month")
	default:
		amount = plural(int(d/(365*24*time.Hour)), "year")
	}
	if future {
		return "in " + amount
	}
	return amount + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// pageZone is the page's time zone, in which the admin's date and time
// fields are read and shown. A zone the page no longer knows (the tz
// database of this host lacks it) falls back to UTC.
func (h *Handler) pageZone(c echo.Context) (*time.Location, error) {
	page, err := h.managedPage(c) // loaded once per request
	if err != nil {
		return nil, err
	}
	return pageLocation(page), nil
}

// pageLocation is the page's time zone, UTC when unset or unknown.
func pageLocation(page *models.Page) *time.Location {
	if page.TimeZone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(page.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// zoneLabel names loc with its offset at now, as shown beside date
// fields: "Europe/Berlin (UTC+01:00)", or "UTC".
func zoneLabel(loc *time.Location, now time.Time) string {
	if loc == time.UTC || loc.String() == "UTC" {
		return "UTC"
	}
	return loc.String() + " (UTC" + now.In(loc).Format("-07:00") + ")"
}

// zoneInSentence names loc after a time in a sentence: "UTC", or
// "(Europe/Berlin)".
func zoneInSentence(loc *time.Location) string {
	if loc == time.UTC || loc.String() == "UTC" {
		return "UTC"
	}
	return "(" + loc.String() + ")"
}

// datetime-local inputs carry no zone; Herald reads them in the page's
// time zone and names it next to the field.
var formTimeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05"}

// parseFormTime reads a datetime-local value in loc. Empty gives the zero
// time (the models then say the field is required); anything unparsable
// is a field error, and so is a wall-clock time that does not exist in
// loc (skipped when the clocks go forward). A time that happens twice
// (when the clocks go back) is its first occurrence, the earlier instant.
func parseFormTime(val *models.Validator, field, value string, loc *time.Location) time.Time {
	value = strings.TrimSpace(value)
	if value == "" {
		return time.Time{}
	}
	for _, layout := range formTimeLayouts {
		wall, err := time.ParseInLocation(layout, value, time.UTC)
		if err != nil {
			continue
		}
		if wall.Year() < 1970 || wall.Year() > 9999 {
			val.Add(field, "Enter a date between 1970 and 9999.")
			return time.Time{}
		}
		t, ok := inZone(wall, loc)
		if !ok {
			val.Add(field, fmt.Sprintf("%s does not exist in %s: the clocks skip it that night. Choose another time.",
				wall.Format("Jan 2, 2006 15:04"), loc))
			return time.Time{}
		}
		return t
	}
	val.Add(field, fmt.Sprintf("Enter a date and time in %s, like 2026-01-14 12:00.", loc))
	return time.Time{}
}

// inZone is the instant at which clocks in loc show wall's date and time
// (wall is read as if it were UTC). Of two such instants it returns the
// earlier; ok is false when there is none.
func inZone(wall time.Time, loc *time.Location) (time.Time, bool) {
	// The offsets in force a day either side cover any one transition.
	var found time.Time
	for _, probe := range []time.Time{wall.Add(-24 * time.Hour), wall.Add(24 * time.Hour)} {
		_, offset := probe.In(loc).Zone()
		t := wall.Add(-time.Duration(offset) * time.Second)
		if sameWall(t.In(loc), wall) && (found.IsZero() || t.Before(found)) {
			found = t
		}
	}
	if found.IsZero() {
		// No transition nearby gave it; the offset at the instant itself
		// may still (zones that changed their offset for good).
		t := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, loc)
		if sameWall(t, wall) {
			return t.UTC(), true
		}
		return time.Time{}, false
	}
	return found.UTC(), true
}

func sameWall(t, wall time.Time) bool {
	y, mo, d := t.Date()
	wy, wmo, wd := wall.Date()
	return y == wy && mo == wmo && d == wd && t.Hour() == wall.Hour() && t.Minute() == wall.Minute() && t.Second() == wall.Second()
}

// formTime formats t for a datetime-local input, in loc.
func formTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2006-01-02T15:04")
}
