package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// countSQL runs a COUNT query.
func countSQL(t *testing.T, s *webtest.Server, query string, args ...any) int {
	t.Helper()
	db, err := s.Store.SQLDB()
	modelstest.Fatal(t, err, "sql db")
	var n int
	modelstest.Fatal(t, db.QueryRowContext(t.Context(), placeholders(s, query), args...).Scan(&n), "count %s", query)
	return n
}

// subscriberWorld is a page with two components and subscribers of every
// kind and state, one with markup in its (legacy) address.
type subscriberWorld struct {
	api, db          int64
	ann, bob, pend   int64
	hook, xss, eq    int64
	annEmail, xssRaw string
}

func seedSubscribers(t *testing.T, s *webtest.Server) subscriberWorld {
	t.Helper()
	ctx := context.Background()
	w := subscriberWorld{annEmail: "ann@example.com", xssRaw: `<img src=x onerror=alert(1)>@example.com`}
	w.api = addComponent(t, s, "API", models.StatusOperational)
	w.db = addComponent(t, s, "Database", models.StatusOperational)
	create := func(email string, comps ...int64) int64 {
		t.Helper()
		sub, err := s.Store.CreateConfirmedSubscriber(ctx, models.DefaultPageID, models.SubscribeInput{Email: email, AllComponents: len(comps) == 0, Components: comps})
		modelstest.Fatal(t, err, "subscriber %s", email)
		return sub.ID
	}
	w.ann = create(w.annEmail)
	w.bob = create("bob@example.com", w.db)
	w.eq = create("=1+2@example.com", w.api)
	modelstest.Fatal(t, s.Store.Subscribe(ctx, models.DefaultPageID, models.SubscribeInput{Email: "pending@example.com", AllComponents: true}), "pending")
	w.pend = w.eq + 1
	execSQL(t, s, `INSERT INTO subscribers (page_id, kind, email, url_sealed, state, all_components, manage_token_hash, manage_token_sealed, created_at)
VALUES (1, 'webhook', '', 'not-a-sealed-value', 'active', ?, 'hash-hook', 'x', ?)`, true, time.Now().UTC())
	execSQL(t, s, `INSERT INTO subscribers (page_id, kind, email, state, all_components, manage_token_hash, manage_token_sealed, created_at, permanent_failures)
VALUES (1, 'email', ?, 'bouncing', ?, 'hash-xss', 'x', ?, 3)`, w.xssRaw, true, time.Now().UTC())
	list, err := s.Store.Subscribers(ctx, models.SubscriberFilter{})
	modelstest.Fatal(t, err, "list")
	for _, sub := range list {
		switch {
		case sub.Kind == models.SubscriberWebhook:
			w.hook = sub.ID
		case sub.Email == w.xssRaw:
			w.xss = sub.ID
		case sub.Email == "pending@example.com":
			w.pend = sub.ID
		}
	}
	return w
}

// rowIDs are the subscriber rows a list page shows.
var subscriberRowRE = regexp.MustCompile(`<tr id="subscriber-(\d+)"`)

