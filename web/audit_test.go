package web_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web"
	"github.com/heraldstatus/herald/web/webtest"
	"github.com/labstack/echo/v4"
)

// auditRows lists the audit log, oldest first.
func auditRows(t *testing.T, s *webtest.Server) []models.AuditEntry {
	t.Helper()
	list, err := s.Store.AuditEntries(t.Context(), models.AuditFilter{})
	modelstest.Fatal(t, err, "audit entries")
	out := make([]models.AuditEntry, 0, len(list))
	for i := len(list) - 1; i >= 0; i-- {
		out = append(out, list[i])
	}
	return out
}

func auditRowID(e models.AuditEntry) string { return fmt.Sprintf(`id="audit-%d"`, e.ID) }

var auditRowRE = regexp.MustCompile(`id="audit-[0-9]+"`)

// Changes made in the admin are audited as the signed-in admin, from the
// browser's address, and the screen lists them.
func TestAdminChangesAreAudited(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		res := c.Submit("/admin/components/new", "/admin/components", url.Values{"name": {"API"}, "status": {"operational"}, "visible": {"1"}})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("create component: %d", res.Status)
		}
		comps, err := s.Store.Components(t.Context(), models.DefaultPageID)
		modelstest.Fatal(t, err, "components")
		api := comps[0].ID
		if res := c.Submit("/admin/components", fmt.Sprintf("/admin/components/%d/status", api), url.Values{"status": {"major_outage"}}); res.Status != http.StatusSeeOther {
			t.Fatalf("quick status: %d", res.Status)
		}
		inc := idFromLocation(t, c.Submit("/admin/incidents/new", "/admin/incidents", url.Values{"title": {"API errors"},
			"status": {"investigating"}, "message": {"Looking"}, "component_" + itoa(api): {"major_outage"}}), "/admin/incidents/")
		path := fmt.Sprintf("/admin/incidents/%d", inc)
		if res := c.Submit(path, path+"/resolve", nil); res.Status != http.StatusSeeOther {
			t.Fatalf("resolve: %d", res.Status)
		}
		hookURL := "https://hooker:pa55word@example.com/hook?token=abc123secret"
		ch := createChannel(t, c, url.Values{"type": {"webhook"}, "name": {"Ops hook"}, "url": {hookURL}, "enabled": {"1"},
			"headers": {"Authorization: Bearer header-secret"}})
		created, err := s.Store.Channel(t.Context(), ch)
		modelstest.Fatal(t, err, "load channel")
		if res := c.Submit(channelURL(ch)+"/rotate", channelURL(ch)+"/rotate", nil); res.Status != http.StatusSeeOther {
			t.Fatalf("rotate: %d", res.Status)
		}
		rotated, err := s.Store.Channel(t.Context(), ch)
		modelstest.Fatal(t, err, "load channel")

		rows := auditRows(t, s)
		want := []struct{ action, object string }{
			{"user.create", "user 1"}, {"page.update", "page 1"},
			{"component.create", "component " + itoa(api)}, {"component.status", "component " + itoa(api)},
			{"incident.create", "incident " + itoa(inc)}, {"incident.resolve", "incident " + itoa(inc)},
			{"channel.create", "channel " + itoa(ch)}, {"channel.rotate_secret", "channel " + itoa(ch)},
		}
		if len(rows) != len(want) {
			var got []string
			for _, r := range rows {
				got = append(got, r.Action)
			}
			t.Fatalf("audit rows = %v, want %d", got, len(want))
		}
		for i, w := range want {
			r := rows[i]
			if r.Action != w.action || r.ObjectType+" "+r.ObjectID != w.object {
				t.Errorf("row %d = %s on %s %s, want %s on %s", i, r.Action, r.ObjectType, r.ObjectID, w.action, w.object)
			}
			if r.ActorType != models.ActorUser || r.ActorName != webtest.AdminEmail || r.IP != "127.0.0.1" || r.ActorID == nil {
				t.Errorf("%s by %s %q #%v from %q, want the user %s from 127.0.0.1", r.Action, r.ActorType, r.ActorName, r.ActorID, r.IP, webtest.AdminEmail)
			}
			for _, secret := range []string{"pa55word", "abc123secret", "header-secret", created.Secret, rotated.Secret} {
				if strings.Contains(r.Before+r.After+r.Summary, secret) {
					t.Errorf("%s row holds the secret %q", r.Action, secret)
				}
			}
		}

		page := c.Get("/admin/audit")
		if page.Status != http.StatusOK {
			t.Fatalf("/admin/audit: %d", page.Status)
		}
		wantBody(t, page, `href="/admin/audit" aria-current="page">Audit log`, "8 entries", webtest.AdminEmail, "127.0.0.1",
			"Created component “API” (Operational).", "Resolved incident “API errors”.",
			fmt.Sprintf(`href="/admin/components/%d/edit"`, api), fmt.Sprintf(`href="/admin/incidents/%d"`, inc), fmt.Sprintf(`href="/admin/channels/%d"`, ch))
		wantInOrder(t, page.Body, auditRowID(rows[7]), auditRowID(rows[0]))
		if n := strings.Count(page.Body, `method="post"`); n != 1 {
			t.Errorf("the audit log has %d forms that post, want only sign-out", n)
		}

		detail := c.Get(fmt.Sprintf("/admin/audit/%d", rows[6].ID))
		if detail.Status != http.StatusOK {
			t.Fatalf("entry page: %d", detail.Status)
		}
		wantBody(t, detail, "channel.create", "Nothing recorded.", `class="body-box audit-after"`, "https://••••@example.com/hook?token=••••",
			"&#34;Authorization: ••••&#34;", "Every change to channel "+itoa(ch))
		wantNotBody(t, detail, "abc123secret", "header-secret", created.Secret)
		if n := strings.Count(detail.Body, `method="post"`); n != 1 {
			t.Errorf("the entry page has %d forms that post, want only sign-out", n)
		}

		today := time.Now().UTC()
		filters := []struct {
			query string
			want  []models.AuditEntry
			notes []string
		}{
			{"type=channel", []models.AuditEntry{rows[7], rows[6]}, nil},
			{"type=component&object=" + itoa(api), []models.AuditEntry{rows[3], rows[2]}, nil},
			{"action=component.status", []models.AuditEntry{rows[3]}, nil},
			{"type=incident&action=incident.resolve", []models.AuditEntry{rows[5]}, nil},
			{"actor=OPS%40EXAMPLE", rows, nil},
			{"actor=nobody", nil, nil},
			{"from=" + today.AddDate(0, 0, -1).Format(time.DateOnly) + "&to=" + today.AddDate(0, 0, 1).Format(time.DateOnly), rows, nil},
			{"from=" + today.AddDate(0, 0, 2).Format(time.DateOnly), nil, nil},
			{"type=bogus&action=channel.create", []models.AuditEntry{rows[6]}, []string{"Unknown object type “bogus” ignored."}},
			{"action=%3Cscript%3E", rows, []string{"Unknown action “&lt;script&gt;” ignored."}},
		}
		for _, f := range filters {
			res := c.Get("/admin/audit?" + f.query)
			if res.Status != http.StatusOK {
				t.Errorf("?%s: status %d", f.query, res.Status)
				continue
			}
			got := len(auditRowRE.FindAllString(res.Body, -1))
			if got != len(f.want) {
				t.Errorf("?%s: %d rows, want %d", f.query, got, len(f.want))
			}
			for _, w := range f.want {
				if !strings.Contains(res.Body, auditRowID(w)) {
					t.Errorf("?%s lacks %s", f.query, w.Action)
				}
			}
			if len(f.want) == 0 && !strings.Contains(res.Body, "No changes match these filters.") {
				t.Errorf("?%s: no empty-state message", f.query)
			}
			wantBody(t, res, f.notes...)
		}
	})
}

