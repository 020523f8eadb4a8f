package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// TestAPIUsers: an admin's token lists the team, invites (the link comes
// back once and works), changes roles and removes users; the last admin
// stays (409 last_admin); bad input is a 422 naming the field; an
// operator's token and a token without users:write are refused.
func TestAPIUsers(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		ctx := context.Background()
		s.SetUp(t)
		me, err := s.Store.UserByEmail(ctx, webtest.AdminEmail)
		modelstest.Fatal(t, err, "admin")
		_, admin, err := s.Store.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: "team", Scopes: models.ScopesFor(models.RoleAdmin), AllPages: true}, me.ID)
		modelstest.Fatal(t, err, "token")
		_, readOnly, err := s.Store.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: "read", Scopes: []models.Scope{models.ScopeRead}, AllPages: true}, me.ID)
		modelstest.Fatal(t, err, "read token")
		op, _ := s.AddUser(t, "op@example.com", models.RoleOperator)
		_, opToken, err := s.Store.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: "op", Scopes: models.ScopesFor(models.RoleOperator), AllPages: true}, op.ID)
		modelstest.Fatal(t, err, "operator token")

		res := apiCall(t, s, readOnly, http.MethodGet, "/api/v1/users", "")
		var users []map[string]any
		if res.Status != http.StatusOK || json.Unmarshal([]byte(res.Body), &users) != nil || len(users) != 2 ||
			users[0]["email"] != "op@example.com" || users[0]["role"] != "operator" || users[1]["two_factor"] != false {
			t.Fatalf("list: %d %s", res.Status, res.Body)
		}
		if strings.Contains(res.Body, "password") || strings.Contains(res.Body, "totp") {
			t.Fatalf("the list shows secrets: %s", res.Body)
		}
		wantAPIError(t, apiCall(t, s, opToken, http.MethodGet, "/api/v1/users", ""), http.StatusForbidden, "forbidden", "")
		wantAPIError(t, apiCall(t, s, readOnly, http.MethodPost, "/api/v1/users", `{"email":"x@example.com","role":"viewer"}`), http.StatusForbidden, "forbidden", "")

		before := snapshotTables(t, s)
		for _, tc := range []struct{ name, body, field string }{
			{"existing user in another case", `{"email":"OP@example.com","role":"viewer"}`, "email"},
			{"unknown role", `{"email":"new@example.com","role":"owner"}`, "role"},
			{"NUL", `{"email":"a\u0000b@example.com","role":"viewer"}`, "email"},
			{"XSS", `{"email":"<img src=x onerror=alert(1)>","role":"viewer"}`, "email"},
			{"no e-mail", `{"role":"viewer"}`, "email"},
		} {
			res := apiCall(t, s, admin, http.MethodPost, "/api/v1/users", tc.body)
			if res.Status != http.StatusUnprocessableEntity || res.Err.Field != tc.field {
				t.Errorf("%s: %d field %q, want 422 on %s\n%s", tc.name, res.Status, res.Err.Field, tc.field, res.Body)
			}
		}
		wantAPIError(t, apiCall(t, s, admin, http.MethodPost, "/api/v1/users", `{"email":"x@example.com","password":"p"}`), http.StatusBadRequest, "unknown_field", "password")
		if after := snapshotTables(t, s); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("refused invitations wrote:\n%v\n%v", before, after)
		}

		res = apiCall(t, s, admin, http.MethodPost, "/api/v1/users", `{"email":"Kim@Example.com","role":"viewer"}`)
		var inv struct{ ID, Email, Role, URL, ExpiresAt string }
		if res.Status != http.StatusCreated || json.Unmarshal([]byte(res.Body), &inv) != nil || inv.Email != "kim@example.com" ||
			inv.Role != "viewer" || !strings.Contains(inv.URL, "/invite/") {
			t.Fatalf("invite: %d %s", res.Status, res.Body)
		}
		link, err := url.Parse(inv.URL)
		modelstest.Fatal(t, err, "link")
		guest := s.NewClient(t)
		if res := guest.Submit(link.Path, link.Path, url.Values{"password": {"kim's very own password"}}); res.Status != http.StatusSeeOther {
			t.Fatalf("accept the API's link: %d\n%s", res.Status, res.Body)
		}
		kim, err := s.Store.UserByEmail(ctx, "kim@example.com")
		modelstest.Fatal(t, err, "kim")

		path := fmt.Sprintf("/api/v1/users/%d", kim.ID)
		res = apiCall(t, s, admin, http.MethodPatch, path, `{"role":"admin"}`)
		if res.Status != http.StatusOK || !strings.Contains(res.Body, `"role":"admin"`) {
			t.Fatalf("promote: %d %s", res.Status, res.Body)
		}
		wantAPIError(t, apiCall(t, s, admin, http.MethodPatch, path, `{"role":"god"}`), http.StatusUnprocessableEntity, "validation_failed", "role")
		wantAPIError(t, apiCall(t, s, admin, http.MethodPatch, path, `{}`), http.StatusUnprocessableEntity, "validation_failed", "role")
		wantAPIError(t, apiCall(t, s, admin, http.MethodPatch, "/api/v1/users/999999", `{"role":"viewer"}`), http.StatusNotFound, "not_found", "")
		wantAPIError(t, apiCall(t, s, opToken, http.MethodDelete, path, ""), http.StatusForbidden, "forbidden", "")

		// Two admins: either may go, but not both.
		if res := apiCall(t, s, admin, http.MethodDelete, path, ""); res.Status != http.StatusNoContent {
			t.Fatalf("remove kim: %d %s", res.Status, res.Body)
		}
		mePath := fmt.Sprintf("/api/v1/users/%d", me.ID)
		wantAPIError(t, apiCall(t, s, admin, http.MethodPatch, mePath, `{"role":"operator"}`), http.StatusConflict, "last_admin", "role")
		wantAPIError(t, apiCall(t, s, admin, http.MethodDelete, mePath, ""), http.StatusConflict, "last_admin", "")
		wantAPIError(t, apiCall(t, s, admin, http.MethodDelete, path, ""), http.StatusNotFound, "not_found", "")
		if _, err := s.Store.User(ctx, me.ID); err != nil {
			t.Fatalf("the last admin went: %v", err)
		}
	})
}
