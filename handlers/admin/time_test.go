package admin

import (
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
)

// Wall-clock times are read in the page's zone; a skipped time is an
// error, a repeated one its first occurrence, whatever the size of the
// jump.
func TestParseFormTimeInZone(t *testing.T) {
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		zone, value string
		want        string // RFC 3339 UTC; "" for a field error
	}{
		{"UTC", "2026-01-14T12:00", "2026-01-14T12:00:00Z"},
		{"Europe/Berlin", "2026-01-14T12:00", "2026-01-14T11:00:00Z"},
		{"Europe/Berlin", "2026-07-14 12:00", "2026-07-14T10:00:00Z"},
		{"Europe/Berlin", "2026-03-29T02:00", ""},                     // skipped
		{"Europe/Berlin", "2026-03-29T03:00", "2026-03-29T01:00:00Z"}, // first after the jump
		{"Europe/Berlin", "2026-10-25T02:30", "2026-10-25T00:30:00Z"}, // twice: the first
		{"Europe/Berlin", "2026-10-25T03:00", "2026-10-25T02:00:00Z"},
		{"America/New_York", "2026-03-08T02:30", ""},
		{"America/New_York", "2026-11-01T01:30", "2026-11-01T05:30:00Z"},
		{"Australia/Lord_Howe", "2026-10-04T02:15", ""}, // a 30-minute jump
		{"Australia/Lord_Howe", "2026-04-05T01:45", "2026-04-04T14:45:00Z"},
		{"Asia/Kolkata", "2026-01-14T12:00", "2026-01-14T06:30:00Z"},
		{"Europe/Berlin", "14.01.2026 12:00", ""},
		{"Europe/Berlin", "2026-02-30T12:00", ""},
	}
	for _, tc := range cases {
		loc, err := time.LoadLocation(tc.zone)
		if err != nil {
			t.Fatalf("zone %s: %v", tc.zone, err)
		}
		var val models.Validator
		got := parseFormTime(&val, "at", tc.value, loc)
		if tc.want == "" {
			if val.Err() == nil {
				t.Errorf("%s in %s = %s, want a field error", tc.value, tc.zone, got)
			}
			continue
		}
		if err := val.Err(); err != nil || !got.Equal(utc(tc.want)) {
			t.Errorf("%s in %s = %s (%v), want %s", tc.value, tc.zone, got.UTC(), err, tc.want)
		}
		if back := formTime(got, loc); back != tc.value[:10]+"T"+tc.value[11:] {
			t.Errorf("formTime(%s) = %s, want %s", got, back, tc.value)
		}
	}
	if got := zoneLabel(time.UTC, time.Now()); got != "UTC" {
		t.Errorf("zoneLabel(UTC) = %q", got)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	if got := zoneLabel(berlin, utc("2026-07-01T00:00:00Z")); got != "Europe/Berlin (UTC+02:00)" {
		t.Errorf("zoneLabel(Berlin, summer) = %q", got)
	}
}