// Whatever arrives in the query string, the audit log answers without a
// server error, and nothing can change or remove an entry.
func TestAuditLogRefusesBadInputAndChanges(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		for _, q := range []string{
			"type=%00", "type=" + strings.Repeat("x", 5000), "action=component.", "action=%27%3B+DROP+TABLE+audit_log%3B--",
			"actor=" + strings.Repeat("a", 5000), "actor=%FF%FE%FD", "actor=a%00b", "actor=%25", "actor=_", "actor=%5C",
			"from=2026-13-45", "to=not-a-date", "from=99999-01-01", "from=0001-01-01", "from=2026-02-01&to=2026-01-01",
			"page=-1", "page=abc", "page=99999999999999999999", "page=100000",
			"object=abc&type=component", "object=1", "object=99999999999999999999&type=component", "object=-3&type=channel",
			"type=channel&type=component", "from=2026-01-01T00:00:00Z",
		} {
			res := c.Get("/admin/audit?" + q)
			if res.Status != http.StatusOK {
				t.Errorf("?%s: status %d, want 200", clipQuery(q), res.Status)
			}
		}
		for _, p := range []string{"/admin/audit/abc", "/admin/audit/0", "/admin/audit/-1", "/admin/audit/999999", "/admin/audit/99999999999999999999"} {
			if res := c.Get(p); res.Status != http.StatusNotFound {
				t.Errorf("GET %s: status %d, want 404", p, res.Status)
			}
		}

		rows := auditRows(t, s)
		first := fmt.Sprintf("/admin/audit/%d", rows[0].ID)
		for _, p := range []string{"/admin/audit", first, first + "/delete", first + "/edit", "/admin/audit/delete", "/admin/audit/clear"} {
			res := c.Submit("/admin/audit", p, url.Values{"summary": {"nothing happened"}})
			if res.Status != http.StatusNotFound && res.Status != http.StatusMethodNotAllowed {
				t.Errorf("POST %s: status %d, want 404 or 405", p, res.Status)
			}
		}
		// PUT and PATCH carry the form token in their body; DELETE cannot,
		// so the CSRF check may refuse it before routing does.
		token := c.CSRF("/admin/audit")
		for _, method := range []string{http.MethodPut, http.MethodPatch, http.MethodDelete} {
			for _, p := range []string{"/admin/audit", first, first + "/delete"} {
				req, err := http.NewRequestWithContext(t.Context(), method, s.URL+p,
					strings.NewReader(url.Values{"_csrf": {token}, "summary": {"x"}}.Encode()))
				modelstest.Fatal(t, err, "request")
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Cookie", c.CookieHeader())
				res, err := http.DefaultClient.Do(req)
				modelstest.Fatal(t, err, "%s %s", method, p)
				res.Body.Close()
				refused := res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusMethodNotAllowed ||
					(method == http.MethodDelete && res.StatusCode == http.StatusForbidden)
				if !refused {
					t.Errorf("%s %s: status %d, want 404 or 405", method, p, res.StatusCode)
				}
			}
		}
		after := auditRows(t, s)
		if len(after) != len(rows) || after[0].Summary != rows[0].Summary {
			t.Fatalf("audit rows changed: %d → %d", len(rows), len(after))
		}

		// Signed out, the log is not there to read.
		if res := s.NewClient(t).Get("/admin/audit"); res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Location, "/login") {
			t.Fatalf("signed out: %d → %q, want a redirect to sign in", res.Status, res.Location)
		}
	})
}

// The audit log has read routes only.
func TestAuditLogHasNoWriteRoutes(t *testing.T) {
	cfg, _, err := web.LoadConfig("test", nil, func(string) string { return "" })
	modelstest.Fatal(t, err, "config")
	cfg.SecretKey = strings.Repeat("k", 32)
	cfg.DataDir = t.TempDir()
	srv, err := web.New(web.Deps{Config: cfg, Store: modelstest.Open(t, models.SQLite), Logger: slog.New(slog.DiscardHandler)})
	modelstest.Fatal(t, err, "build server")
	var reads int
	for _, r := range srv.Routes() {
		if !strings.HasPrefix(r.Path, "/admin/audit") {
			continue
		}
		switch r.Method {
		case http.MethodGet:
			reads++
		case echo.RouteNotFound, http.MethodHead: // HEAD answers as GET
		default:
			t.Errorf("%s %s changes the audit log; it must be append-only", r.Method, r.Path)
		}
	}
	if reads != 2 {
		t.Errorf("%d audit log pages, want the list and the entry", reads)
	}
}

func clipQuery(q string) string {
	if len(q) > 60 {
		return q[:60] + "…"
	}
	return q
}