func rowIDs(body string) []string {
	var out []string
	for _, m := range subscriberRowRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestAdminSubscribersScreen: the list shows every kind and state with
// its badge and components, escapes what it shows, filters by address
// (case-insensitively), kind, state and component, and is for admins only.
func TestAdminSubscribersScreen(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		w := seedSubscribers(t, s)
		res := c.Get("/admin/subscribers")
		if res.Status != http.StatusOK {
			t.Fatalf("list: %d\n%.500s", res.Status, res.Body)
		}
		wantBody(t, res, "ann@example.com", "bob@example.com", "pending@example.com", fmt.Sprintf("webhook #%d", w.hook),
			`<span class="badge ds-delivered">`, `<span class="badge ds-pending">`, `<span class="badge ds-failed">`,
			" Bouncing</span>", " Pending</span>", `<span class="cell-label">Components: </span>All</td>`, `<span class="cell-label">Components: </span>Database</td>`,
			"e-mail is not configured", `href="/admin/subscribers/import"`, `href="/admin/subscribers.csv"`,
			html.EscapeString(w.xssRaw), "4 active · 1 pending · 1 bouncing")
		wantNotBody(t, res, w.xssRaw, "manage_token", "hash-xss")
		if got := rowIDs(res.Body); len(got) != 6 {
			t.Fatalf("list shows %d rows, want 6", len(got))
		}
		// The nav and the dashboard's card link the screen for admins.
		wantBody(t, res, `<a href="/admin/subscribers" aria-current="page">Subscribers</a>`)
		wantBody(t, c.Get("/admin"), `<a class="button small" href="/admin/subscribers">Manage</a>`)

		for _, tc := range []struct {
			query string
			want  []int64
		}{
			{"q=ANN%40EX", []int64{w.ann}},
			{"q=%25", nil}, // a literal %, not a wildcard
			{"kind=webhook", []int64{w.hook}},
			{"state=pending", []int64{w.pend}},
			{"state=bouncing&kind=email", []int64{w.xss}},
			{fmt.Sprintf("component=%d", w.db), []int64{w.xss, w.hook, w.pend, w.bob, w.ann}},
			{fmt.Sprintf("component=%d&q=example", w.api), []int64{w.xss, w.pend, w.eq, w.ann}},
		} {
			got := rowIDs(c.Get("/admin/subscribers?" + tc.query).Body)
			var want []string
			for _, id := range tc.want {
				want = append(want, itoa(id))
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("?%s: rows %v, want %v", tc.query, got, want)
			}
		}
		// Bad filter values are named and ignored, never a 500.
		for _, q := range []string{"state=gone", "kind=%00", "component=abc", "q=%FF%FE", "q=a%00b", "q=a%0Ab", "component=99999"} {
			res := c.Get("/admin/subscribers?" + q)
			if res.Status != http.StatusOK || !strings.Contains(res.Body, `class="filter-notes"`) || len(rowIDs(res.Body)) != 6 {
				t.Errorf("?%s: %d, %d rows, notes %v", q, res.Status, len(rowIDs(res.Body)), strings.Contains(res.Body, "filter-notes"))
			}
		}

		// Viewers and operators see no address.
		for _, role := range []models.Role{models.RoleViewer, models.RoleOperator} {
			_, other := s.AddUser(t, string(role)+"@example.com", role)
			for _, path := range []string{"/admin/subscribers", "/admin/subscribers.csv", "/admin/subscribers/import", "/admin/subscribers/" + itoa(w.ann) + "/remove"} {
				if res := other.Get(path); res.Status != http.StatusForbidden || strings.Contains(res.Body, w.annEmail) {
					t.Errorf("%s GET %s: %d", role, path, res.Status)
				}
			}
			if res := other.Get("/admin"); strings.Contains(res.Body, `href="/admin/subscribers"`) {
				t.Errorf("%s's navigation links the Subscribers screen", role)
			}
		}

		// Remove: a confirmation page, then a POST with the CSRF token.
		confirm := c.Get("/admin/subscribers/" + itoa(w.ann) + "/remove")
		wantBody(t, confirm, "Remove subscriber “ann@example.com”?", `action="/admin/subscribers/`+itoa(w.ann)+`/remove"`)
		if res := c.Post("/admin/subscribers/"+itoa(w.ann)+"/remove", nil); res.Status != http.StatusForbidden {
			t.Errorf("remove without CSRF: %d", res.Status)
		}
		res = c.Submit("/admin/subscribers", "/admin/subscribers/"+itoa(w.ann)+"/remove", nil)
		if res.Status != http.StatusSeeOther || res.Location != "/admin/subscribers" {
			t.Fatalf("remove: %d → %q", res.Status, res.Location)
		}
		after := c.Get(res.Location)
		wantBody(t, after, "Subscriber removed.")
		wantNotBody(t, after, "ann@example.com")
		if res := c.Submit("/admin/subscribers", "/admin/subscribers/"+itoa(w.ann)+"/remove", nil); res.Status != http.StatusNotFound {
			t.Errorf("remove twice: %d", res.Status)
		}
		entries, err := s.Store.AuditEntries(t.Context(), models.AuditFilter{Action: "subscriber.delete"})
		modelstest.Fatal(t, err, "audit")
		if len(entries) != 1 || strings.Contains(entries[0].Summary+entries[0].Before+entries[0].After, "ann@") {
			t.Errorf("audit of the removal = %+v", entries)
		}
	})
}

