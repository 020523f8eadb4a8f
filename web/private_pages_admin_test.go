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

// TestPrivatePageAccessInSettings: an admin makes the managed page
// private in Settings → Access, with a password never shown back; bad
// input is refused with 422 and a message on its field, keeping the
// page as it was; a viewer sees no Access section and cannot post it.
// On both engines.
func TestPrivatePageAccessInSettings(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		admin := s.SetUp(t)
		ctx := context.Background()
		res := admin.Get("/admin/settings")
		if res.Status != http.StatusOK || !strings.Contains(res.Body, `action="/admin/settings/access#access"`) || !strings.Contains(res.Body, `value="public" checked`) {
			t.Fatalf("settings: %d, no Access section showing a public page\n%.3000s", res.Status, res.Body)
		}
		for _, tc := range []struct {
			name  string
			form  url.Values
			field string
		}{
			{"no way in", url.Values{"visibility": {"private"}}, "needs a way in"},
			{"unknown visibility", url.Values{"visibility": {"secret"}, "team": {"1"}}, "Choose whether"},
			{"short password", url.Values{"visibility": {"private"}, "password": {"short"}}, "at least 8"},
			{"NUL in the password", url.Values{"visibility": {"private"}, "password": {"pass\x00word!"}}, "U+0000"},
			{"bad CIDR", url.Values{"visibility": {"private"}, "team": {"1"}, "ip_allowlist": {"10.0.0.0/8\n300.1.1.1"}}, "not an IP address"},
			{"XSS in the allowlist", url.Values{"visibility": {"private"}, "team": {"1"}, "ip_allowlist": {`<img src=x onerror=alert(1)>`}}, "not an IP"},
			{"invalid UTF-8", url.Values{"visibility": {"private"}, "team": {"1"}, "ip_allowlist": {"\xff\xfe"}}, "UTF-8"},
			{"oversized", url.Values{"visibility": {"private"}, "team": {"1"}, "ip_allowlist": {strings.NewReplacer(`"`, "", ",", "\n").Replace(manyCIDRs(101))}}, "at most 100"},
		} {
			res := admin.Submit("/admin/settings", "/admin/settings/access", tc.form)
			if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, tc.field) {
				t.Errorf("%s: status %d, want 422 with %q\n%.500s", tc.name, res.Status, tc.field, res.Body)
			}
			if strings.Contains(res.Body, "<img src=x") || strings.Contains(res.Body, "pass\x00word") {
				t.Errorf("%s: the answer echoes the input unescaped", tc.name)
			}
		}
		if a, _ := s.Store.PageAccess(ctx, models.DefaultPageID); !a.Public || a.HasPassword() {
			t.Fatalf("refused forms changed the page: %+v", a)
		}
		res = admin.Submit("/admin/settings", "/admin/settings/access", url.Values{"visibility": {"private"}, "password": {"settings door password"},
			"team": {"1"}, "ip_allowlist": {"203.0.113.0/24\r\n2001:db8::/32\r\n"}})
		if res.Status != http.StatusSeeOther || res.Location != "/admin/settings#access" {
			t.Fatalf("save access: %d %q\n%.500s", res.Status, res.Location, res.Body)
		}
		a, err := s.Store.PageAccess(ctx, models.DefaultPageID)
		modelstest.Fatal(t, err, "access")
		if a.Public || !a.CheckPassword("settings door password") || !a.Team || len(a.IPAllowlist) != 2 {
			t.Fatalf("saved access = %+v", a)
		}
		res = admin.Get("/admin/settings")
		if !strings.Contains(res.Body, "A shared password is set") || strings.Contains(res.Body, "settings door password") ||
			!strings.Contains(res.Body, "203.0.113.0/24\n2001:db8::/32") || !strings.Contains(res.Body, `value="private" checked`) {
			t.Errorf("settings after saving:\n%.5000s", res.Body)
		}
		// The page is private at once; the admin's own session opens it.
		waitStatus(t, visitor{}, s.URL, "/", http.StatusUnauthorized, "the page made private in Settings")
		if r := admin.Get("/"); r.Status != http.StatusOK {
			t.Errorf("the admin on the private page: %d", r.Status)
		}
		// Leaving the password empty keeps it; removing it signs out.
		res = admin.Submit("/admin/settings", "/admin/settings/access", url.Values{"visibility": {"private"}, "team": {"1"}})
		if a2, _ := s.Store.PageAccess(ctx, models.DefaultPageID); res.Status != http.StatusSeeOther || a2.PasswordHash != a.PasswordHash || len(a2.IPAllowlist) != 0 {
			t.Errorf("save without a password: %d, %+v", res.Status, a2)
		}
		res = admin.Submit("/admin/settings", "/admin/settings/access", url.Values{"visibility": {"private"}, "team": {"1"}, "remove_password": {"1"}})
		if a2, _ := s.Store.PageAccess(ctx, models.DefaultPageID); res.Status != http.StatusSeeOther || a2.HasPassword() {
			t.Errorf("remove the password: %d, %+v", res.Status, a2)
		}
		entries, err := s.Store.AuditEntries(ctx, models.AuditFilter{Action: "page.access"})
		modelstest.Fatal(t, err, "audit")
		if len(entries) != 3 || entries[2].ActorName != webtest.AdminEmail {
			t.Errorf("%d page.access entries, want 3 by the admin", len(entries))
		}

		_, viewer := s.AddUser(t, "viewer@example.com", models.RoleViewer)
		if r := viewer.Get("/admin/settings"); r.Status != http.StatusOK || strings.Contains(r.Body, "/admin/settings/access") {
			t.Errorf("a viewer's settings: %d, shows the Access form", r.Status)
		}
		if r := viewer.Submit("/admin/settings", "/admin/settings/access", url.Values{"visibility": {"public"}}); r.Status != http.StatusForbidden {
			t.Errorf("a viewer posts the Access form: %d, want 403", r.Status)
		}
	})
}

