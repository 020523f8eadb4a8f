package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestDashboardCountsSubscribers: the dashboard says how many visitors
// receive notices by e-mail, how many wait for their confirmation or
// bounce, and, without SMTP, why nobody can subscribe.
func TestDashboardCountsSubscribers(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		dash := c.Get("/admin")
		if dash.Status != http.StatusOK || !strings.Contains(dash.Body, "e-mail is not configured") {
			t.Fatalf("dashboard without SMTP or subscribers: %d, no word on e-mail\n%.500s", dash.Status, dash.Body)
		}
		ctx := context.Background()
		for i := range 6 {
			modelstest.Fatal(t, s.Store.Subscribe(ctx, models.DefaultPageID,
				models.SubscribeInput{Email: fmt.Sprintf("visitor%d@example.com", i), AllComponents: true}), "subscribe %d", i)
		}
		execSQL(t, s, "UPDATE subscribers SET state = 'active' WHERE email IN ('visitor0@example.com', 'visitor1@example.com', 'visitor2@example.com', 'visitor3@example.com')")
		execSQL(t, s, "UPDATE subscribers SET state = 'bouncing' WHERE email = 'visitor4@example.com'")
		dash = c.Get("/admin")
		for _, want := range []string{
			`<p class="pad" id="subscriber-count"><strong>4</strong> subscribers receive notices by e-mail.</p>`,
			"1 waiting for their confirmation · 1 bouncing (skipped)",
			"E-mail is not configured now",
		} {
			if !strings.Contains(dash.Body, want) {
				t.Errorf("dashboard lacks %q", want)
			}
		}
		if strings.Contains(dash.Body, "visitor0@example.com") {
			t.Error("the dashboard shows a subscriber's address")
		}
	})
}