// TestAdminSubscribersExportCSV: the export has a header and one line per
// subscriber the filters match, times in RFC 3339 UTC, formulas defused.
func TestAdminSubscribersExportCSV(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		w := seedSubscribers(t, s)
		res := c.Get("/admin/subscribers.csv")
		if res.Status != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(res.Header.Get("Content-Disposition"), `attachment; filename="subscribers-`) {
			t.Fatalf("export: %d %s %s", res.Status, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
		}
		recs, err := csv.NewReader(strings.NewReader(res.Body)).ReadAll()
		modelstest.Fatal(t, err, "parse export")
		if strings.Join(recs[0], ",") != "email,kind,state,components,created_at,confirmed_at" || len(recs) != 7 {
			t.Fatalf("export = %q", recs)
		}
		byAddr := map[string][]string{}
		for _, r := range recs[1:] {
			byAddr[r[0]] = r
		}
		if r := byAddr["bob@example.com"]; r == nil || r[1] != "email" || r[2] != "active" || r[3] != "Database" {
			t.Errorf("bob = %q", r)
		} else if _, err := time.Parse(time.RFC3339, r[4]); err != nil || !strings.HasSuffix(r[4], "Z") || !strings.HasSuffix(r[5], "Z") {
			t.Errorf("bob's times %q %q, want RFC 3339 UTC", r[4], r[5])
		}
		if r := byAddr["'=1+2@example.com"]; r == nil || r[3] != "API" {
			t.Errorf("a formula-like address is not defused: %q", recs)
		}
		if r := byAddr["pending@example.com"]; r == nil || r[3] != "All" || r[5] != "" {
			t.Errorf("pending = %q", r)
		}
		if r := byAddr[fmt.Sprintf("webhook #%d", w.hook)]; r == nil || r[1] != "webhook" {
			t.Errorf("webhook row = %q", recs)
		}
		// Filters apply; the file reads back as an import.
		res = c.Get(fmt.Sprintf("/admin/subscribers.csv?state=active&component=%d", w.db))
		recs, err = csv.NewReader(strings.NewReader(res.Body)).ReadAll()
		modelstest.Fatal(t, err, "parse filtered export")
		if len(recs) != 4 { // header, webhook, bob, ann
			t.Errorf("filtered export = %q", recs)
		}
		plan, err := s.Store.PlanSubscriberImport(t.Context(), models.DefaultPageID, []byte(res.Body))
		modelstest.Fatal(t, err, "export as import")
		if plan.Added != 0 || plan.Existing != 2 {
			t.Errorf("the export read as an import: %+v", plan)
		}
		if res := c.Get("/admin/subscribers.csv?q=nobody"); res.Status != http.StatusOK || strings.TrimSpace(res.Body) != "email,kind,state,components,created_at,confirmed_at" {
			t.Errorf("empty export: %d %q", res.Status, res.Body)
		}
	})
}

// upload posts file to the import form, multipart, with the CSRF token.
func upload(t *testing.T, c *webtest.Client, name string, file []byte, withCSRF bool) webtest.Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if withCSRF {
		modelstest.Fatal(t, mw.WriteField("_csrf", c.CSRF("/admin/subscribers/import")), "csrf field")
	}
	fw, err := mw.CreateFormFile("file", name)
	modelstest.Fatal(t, err, "file part")
	_, _ = fw.Write(file)
	modelstest.Fatal(t, mw.Close(), "close")
	return c.PostRaw("/admin/subscribers/import", mw.FormDataContentType(), &body)
}

