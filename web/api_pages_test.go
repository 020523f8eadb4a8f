package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestAPIPages lists, creates, renames and deletes status pages through
// the API: bad slugs and names are 422 naming the field; an operator's
// token is refused; deleting is 409 for the first page, for a page with
// something on it without everything=true, and while a notification of
// the page is queued (the message says so), and then works.
func TestAPIPages(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		ctx := context.Background()
		s.SetUp(t)
		admin, err := s.Store.UserByEmail(ctx, webtest.AdminEmail)
		modelstest.Fatal(t, err, "admin")
		_, tok, err := s.Store.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: "pages", Scopes: []models.Scope{models.ScopePageWrite}, AllPages: true}, admin.ID)
		modelstest.Fatal(t, err, "token")
		op, _ := s.AddUser(t, "op@example.com", models.RoleOperator)
		_, opTok, err := s.Store.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: "op", Scopes: []models.Scope{models.ScopeRead}, AllPages: true}, op.ID)
		modelstest.Fatal(t, err, "operator token")

		res := apiCall(t, s, opTok, http.MethodGet, "/api/v1/pages", "")
		var list []map[string]string
		if res.Status != http.StatusOK || json.Unmarshal([]byte(res.Body), &list) != nil || len(list) != 1 || list[0]["slug"] != "main" || !strings.HasSuffix(list[0]["url"], "/") {
			t.Fatalf("list: %d %s", res.Status, res.Body)
		}
		if res := apiCall(t, s, opTok, http.MethodPost, "/api/v1/pages", `{"name":"X","slug":"x"}`); res.Status != http.StatusForbidden {
			t.Errorf("operator creates a page: %d", res.Status)
		}
		for _, tc := range []struct{ name, body, field string }{
			{"reserved", `{"name":"X","slug":"api"}`, "slug"},
			{"reserved s", `{"name":"X","slug":"s"}`, "slug"},
			{"duplicate", `{"name":"X","slug":"main"}`, "slug"},
			{"non-ASCII", `{"name":"X","slug":"café"}`, "slug"},
			{"200 characters", `{"name":"X","slug":"` + strings.Repeat("a", 200) + `"}`, "slug"},
			{"NUL", `{"name":"X","slug":"a\u0000b"}`, "slug"},
			{"CR/LF", `{"name":"X","slug":"a\r\nb"}`, "slug"},
			{"upper case", `{"name":"X","slug":"Internal"}`, "slug"},
			{"no slug", `{"name":"X"}`, "slug"},
			{"no name", `{"slug":"fine"}`, "name"},
			{"name with a line break", `{"name":"a\nb","slug":"fine"}`, "name"},
		} {
			res := apiCall(t, s, tok, http.MethodPost, "/api/v1/pages", tc.body)
			if res.Status != http.StatusUnprocessableEntity || res.Err.Field != tc.field && res.Err.Fields[tc.field] == "" {
				t.Errorf("%s: %d %s, want 422 on %s", tc.name, res.Status, res.Body, tc.field)
			}
		}
		if res := apiCall(t, s, tok, http.MethodPost, "/api/v1/pages", `{"name":"X","slug":"x","domain":"a"}`); res.Status != http.StatusBadRequest {
			t.Errorf("unknown field: %d", res.Status)
		}
		res = apiCall(t, s, tok, http.MethodPost, "/api/v1/pages", `{"page":{"name":"Internal","slug":"internal"}}`)
		var created map[string]string
		if res.Status != http.StatusCreated || json.Unmarshal([]byte(res.Body), &created) != nil || created["slug"] != "internal" || !strings.HasSuffix(created["url"], "/s/internal/") {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		id := created["id"]
		if r := s.NewClient(t).Get("/s/internal/"); r.Status != http.StatusOK || !strings.Contains(r.Body, "Internal") {
			t.Errorf("GET /s/internal/ right after creating it: %d", r.Status)
		}
		res = apiCall(t, s, tok, http.MethodPatch, "/api/v1/pages/"+id, `{"slug":"staff"}`)
		if res.Status != http.StatusOK || !strings.Contains(res.Body, `"slug":"staff"`) || !strings.Contains(res.Body, `"name":"Internal"`) {
			t.Fatalf("rename: %d %s", res.Status, res.Body)
		}
		// The public side follows at once: the page is served at its new
		// address and no longer at the old one.
		visitor := s.NewClient(t)
		if r := visitor.Get("/s/staff/"); r.Status != http.StatusOK || !strings.Contains(r.Body, "Internal") ||
			!strings.Contains(r.Body, `href="/s/staff/history"`) || strings.Contains(r.Body, "/s/internal/") {
			t.Errorf("GET /s/staff/ after the rename: %d, links not on the new address\n%.3000s", r.Status, r.Body)
		}
		if r := visitor.Get("/s/internal/"); r.Status != http.StatusNotFound {
			t.Errorf("GET /s/internal/ after the rename: %d, want 404", r.Status)
		}
		if res := apiCall(t, s, tok, http.MethodPatch, "/api/v1/pages/"+id, `{"slug":"admin"}`); res.Status != http.StatusUnprocessableEntity {
			t.Errorf("rename to a reserved slug: %d", res.Status)
		}
		if res := apiCall(t, s, tok, http.MethodPatch, "/api/v1/pages/999", `{"name":"X"}`); res.Status != http.StatusNotFound {
			t.Errorf("rename a missing page: %d", res.Status)
		}
		// Deleting.
		if res := apiCall(t, s, tok, http.MethodDelete, "/api/v1/pages/1?everything=true", ""); res.Status != http.StatusConflict || !strings.Contains(res.Err.Message, "first status page") {
			t.Errorf("delete the first page: %d %s", res.Status, res.Body)
		}
		pageID := int64(0)
		pages, err := s.Store.Pages(ctx)
		modelstest.Fatal(t, err, "pages")
		pageID = pages[1].ID
		ch, err := s.Store.CreateChannel(ctx, pageID, models.ChannelInput{Type: models.ChannelWebhook, Name: "Hook", URL: "https://hooks.example.com/x", Enabled: true})
		modelstest.Fatal(t, err, "channel")
		if res := apiCall(t, s, tok, http.MethodDelete, "/api/v1/pages/"+id, ""); res.Status != http.StatusConflict || !strings.Contains(res.Err.Message, "1 channel") {
			t.Errorf("delete a page with a channel: %d %s", res.Status, res.Body)
		}
		if res := apiCall(t, s, tok, http.MethodDelete, "/api/v1/pages/"+id+"?everything=maybe", ""); res.Status != http.StatusUnprocessableEntity {
			t.Errorf("everything=maybe: %d", res.Status)
		}
		d, err := s.Store.CreateTestDelivery(ctx, ch, models.EventIncidentCreated, "{}", time.Hour)
		modelstest.Fatal(t, err, "queued delivery")
		res = apiCall(t, s, tok, http.MethodDelete, "/api/v1/pages/"+id+"?everything=true", "")
		if res.Status != http.StatusConflict || !strings.Contains(res.Err.Message, "1 notification(s) queued") {
			t.Fatalf("delete with a queued notification: %d %s", res.Status, res.Body)
		}
		if _, err := s.Store.Delivery(ctx, d.ID); err != nil {
			t.Fatalf("the queued delivery is gone: %v", err)
		}
		modelstest.Fatal(t, s.Store.RecordAttempt(ctx, d, models.AttemptResult{
			Attempt: models.DeliveryAttempt{Number: 1, StartedAt: time.Now(), RequestURL: "masked", RequestHeaders: "{}", RequestBody: "{}", ResponseStatus: 200},
			State:   models.DeliveryDelivered}), "deliver")
		if res := apiCall(t, s, tok, http.MethodDelete, "/api/v1/pages/"+id+"?everything=true", ""); res.Status != http.StatusNoContent {
			t.Fatalf("delete everything: %d %s", res.Status, res.Body)
		}
		if res := apiCall(t, s, tok, http.MethodDelete, "/api/v1/pages/"+id, ""); res.Status != http.StatusNotFound {
			t.Errorf("delete again: %d", res.Status)
		}
		entries, err := s.Store.AuditEntries(ctx, models.AuditFilter{PageID: models.DefaultPageID})
		modelstest.Fatal(t, err, "audit")
		seen := map[string]string{}
		for _, e := range entries { // newest first
			if _, ok := seen[e.Action]; !ok {
				seen[e.Action] = e.ActorName
			}
		}
		for _, a := range []string{"page.create", "page.update", "page.delete"} {
			if seen[a] != "pages" {
				t.Errorf("%s audited by %q, want the token", a, seen[a])
			}
		}
	})
}
