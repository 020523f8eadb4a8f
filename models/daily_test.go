package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

func TestDailyUptime(t *testing.T) {
	day := func(d int, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, time.UTC) }
	ch := func(at time.Time, s models.ComponentStatus) models.StatusChange {
		return models.StatusChange{NewStatus: s, ChangedAt: at}
	}
	now := day(10, 12) // noon on the 10th: today has 12 hours
	cases := []struct {
		name    string
		history []models.StatusChange
		check   func(t *testing.T, days []models.DayUptime)
	}{
		{"created mid-range: earlier days have no data", []models.StatusChange{ch(day(8, 6), models.StatusOperational)},
			func(t *testing.T, days []models.DayUptime) {
				if !days[0].NoData() || !days[6].NoData() {
					t.Error("days before creation have data")
				}
				if days[7].NoData() || days[7].Uptime.Tracked != 18*time.Hour || days[7].Uptime.Percent() != 100 {
					t.Errorf("creation day = %+v", days[7].Uptime)
				}
				if days[9].Uptime.Tracked != 12*time.Hour {
					t.Errorf("today tracked %s, want 12h (up to now)", days[9].Uptime.Tracked)
				}
			}},
		{"major outage of 6 h is 75 % of a day", []models.StatusChange{
			ch(day(1, 0), models.StatusOperational), ch(day(5, 6), models.StatusMajorOutage), ch(day(5, 12), models.StatusOperational)},
			func(t *testing.T, days []models.DayUptime) {
				d := days[4]
				if !d.Date.Equal(day(5, 0)) || d.Uptime.Percent() != 75 || d.Uptime.Worst != models.StatusMajorOutage {
					t.Errorf("day 5 = %v %+v", d.Date, d.Uptime)
				}
				if days[3].Uptime.Worst != models.StatusOperational || days[5].Uptime.Percent() != 100 {
					t.Error("neighbouring days affected")
				}
			}},
		{"partial outage weighs 0.3", []models.StatusChange{
			ch(day(1, 0), models.StatusOperational), ch(day(5, 0), models.StatusPartialOutage), ch(day(5, 10), models.StatusOperational)},
			func(t *testing.T, days []models.DayUptime) {
				// 10 h × 0.3 = 3 h down of 24 → 87.5 %.
				if got := days[4].Uptime.Percent(); got != 87.5 {
					t.Errorf("partial day = %v%%, want 87.5", got)
				}
			}},
		{"maintenance is excluded", []models.StatusChange{
			ch(day(1, 0), models.StatusOperational), ch(day(5, 0), models.StatusUnderMaintenance), ch(day(5, 12), models.StatusMajorOutage), ch(day(5, 18), models.StatusOperational)},
			func(t *testing.T, days []models.DayUptime) {
				// 12 h tracked, 6 h down → 50 %.
				d := days[4].Uptime
				if d.Maintenance != 12*time.Hour || d.Tracked != 12*time.Hour || d.Percent() != 50 {
					t.Errorf("maintenance day = %+v (%v%%)", d, d.Percent())
				}
			}},
		{"outage across midnight splits by UTC day", []models.StatusChange{
			ch(day(1, 0), models.StatusOperational), ch(day(6, 18), models.StatusMajorOutage), ch(day(7, 6), models.StatusOperational)},
			func(t *testing.T, days []models.DayUptime) {
				if days[5].Uptime.Percent() != 75 || days[6].Uptime.Percent() != 75 {
					t.Errorf("6th %v%%, 7th %v%%; want 75 each", days[5].Uptime.Percent(), days[6].Uptime.Percent())
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			days := models.DailyUptime(tc.history, now, 10, 0.3)
			if len(days) != 10 || !days[9].Date.Equal(day(10, 0)) || !days[0].Date.Equal(day(1, 0)) {
				t.Fatalf("days span %v … %v", days[0].Date, days[len(days)-1].Date)
			}
			tc.check(t, days)
		})
	}
	days := models.DailyUptime([]models.StatusChange{ch(day(1, 0), models.StatusOperational), ch(day(5, 0), models.StatusMajorOutage), ch(day(5, 12), models.StatusOperational)}, now, 10, 0.3)
	total := models.PeriodUptime(days)
	// 12 h down of 9.5 days tracked.
	want := 100 * (1 - 12.0/(9.5*24))
	if got := total.Percent(); got < want-0.01 || got > want+0.01 {
		t.Errorf("period uptime = %v, want %.2f", got, want)
	}
}

func TestStatusHistories(t *testing.T) {
	eachClocked(t, func(t *testing.T, s *models.Store, clock *modelstest.Clock) {
		ctx := context.Background()
		c, err := s.CreateComponent(ctx, models.DefaultPageID, models.ComponentInput{Name: "API", Status: models.StatusOperational})
		modelstest.Fatal(t, err, "create")
		clock.Add(48 * time.Hour)
		_, err = s.UpdateComponent(ctx, c.ID, models.ComponentInput{Name: "API", Status: models.StatusMajorOutage})
		modelstest.Fatal(t, err, "outage")
		clock.Add(48 * time.Hour)
		_, err = s.UpdateComponent(ctx, c.ID, models.ComponentInput{Name: "API", Status: models.StatusOperational})
		modelstest.Fatal(t, err, "recover")

		hs, err := s.StatusHistories(ctx, models.DefaultPageID, clock.Now().Add(-24*time.Hour))
		modelstest.Fatal(t, err, "histories")
		h := hs[c.ID]
		// The outage (the status the period starts in) and the recovery.
		if len(h) != 2 || h[0].NewStatus != models.StatusMajorOutage || h[1].NewStatus != models.StatusOperational {
			t.Errorf("history = %+v", h)
		}
	})
}