var importDataRE = regexp.MustCompile(`name="data" value="([^"]*)"`)

// TestAdminSubscribersImport: the dry run lists what the import would do
// and writes nothing; its button imports exactly that. Bad files are
// clear 4xx answers with nothing written.
func TestAdminSubscribersImport(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		api := addComponent(t, s, "API", models.StatusOperational)
		_ = api
		_, err := s.Store.CreateConfirmedSubscriber(t.Context(), models.DefaultPageID, models.SubscribeInput{Email: "old@example.com", AllComponents: true})
		modelstest.Fatal(t, err, "existing")
		file := "email,components\n" +
			"new1@example.com,API\n" +
			"NEW2@example.com,\n" +
			"old@example.com,All\n" +
			"new1@example.com,All\n" +
			"\"<script>alert(1)</script>\",All\n" +
			"\"x@example.com\r\nBcc: y@example.com\",All\n" +
			"z@example.com,Billing\n"
		before := snapshotTables(t, s)
		res := upload(t, c, "from-elsewhere.csv", []byte(file), true)
		if res.Status != http.StatusOK {
			t.Fatalf("dry run: %d\n%.800s", res.Status, res.Body)
		}
		wantBody(t, res, "from-elsewhere.csv", "<strong>2</strong> addresses would be added", "<strong>1</strong> subscribed already",
			"<strong>4</strong> invalid lines", "The same address as line 2.", "line break", "Unknown component", `<span class="tag">Billing</span>`,
			"Import 2 subscribers")
		wantNotBody(t, res, "<script>alert(1)</script>")
		if after := snapshotTables(t, s); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("the dry run wrote: %v → %v", before, after)
		}
		m := importDataRE.FindStringSubmatch(res.Body)
		if m == nil {
			t.Fatal("the dry run has no confirm form")
		}
		// Confirm: the same file comes back and is imported.
		done := c.Submit("/admin/subscribers/import", "/admin/subscribers/import", url.Values{"confirm": {"1"}, "data": {html.UnescapeString(m[1])}})
		if done.Status != http.StatusSeeOther || done.Location != "/admin/subscribers" {
			t.Fatalf("confirm: %d → %q\n%.500s", done.Status, done.Location, done.Body)
		}
		wantBody(t, c.Get(done.Location), "Imported 2 subscribers. 1 subscribed already, 4 invalid lines skipped.")
		if n := countSQL(t, s, "SELECT COUNT(*) FROM subscribers WHERE state = 'active' AND confirmed_at IS NOT NULL AND email IN ('new1@example.com', 'new2@example.com')"); n != 2 {
			t.Fatalf("imported %d active subscribers, want 2", n)
		}
		if n := countSQL(t, s, "SELECT COUNT(*) FROM subscriber_deliveries"); n != 0 {
			t.Errorf("the import queued %d e-mails", n)
		}
		entries, err := s.Store.AuditEntries(t.Context(), models.AuditFilter{Action: "subscriber.import"})
		modelstest.Fatal(t, err, "audit")
		if len(entries) != 1 || strings.Contains(entries[0].Summary+entries[0].After, "new1@") || !strings.Contains(entries[0].After, `"added":2`) {
			t.Errorf("audit = %+v", entries)
		}

		// Bad files: a clear 4xx on the form, nothing written.
		before = snapshotTables(t, s)
		for _, tc := range []struct {
			name   string
			file   []byte
			status int
			says   string
		}{
			{"unbalanced quotes", []byte("email\n\"a@example.com\nb@example.com\n"), http.StatusUnprocessableEntity, "is not valid CSV"},
			{"binary", append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 64)...), http.StatusUnprocessableEntity, "not a CSV file"},
			{"empty", []byte(""), http.StatusUnprocessableEntity, "The file is empty."},
			{"oversize", append([]byte("email\n"), bytes.Repeat([]byte("someone@example.com\n"), models.MaxImportBytes/20+1)...), http.StatusRequestEntityTooLarge, "larger than 5 MiB"},
		} {
			res := upload(t, c, tc.name+".csv", tc.file, true)
			if res.Status != tc.status || !strings.Contains(res.Body, tc.says) || !strings.Contains(res.Body, `aria-invalid="true"`) {
				t.Errorf("%s: %d, want %d saying %q", tc.name, res.Status, tc.status, tc.says)
			}
		}
		if res := upload(t, c, "far-too-big.csv", bytes.Repeat([]byte("a"), 9<<20), true); res.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("a 9 MiB upload: %d, want 413", res.Status)
		}
		if res := upload(t, c, "no-csrf.csv", []byte("email\nq@example.com\n"), false); res.Status != http.StatusForbidden {
			t.Errorf("upload without CSRF: %d", res.Status)
		}
		if res := c.Submit("/admin/subscribers/import", "/admin/subscribers/import", url.Values{"confirm": {"1"}, "data": {"%%% not base64"}}); res.Status != http.StatusBadRequest {
			t.Errorf("tampered confirmation: %d", res.Status)
		}
		if res := c.Submit("/admin/subscribers/import", "/admin/subscribers/import", nil); res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "Choose a CSV file") {
			t.Errorf("no file: %d", res.Status)
		}
		if after := snapshotTables(t, s); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("bad files wrote: %v → %v", before, after)
		}
	})
}

