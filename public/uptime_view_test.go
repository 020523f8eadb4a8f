package public_test

import (
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/public"
)

// uptimeTestNow is noon on Mar 10, 2026: the bar's last day has 12 hours.
var uptimeTestNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func uptimeTestDay(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, time.UTC) }

func uptimeTestPtr(t time.Time) *time.Time { return &t }

// uptimeTestData has API (created Mar 3, major outage 06:00–12:00 on Mar
// 5) and Web (created Mar 1, always up), and incidents: one on API over
// Mar 5, one on Web, one naming no component across midnight Mar 7–8, and
// an unresolved one on API since Mar 9 that is not among the recent ones.
func uptimeTestData() *public.Data {
	api := models.Component{ID: 1, Name: "API", Visible: true}
	web := models.Component{ID: 2, Name: "Web", Visible: true}
	ch := func(at time.Time, s models.ComponentStatus) models.StatusChange {
		return models.StatusChange{NewStatus: s, ChangedAt: at}
	}
	histories := map[int64][]models.StatusChange{
		api.ID: {ch(uptimeTestDay(3, 0), models.StatusOperational), ch(uptimeTestDay(5, 6), models.StatusMajorOutage), ch(uptimeTestDay(5, 12), models.StatusOperational)},
		web.ID: {ch(uptimeTestDay(1, 0), models.StatusOperational)},
	}
	d := &public.Data{Now: uptimeTestNow, Components: []models.Component{api, web},
		Days: map[int64][]models.DayUptime{}, Uptime: map[int64]models.Uptime{}}
	for id, h := range histories {
		d.Days[id] = models.DailyUptime(h, uptimeTestNow, models.UptimeDays, models.DefaultPartialWeight)
		d.Uptime[id] = models.PeriodUptime(d.Days[id])
	}
	d.Incidents = []models.Incident{
		{ID: 3, Title: "Everything slow", StartedAt: uptimeTestDay(7, 22), ResolvedAt: uptimeTestPtr(uptimeTestDay(8, 1))},
		{ID: 2, Title: "Web hiccup", StartedAt: uptimeTestDay(6, 9), ResolvedAt: uptimeTestPtr(uptimeTestDay(6, 10)), Components: []models.Component{web}},
		{ID: 1, Title: "API down", StartedAt: uptimeTestDay(5, 6), ResolvedAt: uptimeTestPtr(uptimeTestDay(6, 0)), Components: []models.Component{api}},
	}
	d.Unresolved = []models.Incident{
		{ID: 4, Title: "API flaky", StartedAt: uptimeTestDay(9, 23), Components: []models.Component{api}},
	}
	return d
}

func TestUptimeBars(t *testing.T) {
	bars := public.UptimeBars(uptimeTestData())
	api, web := bars[1], bars[2]
	if len(api.Days) != 90 || len(web.Days) != 90 {
		t.Fatalf("bars have %d and %d days, want 90", len(api.Days), len(web.Days))
	}
	// The last cell is today, the first 89 days before.
	last := len(api.Days) - 1
	if got := api.Days[last].Date; !got.Equal(uptimeTestDay(10, 0)) {
		t.Fatalf("last day is %v, want Mar 10", got)
	}
	if got := api.Days[0].Date; !got.Equal(uptimeTestDay(10, 0).AddDate(0, 0, -89)) {
		t.Fatalf("first day is %v, want 89 days before Mar 10", got)
	}
	at := func(b public.Bar, day int) public.BarDay { return b.Days[last-(10-day)] }

	cases := []struct {
		name       string
		cell       public.BarDay
		status     models.ComponentStatus
		tooltip    []string
		notTooltip []string
	}{
		{"before the component existed: no data, never green", at(api, 2), "", []string{"Mar 2, 2026\nNo data"}, []string{"uptime"}},
		{"first day", at(api, 3), models.StatusOperational, []string{"Mar 3, 2026\n100% uptime"}, []string{"•"}},
		{"six hours of major outage", at(api, 5), models.StatusMajorOutage,
			[]string{"Mar 5, 2026\n75% uptime · Major outage", "\n• API down"}, []string{"Web hiccup"}},
		{"resolved at midnight: not on the next day", at(api, 6), models.StatusOperational, nil, []string{"API down", "Web hiccup"}},
		{"incident of another component", at(web, 6), models.StatusOperational, []string{"• Web hiccup"}, []string{"API down"}},
		{"incident without components, across midnight (day 1)", at(api, 7), models.StatusOperational, []string{"• Everything slow"}, nil},
		{"incident without components, across midnight (day 2)", at(web, 8), models.StatusOperational, []string{"• Everything slow"}, nil},
		{"unresolved incident runs until now", at(api, 10), models.StatusOperational, []string{"Mar 10, 2026\n100% uptime", "• API flaky"}, nil},
		{"unresolved incident on its first day", at(api, 9), models.StatusOperational, []string{"• API flaky"}, []string{"Everything slow"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.cell.Status != tc.status {
				t.Errorf("status %q, want %q", tc.cell.Status, tc.status)
			}
			tip := tc.cell.Tooltip()
			for _, want := range tc.tooltip {
				if !strings.Contains(tip, want) {
					t.Errorf("tooltip %q lacks %q", tip, want)
				}
			}
			for _, bad := range tc.notTooltip {
				if strings.Contains(tip, bad) {
					t.Errorf("tooltip %q has %q", tip, bad)
				}
			}
		})
	}
	if !at(api, 2).NoData() || at(api, 3).NoData() {
		t.Error("NoData wrong around the creation day")
	}
	// 6 h down out of 7.5 days tracked.
	if api.Percent != "96.67%" || web.Percent != "100%" {
		t.Errorf("90-day figures %q and %q, want 96.67%% and 100%%", api.Percent, web.Percent)
	}
}

