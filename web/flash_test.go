package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/web/webtest"
)

// A client that does not follow redirects posts change after change:
// every change commits and is answered 303, the session cookie does not
// grow with the unread messages, and the next page shows the newest one.
func TestFlashMessagesDoNotPileUp(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		csrf := c.CSRF("/admin/incidents/new")
		title := func(i int) string {
			return fmt.Sprintf("Payments are failing for some card issuers in the EU region, wave %02d", i)
		}
		var firstCookie int
		for i := 1; i <= 40; i++ {
			res := c.Post("/admin/incidents", url.Values{"_csrf": {csrf}, "title": {title(i)},
				"status": {"investigating"}, "impact": {""}, "message": {"Looking into it."}})
			if res.Status != http.StatusSeeOther {
				t.Fatalf("post %d: %d, want 303\n%.300s", i, res.Status, res.Body)
			}
			size := len(c.CookieHeader())
			if i == 1 {
				firstCookie = size
			}
			if size > firstCookie+64 {
				t.Fatalf("post %d: the cookie grew from %d to %d bytes", i, firstCookie, size)
			}
		}
		var n int
		db, _ := s.Store.SQLDB()
		if err := db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM incidents").Scan(&n); err != nil || n != 40 {
			t.Errorf("%d incidents (%v), want 40", n, err)
		}
		page := c.Get("/admin/incidents")
		if !strings.Contains(page.Body, "Incident “"+title(40)+"” published.") {
			t.Errorf("the page does not show the newest message")
		}
		if strings.Contains(page.Body, "“"+title(39)+"” published.") {
			t.Errorf("the page still shows an older message")
		}
		if again := c.Get("/admin/incidents"); strings.Contains(again.Body, "” published.") {
			t.Error("the message shows twice")
		}
	})
}