// TestAPISubscribers: list (paged, filtered), create confirmed, delete;
// admins' tokens with a subscribers scope only; bad input is a clear 4xx
// with nothing written; no token or sealed value in any answer.
func TestAPISubscribers(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		ctx := context.Background()
		s.SetUp(t)
		w := seedSubscribers(t, s)
		me, err := s.Store.UserByEmail(ctx, webtest.AdminEmail)
		modelstest.Fatal(t, err, "admin")
		token := func(user int64, scopes ...models.Scope) string {
			_, plain, err := s.Store.CreateToken(ctx, models.DefaultPageID, models.TokenInput{Name: "subs-token", Scopes: scopes}, user)
			modelstest.Fatal(t, err, "token %v", scopes)
			return plain
		}
		admin := token(me.ID, models.ScopeSubscribersWrite)
		reader := token(me.ID, models.ScopeSubscribersRead)
		readOnly := token(me.ID, models.ScopeRead)
		op, _ := s.AddUser(t, "op@example.com", models.RoleOperator)
		opToken := token(op.ID, models.ScopesFor(models.RoleOperator)...)
		if models.RoleAllowsScope(models.RoleOperator, models.ScopeSubscribersRead) {
			t.Fatal("operators may hold subscribers:read")
		}

		wantAPIError(t, apiCall(t, s, readOnly, http.MethodGet, "/api/v1/subscribers", ""), http.StatusForbidden, "forbidden", "")
		wantAPIError(t, apiCall(t, s, opToken, http.MethodGet, "/api/v1/subscribers", ""), http.StatusForbidden, "forbidden", "")
		wantAPIError(t, apiCall(t, s, reader, http.MethodPost, "/api/v1/subscribers", `{"email":"x@example.com"}`), http.StatusForbidden, "forbidden", "")

		res := apiCall(t, s, reader, http.MethodGet, "/api/v1/subscribers?per_page=2", "")
		var list []map[string]any
		if res.Status != http.StatusOK || json.Unmarshal([]byte(res.Body), &list) != nil || len(list) != 2 || res.Header.Get("X-Total-Count") != "6" ||
			!strings.Contains(res.Header.Get("Link"), `rel="next"`) {
			t.Fatalf("list: %d %s %s", res.Status, res.Header.Get("X-Total-Count"), res.Body)
		}
		res = apiCall(t, s, admin, http.MethodGet, "/api/v1/subscribers?per_page=100", "")
		for _, secret := range []string{"token", "sealed", "hash-", "not-a-sealed-value"} {
			if strings.Contains(res.Body, secret) {
				t.Errorf("the list shows %q: %s", secret, res.Body)
			}
		}
		list = nil
		res = apiCall(t, s, admin, http.MethodGet, fmt.Sprintf("/api/v1/subscribers?kind=email&state=active&component=%d&q=BOB", w.db), "")
		if res.Status != http.StatusOK || json.Unmarshal([]byte(res.Body), &list) != nil || len(list) != 1 || list[0]["email"] != "bob@example.com" ||
			fmt.Sprint(list[0]["components"]) != fmt.Sprintf("[%d]", w.db) || list[0]["all_components"] != false || list[0]["confirmed_at"] == nil {
			t.Fatalf("filtered list: %d %s", res.Status, res.Body)
		}
		res = apiCall(t, s, admin, http.MethodGet, "/api/v1/subscribers?kind=webhook", "")
		list = nil
		if json.Unmarshal([]byte(res.Body), &list) != nil || len(list) != 1 || list[0]["url"] != fmt.Sprintf("webhook #%d", w.hook) || list[0]["email"] != nil {
			t.Errorf("webhook subscriber = %s", res.Body)
		}
		for _, q := range []string{"kind=sms", "state=gone", "component=abc", "q=" + strings.Repeat("a", 300), "q=a%00b", "q=%FF", "q=a%0D%0Ab", "stat=active"} {
			if res := apiCall(t, s, admin, http.MethodGet, "/api/v1/subscribers?"+q, ""); res.Status != http.StatusBadRequest {
				t.Errorf("?%s: %d, want 400", q, res.Status)
			}
		}

		// Create: 201, active, confirmed; again: 409.
		res = apiCall(t, s, admin, http.MethodPost, "/api/v1/subscribers", fmt.Sprintf(`{"email":"New@Example.com","components":["%d"]}`, w.api))
		var created map[string]any
		if res.Status != http.StatusCreated || json.Unmarshal([]byte(res.Body), &created) != nil || created["email"] != "new@example.com" ||
			created["state"] != "active" || created["confirmed_at"] == nil || fmt.Sprint(created["components"]) != fmt.Sprintf("[%d]", w.api) {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		wantAPIError(t, apiCall(t, s, admin, http.MethodPost, "/api/v1/subscribers", `{"email":"new@example.COM"}`), http.StatusConflict, "subscriber_exists", "email")

		before := snapshotTables(t, s)
		for _, tc := range []struct {
			name, body string
			status     int
			field      string
		}{
			{"CR/LF", `{"email":"a@example.com\r\nBcc: b@example.com"}`, 422, "email"},
			{"NUL", `{"email":"a\u0000@example.com"}`, 422, "email"},
			{"markup", `{"email":"<img src=x onerror=alert(1)>"}`, 422, "email"},
			{"no address", `{"components":[]}`, 422, "email"},
			{"unknown component", `{"email":"c@example.com","components":[99999]}`, 422, "components"},
			{"no component", `{"email":"c@example.com","components":[]}`, 422, "components"},
			{"number for address", `{"email":5}`, 400, "email"},
			{"string for components", `{"email":"c@example.com","components":"all"}`, 400, "components"},
			{"unknown field", `{"email":"c@example.com","state":"active"}`, 400, "state"},
		} {
			res := apiCall(t, s, admin, http.MethodPost, "/api/v1/subscribers", tc.body)
			if res.Status != tc.status || res.Err.Field != tc.field {
				t.Errorf("%s: %d field %q, want %d on %s\n%s", tc.name, res.Status, res.Err.Field, tc.status, tc.field, res.Body)
			}
		}
		// Invalid UTF-8 in the body.
		if res := apiSend(t, s, admin, http.MethodPost, "/api/v1/subscribers", "application/json", strings.NewReader("{\"email\":\"a\xff@example.com\"}"), nil); res.Status < 400 || res.Status >= 500 {
			t.Errorf("invalid UTF-8: %d", res.Status)
		}
		if after := snapshotTables(t, s); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("bad input wrote: %v → %v", before, after)
		}

		// Delete: 204, then 404.
		id := created["id"].(string)
		if res := apiCall(t, s, admin, http.MethodDelete, "/api/v1/subscribers/"+id, ""); res.Status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", res.Status, res.Body)
		}
		wantAPIError(t, apiCall(t, s, admin, http.MethodDelete, "/api/v1/subscribers/"+id, ""), http.StatusNotFound, "not_found", "")
		wantAPIError(t, apiCall(t, s, admin, http.MethodDelete, "/api/v1/subscribers/abc", ""), http.StatusNotFound, "not_found", "")
		for _, action := range []string{"subscriber.create", "subscriber.delete"} {
			entries, err := s.Store.AuditEntries(ctx, models.AuditFilter{Action: action, ActorName: "subs-token"})
			modelstest.Fatal(t, err, "audit")
			if len(entries) != 1 || entries[0].ActorType != models.ActorToken || strings.Contains(entries[0].Summary+entries[0].Before+entries[0].After, "new@") {
				t.Errorf("%s audit = %+v", action, entries)
			}
		}
	})
}