func TestPercentText(t *testing.T) {
	cases := []struct {
		name string
		u    models.Uptime
		want string
	}{
		{"nothing tracked", models.Uptime{}, "100%"},
		{"all up", models.Uptime{Tracked: time.Hour, HasData: true}, "100%"},
		{"two decimals", models.Uptime{Tracked: 10000 * time.Second, Down: 5 * time.Second, HasData: true}, "99.95%"},
		{"trailing zero dropped", models.Uptime{Tracked: 8 * time.Hour, Down: time.Hour, HasData: true}, "87.5%"},
		{"all down", models.Uptime{Tracked: time.Hour, Down: time.Hour, HasData: true}, "0%"},
		{"a second down in 90 days never reads 100%", models.Uptime{Tracked: 90 * 24 * time.Hour, Down: time.Second, HasData: true}, "99.99%"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := public.PercentText(tc.u); got != tc.want {
				t.Errorf("PercentText = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRecentHistory(t *testing.T) {
	d := uptimeTestData()
	d.Incidents = append(d.Incidents, models.Incident{ID: 9, Title: "Ancient", StartedAt: uptimeTestDay(10, 0).AddDate(0, 0, -14)})
	d.Maintenances = []models.Maintenance{
		{ID: 13, Title: "Later today", Status: models.MaintenanceScheduled, WindowStart: uptimeTestDay(10, 18)},
		{ID: 12, Title: "Running", Status: models.MaintenanceInProgress, WindowStart: uptimeTestDay(10, 11)},
		{ID: 11, Title: "Called off", Status: models.MaintenanceCancelled, WindowStart: uptimeTestDay(8, 2)},
		{ID: 10, Title: "DB upgrade", Status: models.MaintenanceCompleted, WindowStart: uptimeTestDay(8, 1)},
	}
	days := public.RecentHistory(d, 14)
	if len(days) != 14 || !days[0].Date.Equal(uptimeTestDay(10, 0)) || !days[13].Date.Equal(uptimeTestDay(10, 0).AddDate(0, 0, -13)) {
		t.Fatalf("days run %v … %v (%d)", days[0].Date, days[len(days)-1].Date, len(days))
	}
	titles := func(hd public.HistoryDay) string {
		var out []string
		for _, inc := range hd.Incidents {
			out = append(out, inc.Title)
		}
		for _, m := range hd.Maintenances {
			out = append(out, m.Title)
		}
		return strings.Join(out, ",")
	}
	want := map[int]string{ // days ago → titles
		0: "", // the running and scheduled windows are shown elsewhere
		2: "DB upgrade",
		3: "Everything slow", // by the day it started
		4: "Web hiccup",
		5: "API down",
	}
	for i, hd := range days {
		if got := titles(hd); got != want[i] {
			t.Errorf("%s: %q, want %q", hd.Date.Format("Jan 2"), got, want[i])
		}
	}
}
