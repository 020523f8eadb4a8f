package web_test

import (
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// The admin corrects a published title and an update's message: the
// pages mark them edited, the audit log names the admin, and channels
// hear of it only when "Notify channels" is ticked.
func TestAdminCorrectsPublishedIncident(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		anon := s.NewClient(t)
		id := openIncident(t, s, models.DefaultPageID, "Databse slow", nil)
		path := "/admin/incidents/" + itoa(id)
		inc, err := s.Store.Incident(t.Context(), id)
		modelstest.Fatal(t, err, "load")
		updatePath := path + "/updates/" + itoa(inc.Updates[0].ID)
		detail := c.Get(path)
		if !strings.Contains(detail.Body, `href="`+path+`/edit"`) || !strings.Contains(detail.Body, `href="`+updatePath+`/edit"`) {
			t.Fatalf("detail page has no correction links\n%s", detail.Body)
		}
		if strings.Contains(anon.Get("/incidents/"+itoa(id)).Body, "edited") {
			t.Fatal("an uncorrected incident is marked edited")
		}

		// Title, silently.
		before := eventCount(t, s)
		form := c.Get(path + "/edit")
		if form.Status != http.StatusOK || !strings.Contains(form.Body, `value="Databse slow"`) || !strings.Contains(form.Body, `name="notify"`) {
			t.Fatalf("title form: %d\n%s", form.Status, form.Body)
		}
		res := c.Submit(path+"/edit", path, url.Values{"title": {"Database slow"}})
		if res.Status != http.StatusSeeOther || res.Location != path {
			t.Fatalf("correct title: %d → %q\n%s", res.Status, res.Location, res.Body)
		}
		if page := c.Get(path); !strings.Contains(page.Body, "Title corrected. No channels notified.") || !strings.Contains(page.Body, "Title edited") {
			t.Fatalf("detail after correction lacks the flash or the mark\n%s", page.Body)
		}
		if a := lastAudit(t, s); a.Action != "incident.edit" || a.ActorName != webtest.AdminEmail || !strings.Contains(a.Before, "Databse slow") {
			t.Fatalf("audit row %+v", a)
		}
		if n := eventCount(t, s); n != before {
			t.Fatalf("a silent correction fired %d events", n-before)
		}

		// Message, announced.
		res = c.Submit(updatePath+"/edit", updatePath, url.Values{"message": {"Queries are **slow**."}, "notify": {"1"}})
		if res.Status != http.StatusSeeOther || res.Location != path {
			t.Fatalf("correct update: %d → %q\n%s", res.Status, res.Location, res.Body)
		}
		if evs := eventsAfter(t, s, before); len(evs) != 1 || evs[0] != models.EventIncidentUpdated {
			t.Fatalf("announced correction fired %v, want one incident.updated", evs)
		}
		if a := lastAudit(t, s); a.Action != "incident.edit_update" || a.ActorName != webtest.AdminEmail || !strings.Contains(a.After, "slow**") {
			t.Fatalf("audit row %+v", a)
		}
		public := anon.Get("/incidents/" + itoa(id))
		if !strings.Contains(public.Body, "Database slow") || !strings.Contains(public.Body, "<strong>slow</strong>") ||
			!strings.Contains(public.Body, `class="edited"`) || !strings.Contains(public.Body, "· edited") || !strings.Contains(public.Body, "Title edited") {
			t.Fatalf("public permalink does not show the corrections marked edited\n%s", public.Body)
		}
		if home := anon.Get("/"); !strings.Contains(home.Body, "· edited") || strings.Contains(home.Body, "Databse") {
			t.Fatalf("status page does not show the corrected update marked edited\n%s", home.Body)
		}

		// Bad input: the form comes back with the error and what was typed; nothing is written.
		other := openIncident(t, s, models.DefaultPageID, "Other", nil)
		otherInc, err := s.Store.Incident(t.Context(), other)
		modelstest.Fatal(t, err, "load other")
		rows := tableRows(t, s)
		long := strings.Repeat("t", 201)
		res = c.Submit(path+"/edit", path, url.Values{"title": {long}, "notify": {"1"}})
		if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "at most 200") || !strings.Contains(res.Body, long) ||
			!strings.Contains(res.Body, `aria-invalid="true"`) || !strings.Contains(res.Body, `name="notify" value="1" checked`) {
			t.Fatalf("long title: %d\n%s", res.Status, res.Body)
		}
		res = c.Submit(updatePath+"/edit", updatePath, url.Values{"message": {"bad\x00byte"}})
		if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "U+0000") {
			t.Fatalf("NUL message: %d\n%s", res.Status, res.Body)
		}
		res = c.Submit(updatePath+"/edit", updatePath, url.Values{"message": {strings.Repeat("m", 50_001)}})
		if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "at most 50000") {
			t.Fatalf("long message: %d", res.Status)
		}
		for _, p := range []string{"/admin/incidents/99999/edit", path + "/updates/99999/edit",
			path + "/updates/" + itoa(otherInc.Updates[0].ID) + "/edit", path + "/updates/x/edit"} {
			if got := c.Get(p); got.Status != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", p, got.Status)
			}
		}
		csrf := c.CSRF(path + "/edit")
		for _, p := range []string{"/admin/incidents/99999", path + "/updates/99999", path + "/updates/" + itoa(otherInc.Updates[0].ID)} {
			if got := c.Post(p, url.Values{"_csrf": {csrf}, "title": {"x"}, "message": {"x"}}); got.Status != http.StatusNotFound {
				t.Errorf("POST %s: %d, want 404", p, got.Status)
			}
		}
		if got := anon.Post(path, url.Values{"title": {"x"}}); got.Status == http.StatusSeeOther && got.Location == path {
			t.Error("a signed-out visitor corrected the title")
		}
		if after := tableRows(t, s); !maps.Equal(rows, after) {
			t.Fatalf("refused corrections wrote rows: %v → %v", rows, after)
		}
		if got, _ := s.Store.Incident(t.Context(), otherInc.ID); got.Updates[0].Message != otherInc.Updates[0].Message {
			t.Fatal("another incident's update was changed")
		}
	})
}