// subscriberWork is how many subscriber e-mails events have queued: the
// fan-outs still to expand plus the event deliveries already written. One
// statement, so it reads one snapshot: the engine expands fan-outs
// meanwhile, turning a fan-out row into a delivery in one transaction.
func subscriberWork(t *testing.T, s *webtest.Server) int {
	t.Helper()
	return countSQL(t, s, "SELECT (SELECT COUNT(*) FROM subscriber_fanouts) + (SELECT COUNT(*) FROM subscriber_deliveries WHERE kind = 'event')")
}

// TestNotifySubscribersSwitchInFormsAndAPI: "Notify subscribers" is
// ticked by default beside "Notify channels"; each box leaves out only
// its own audience, in the admin's forms and in the API.
func TestNotifySubscribersSwitchInFormsAndAPI(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		rc := newReceiver(t, http.StatusNoContent, "")
		_, err := s.Store.CreateChannel(t.Context(), models.DefaultPageID, models.ChannelInput{Type: models.ChannelWebhook, Name: "All", URL: rc.URL, Enabled: true})
		modelstest.Fatal(t, err, "channel")
		_, err = s.Store.CreateConfirmedSubscriber(t.Context(), models.DefaultPageID, models.SubscribeInput{Email: "sub@example.com", AllComponents: true})
		modelstest.Fatal(t, err, "subscriber")
		time.Sleep(10 * time.Millisecond) // the subscriber confirmed before the events
		for _, page := range []string{"/admin/incidents/new", "/admin/maintenance/new"} {
			wantBody(t, c.Get(page), `<input type="hidden" name="notify_subscribers" value="0">`,
				`<input type="checkbox" id="f-notify_subscribers" name="notify_subscribers" value="1" checked`)
		}
		deliveries := func() int { return countSQL(t, s, "SELECT COUNT(*) FROM deliveries WHERE event_id IS NOT NULL") }

		// Channels yes, subscribers no.
		work, sent := subscriberWork(t, s), deliveries()
		res := c.Submit("/admin/incidents/new", "/admin/incidents", url.Values{"title": {"Channels only"}, "status": {"investigating"},
			"message": {"Errors."}, "notify": {"0", "1"}, "notify_subscribers": {"0"}})
		inc := idFromLocation(t, res, "/admin/incidents/")
		if subscriberWork(t, s) != work || deliveries() != sent+1 {
			t.Errorf("channels only: subscriber work %d → %d, channel deliveries %d → %d", work, subscriberWork(t, s), sent, deliveries())
		}
		// Subscribers yes, channels no (an update of the same incident).
		work, sent = subscriberWork(t, s), deliveries()
		res = c.Submit("/admin/incidents/"+itoa(inc), "/admin/incidents/"+itoa(inc)+"/updates", url.Values{"status": {"identified"},
			"message": {"Found it."}, "notify": {"0"}, "notify_subscribers": {"0", "1"}})
		if res.Status != http.StatusSeeOther || subscriberWork(t, s) != work+1 || deliveries() != sent {
			t.Errorf("subscribers only: %d, subscriber work %d → %d, channel deliveries %d → %d", res.Status, work, subscriberWork(t, s), sent, deliveries())
		}
		// Both off: nothing; an older form without the new box follows
		// "Notify channels".
		events, work, sent := eventCount(t, s), subscriberWork(t, s), deliveries()
		c.Submit("/admin/incidents/new", "/admin/incidents", url.Values{"title": {"Quiet"}, "status": {"investigating"}, "message": {"Shh."}, "notify": {"0"}})
		if eventCount(t, s) != events || subscriberWork(t, s) != work || deliveries() != sent {
			t.Errorf("both off wrote events or deliveries")
		}

		// The API: notify_subscribers beside deliver_notifications.
		me, err := s.Store.UserByEmail(t.Context(), webtest.AdminEmail)
		modelstest.Fatal(t, err, "admin")
		_, tok, err := s.Store.CreateToken(t.Context(), models.DefaultPageID, models.TokenInput{Name: "t", Scopes: []models.Scope{models.ScopeIncidentsWrite, models.ScopeMaintenanceWrite}}, me.ID)
		modelstest.Fatal(t, err, "token")
		work, sent = subscriberWork(t, s), deliveries()
		r := apiCall(t, s, tok, http.MethodPost, "/api/v1/incidents", `{"name":"API channels only","body":"x","notify_subscribers":false}`)
		if r.Status != http.StatusCreated || subscriberWork(t, s) != work || deliveries() != sent+1 {
			t.Errorf("API channels only: %d, work %d → %d, deliveries %d → %d", r.Status, work, subscriberWork(t, s), sent, deliveries())
		}
		work, sent = subscriberWork(t, s), deliveries()
		start := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		end := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
		r = apiCall(t, s, tok, http.MethodPost, "/api/v1/maintenance", fmt.Sprintf(`{"name":"API subscribers only","scheduled_for":"%s","scheduled_until":"%s","deliver_notifications":false,"notify_subscribers":true}`, start, end))
		if r.Status != http.StatusCreated || subscriberWork(t, s) != work+1 || deliveries() != sent {
			t.Errorf("API subscribers only: %d, work %d → %d, deliveries %d → %d\n%s", r.Status, work, subscriberWork(t, s), sent, deliveries(), r.Body)
		}
		wantAPIError(t, apiCall(t, s, tok, http.MethodPost, "/api/v1/incidents", `{"name":"x","body":"x","notify_subscribers":"yes"}`), http.StatusBadRequest, "invalid_type", "notify_subscribers")
	})
}

