package admin

import (
	"fmt"
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

// datetime-local inputs carry no zone; Herald reads them as UTC and says so
// next to the field.
var formTimeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05"}

// parseFormTime reads a datetime-local value as UTC. Empty gives the zero
// time (the models then say the field is required); anything unparsable is
// a field error.
func parseFormTime(val *models.Validator, field, value string) time.Time {
	value = strings.TrimSpace(value)
	if value == "" {
		return time.Time{}
	}
	for _, layout := range formTimeLayouts {
		t, err := time.ParseInLocation(layout, value, time.UTC)
		if err != nil {
			continue
		}
		if t.Year() < 1970 {
			val.Add(field, "Enter a date after 1970.")
			return time.Time{}
		}
		return t
	}
	val.Add(field, "Enter a date and time in UTC, like 2026-01-14 12:00.")
	return time.Time{}
}

// formTime formats t for a datetime-local input, in UTC.
func formTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04")
}