// TestAPIPageAccess: GET and PATCH /api/v1/pages/{id} show and change a
// page's domain and access, the password write-only; wrong types,
// unknown fields, NUL, invalid UTF-8, oversized lists and XSS are
// refused with 4xx naming the field, changing nothing; only admins'
// tokens may. On both engines.
func TestAPIPageAccess(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		ctx := context.Background()
		s.SetUp(t)
		admin, err := s.Store.UserByEmail(ctx, webtest.AdminEmail)
		modelstest.Fatal(t, err, "admin")
		_, tok, err := s.Store.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: "pages", AllPages: true, Scopes: []models.Scope{models.ScopePageWrite, models.ScopeRead}}, admin.ID)
		modelstest.Fatal(t, err, "token")
		op, _ := s.AddUser(t, "op@example.com", models.RoleOperator)
		_, opTok, err := s.Store.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: "op", Scopes: []models.Scope{models.ScopeRead}}, op.ID)
		modelstest.Fatal(t, err, "operator token")
		page := modelstest.InsertPage(t, s.Store, "staff", "Staff")
		path := fmt.Sprintf("/api/v1/pages/%d", page.ID)

		res := apiCall(t, s, tok, http.MethodGet, path, "")
		if res.Status != http.StatusOK || !strings.Contains(res.Body, `"access":{"visibility":"public","has_password":false,"team":false,"email_domains":[],"ip_allowlist":[]}`) ||
			!strings.Contains(res.Body, `"domain":""`) {
			t.Fatalf("GET %s: %d %s", path, res.Status, res.Body)
		}
		if r := apiCall(t, s, opTok, http.MethodGet, path, ""); r.Status != http.StatusForbidden {
			t.Errorf("an operator's token reads a page's access: %d", r.Status)
		}
		for _, tc := range []struct{ name, body, field string }{
			{"visibility not a string", `{"access":{"visibility":true}}`, "visibility"},
			{"unknown visibility", `{"access":{"visibility":"hidden","team":true}}`, "access.visibility"},
			{"no way in", `{"access":{"visibility":"private"}}`, "access.visibility"},
			{"team not a boolean", `{"access":{"team":"yes"}}`, "team"},
			{"password null", `{"access":{"password":null}}`, "password"},
			{"short password", `{"access":{"visibility":"private","password":"short"}}`, "access.password"},
			{"NUL password", `{"access":{"visibility":"private","password":"long enough\u0000"}}`, "access.password"},
			{"allowlist not a list", `{"access":{"team":true,"visibility":"private","ip_allowlist":"10.0.0.0/8"}}`, "ip_allowlist"},
			{"bad CIDR", `{"access":{"team":true,"visibility":"private","ip_allowlist":["10.0.0.0/40"]}}`, "access.ip_allowlist"},
			{"XSS domain", `{"access":{"team":true,"visibility":"private","email_domains":["<script>x</script>.com"]}}`, "access.email_domains"},
			{"invalid UTF-8 domain", "{\"access\":{\"team\":true,\"visibility\":\"private\",\"email_domains\":[\"a\xff.com\"]}}", ""},
			{"too many ranges", `{"access":{"team":true,"visibility":"private","ip_allowlist":[` + strings.TrimSuffix(strings.Repeat(`"10.0.0.1",`+`"10.0.0.2",`, 0)+manyCIDRs(101), ",") + `]}}`, "access.ip_allowlist"},
			{"unknown access field", `{"access":{"secret":"x"}}`, "secret"},
			{"bad domain", `{"domain":"https://x.example/"}`, "domain"},
		} {
			res := apiCall(t, s, tok, http.MethodPatch, path, tc.body)
			if res.Status != http.StatusUnprocessableEntity && res.Status != http.StatusBadRequest ||
				tc.field != "" && !strings.Contains(res.Err.Field, tc.field) && res.Err.Fields[tc.field] == "" {
				t.Errorf("%s: %d %s, want 4xx on %s", tc.name, res.Status, res.Body, tc.field)
			}
			if strings.Contains(res.Body, "<script>") {
				t.Errorf("%s: the answer echoes the script: %s", tc.name, res.Body)
			}
		}
		if a, _ := s.Store.PageAccess(ctx, page.ID); !a.Public || a.Generation != 1 {
			t.Fatalf("refused requests changed the page: %+v", a)
		}
		res = apiCall(t, s, tok, http.MethodPatch, path, `{"page":{"name":"Staff only","domain":"staff.example.com","access":{"visibility":"private","password":"api door password","team":true,"email_domains":["Example.com"],"ip_allowlist":["198.51.100.0/24"]}}}`)
		var got struct {
			Name   string
			Domain string
			Access map[string]any
		}
		if res.Status != http.StatusOK || json.Unmarshal([]byte(res.Body), &got) != nil || got.Name != "Staff only" || got.Domain != "staff.example.com" ||
			got.Access["visibility"] != "private" || got.Access["has_password"] != true || strings.Contains(res.Body, "api door password") ||
			fmt.Sprint(got.Access["email_domains"]) != "[example.com]" || fmt.Sprint(got.Access["ip_allowlist"]) != "[198.51.100.0/24]" {
			t.Fatalf("PATCH: %d %s", res.Status, res.Body)
		}
		// Moved to its host; being private, /s/staff/ no longer names
		// the host to a visitor without access (TestSlugAddressesOnCustomHosts).
		waitStatus(t, visitor{}, s.URL, "/s/staff/", http.StatusNotFound, "the private page moved to its host")
		if st, _, _ := (visitor{}).do(t, http.MethodGet, s.URL, "staff.example.com", "/", nil); st != http.StatusUnauthorized {
			t.Errorf("the private page on its host: %d, want 401", st)
		}
		if st, ck, _ := pagePassword(t, s.URL, "staff.example.com", "", "api door password"); st != http.StatusSeeOther || ck == "" {
			t.Errorf("the API's password on the page: %d", st)
		}
		// Fields left out keep their value; password "" removes it.
		res = apiCall(t, s, tok, http.MethodPatch, path, `{"access":{"password":""}}`)
		if res.Status != http.StatusOK || !strings.Contains(res.Body, `"has_password":false`) || !strings.Contains(res.Body, `"team":true`) || !strings.Contains(res.Body, `"visibility":"private"`) {
			t.Errorf("remove the password: %d %s", res.Status, res.Body)
		}
		res = apiCall(t, s, tok, http.MethodPatch, path, `{"access":{"visibility":"public"}}`)
		if res.Status != http.StatusOK || !strings.Contains(res.Body, `"visibility":"public"`) {
			t.Errorf("make public: %d %s", res.Status, res.Body)
		}
		if r := apiCall(t, s, opTok, http.MethodPatch, path, `{"access":{"visibility":"private","team":true}}`); r.Status != http.StatusForbidden {
			t.Errorf("an operator's token changes a page's access: %d", r.Status)
		}
	})
}

func manyCIDRs(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `"10.%d.%d.0/24",`, i/250, i%250)
	}
	return b.String()
}