// TestAdminSubscribersImportNearTheLimit: a file just under 5 MiB goes
// through the dry run and its confirmation (which carries it back,
// base64) within the import's own body limit.
func TestAdminSubscribersImportNearTheLimit(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		label := strings.Repeat("d", 60)
		var b strings.Builder
		b.WriteString("email\n")
		n := 0
		for b.Len() < models.MaxImportBytes-300 {
			fmt.Fprintf(&b, "%s%07d@%s.%s.%s.example.com\n", strings.Repeat("u", 50), n, label, label, label)
			n++
		}
		res := upload(t, c, "big.csv", []byte(b.String()), true)
		if res.Status != http.StatusOK || !strings.Contains(res.Body, fmt.Sprintf("Import %s subscribers", thousands(n))) {
			t.Fatalf("dry run of %d bytes: %d\n%.300s", b.Len(), res.Status, res.Body)
		}
		m := importDataRE.FindStringSubmatch(res.Body)
		if m == nil {
			t.Fatal("no confirm form")
		}
		done := c.Submit("/admin/subscribers/import", "/admin/subscribers/import", url.Values{"confirm": {"1"}, "data": {m[1]}})
		if done.Status != http.StatusSeeOther {
			t.Fatalf("confirm: %d\n%.300s", done.Status, done.Body)
		}
		if got := countSQL(t, s, "SELECT COUNT(*) FROM subscribers"); got != n {
			t.Fatalf("imported %d of %d", got, n)
		}
	})
}

// thousands writes n with comma separators, as the admin does.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
