package web_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// apiResponse is an answer of the JSON API with its error, if any,
// decoded.
type apiResponse struct {
	webtest.Response
	Err apiErr
}

type apiErr struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Field   string            `json:"field"`
	Fields  map[string]string `json:"fields"`
}

// apiCall sends an API request with token (none when empty) and a JSON
// body (none when empty).
func apiCall(t *testing.T, s *webtest.Server, token, method, path, body string) apiResponse {
	t.Helper()
	var r io.Reader
	ct := ""
	if body != "" {
		r, ct = strings.NewReader(body), "application/json"
	}
	return apiSend(t, s, token, method, path, ct, r, nil)
}

// apiSend is apiCall with a content type and body of the caller's
// choosing, and extra headers.
func apiSend(t *testing.T, s *webtest.Server, token, method, path, contentType string, body io.Reader, header http.Header) apiResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	out := apiResponse{Response: webtest.Response{Status: res.StatusCode, Header: res.Header, Body: string(b),
		Location: res.Header.Get("Location")}}
	if res.StatusCode >= 400 {
		var e struct {
			Error *apiErr `json:"error"`
		}
		if err := json.Unmarshal(b, &e); err != nil || e.Error == nil || e.Error.Code == "" || e.Error.Message == "" {
			t.Fatalf("%s %s: %d with body %q, want the JSON error shape", method, path, res.StatusCode, b)
		}
		if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: error Content-Type %q", method, path, res.Header.Get("Content-Type"))
		}
		out.Err = *e.Error
	}
	if sc := res.Header.Values("Set-Cookie"); len(sc) > 0 {
		t.Errorf("%s %s set cookies %v; the API must not", method, path, sc)
	}
	return out
}

// wantAPIError checks status, error code and field.
func wantAPIError(t *testing.T, res apiResponse, status int, code, field string) {
	t.Helper()
	if res.Status != status || res.Err.Code != code || res.Err.Field != field {
		t.Fatalf("got %d %s field %q (%s), want %d %s field %q\n%s", res.Status, res.Err.Code, res.Err.Field, res.Err.Message,
			status, code, field, res.Body)
	}
}

var tokenValueRE = regexp.MustCompile(`id="api-token"[^>]*value="(hrd_[A-Za-z0-9_-]+)"`)

// createToken makes a token of the page being managed through the admin
// screens and returns its id and plaintext, read from the page that
// shows it once.
func createToken(t *testing.T, c *webtest.Client, name string, scopes ...models.Scope) (int64, string) {
	t.Helper()
	return submitToken(t, c, url.Values{"name": {name}}, scopes)
}

// createWideToken is createToken for an install-wide token ("All
// pages"), which the users and pages endpoints need.
func createWideToken(t *testing.T, c *webtest.Client, name string, scopes ...models.Scope) (int64, string) {
	t.Helper()
	return submitToken(t, c, url.Values{"name": {name}, "page": {"all"}}, scopes)
}

func submitToken(t *testing.T, c *webtest.Client, form url.Values, scopes []models.Scope) (int64, string) {
	t.Helper()
	for _, s := range scopes {
		form.Add("scopes", string(s))
	}
	res := c.Submit("/admin/tokens/new", "/admin/tokens", form)
	if res.Status != http.StatusSeeOther || !strings.HasSuffix(res.Location, "/created") {
		t.Fatalf("create token: %d → %q\n%s", res.Status, res.Location, res.Body)
	}
	id := idFromLocation(t, webtest.Response{Status: res.Status, Location: strings.TrimSuffix(res.Location, "/created")}, "/admin/tokens/")
	page := c.Get(res.Location)
	m := tokenValueRE.FindStringSubmatch(page.Body)
	if page.Status != http.StatusOK || m == nil {
		t.Fatalf("token page: %d, no token shown\n%s", page.Status, page.Body)
	}
	return id, m[1]
}

// placeholders rewrites ? to $1, $2… for PostgreSQL.
func placeholders(s *webtest.Server, query string) string {
	if s.Store.Engine() != models.Postgres {
		return query
	}
	n := 0
	return regexp.MustCompile(`\?`).ReplaceAllStringFunc(query, func(string) string {
		n++
		return fmt.Sprintf("$%d", n)
	})
}

func execSQL(t *testing.T, s *webtest.Server, query string, args ...any) {
	t.Helper()
	db, err := s.Store.SQLDB()
	modelstest.Fatal(t, err, "sql db")
	_, err = db.ExecContext(t.Context(), placeholders(s, query), args...)
	modelstest.Fatal(t, err, "exec %s", query)
}

// tablesContaining lists the tables with a value that contains needle,
// searching every column of every row.
func tablesContaining(t *testing.T, s *webtest.Server, needle string) []string {
	t.Helper()
	db, err := s.Store.SQLDB()
	modelstest.Fatal(t, err, "sql db")
	q := "SELECT name FROM sqlite_master WHERE type = 'table'"
	if s.Store.Engine() == models.Postgres {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
	}
	var tables []string
	rows, err := db.QueryContext(t.Context(), q)
	modelstest.Fatal(t, err, "list tables")
	for rows.Next() {
		var name string
		modelstest.Fatal(t, rows.Scan(&name), "scan table name")
		tables = append(tables, name)
	}
	rows.Close()
	var found []string
	for _, table := range tables {
		if tableContains(t, db, table, needle) {
			found = append(found, table)
		}
	}
	return found
}

func tableContains(t *testing.T, db *sql.DB, table, needle string) bool {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT * FROM "`+table+`"`)
	modelstest.Fatal(t, err, "read %s", table)
	defer rows.Close()
	cols, err := rows.Columns()
	modelstest.Fatal(t, err, "columns of %s", table)
	vals := make([]any, len(cols))
	for i := range vals {
		vals[i] = new(any)
	}
	for rows.Next() {
		modelstest.Fatal(t, rows.Scan(vals...), "scan %s", table)
		for _, v := range vals {
			if strings.Contains(fmt.Sprint(*(v.(*any))), needle) {
				return true
			}
			if b, ok := (*(v.(*any))).([]byte); ok && strings.Contains(string(b), needle) {
				return true
			}
		}
	}
	return false
}

func TestAPITokenLifecycle(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		list := c.Get("/admin/tokens")
		wantBody(t, list, "No API tokens yet", `href="/admin/tokens"`, "API tokens")

		id, plain := createToken(t, c, "Deploy pipeline", models.ScopeRead, models.ScopeComponentsWrite)
		if !regexp.MustCompile(`^hrd_[A-Za-z0-9_-]{43}$`).MatchString(plain) {
			t.Fatalf("token %q, want hrd_ and 43 base64url characters", plain)
		}
		// Shown once: the page again is a redirect with an explanation.
		again := c.Get(fmt.Sprintf("/admin/tokens/%d/created", id))
		if again.Status != http.StatusSeeOther || again.Location != "/admin/tokens" {
			t.Fatalf("second view of the token: %d → %q, want a redirect to the list", again.Status, again.Location)
		}
		list = c.Get("/admin/tokens")
		wantBody(t, list, "shown only once", "Deploy pipeline", "hrd_"+plain[4:12]+"…", "components:write", "Active", "Never")
		wantNotBody(t, list, plain)

		// Only the hash is stored: the token is nowhere in the database.
		tok, err := s.Store.Token(t.Context(), id)
		modelstest.Fatal(t, err, "load token")
		if tok.TokenHash != models.HashToken(plain) || tok.Prefix != plain[4:12] || tok.CreatedByUserID == nil {
			t.Fatalf("stored token %+v", tok)
		}
		if where := tablesContaining(t, s, plain[12:]); len(where) > 0 {
			t.Fatalf("the token's secret part is stored in %v", where)
		}
		if where := tablesContaining(t, s, tok.TokenHash); !slices.Equal(where, []string{"api_tokens"}) {
			t.Fatalf("the token's hash is stored in %v, want only api_tokens", where)
		}

		// Use: the API answers, records the use, and sets no cookie.
		res := apiCall(t, s, plain, http.MethodGet, "/api/v1/components", "")
		if res.Status != http.StatusOK || strings.TrimSpace(res.Body) != "[]" || res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("GET components: %d %q cache %q", res.Status, res.Body, res.Header.Get("Cache-Control"))
		}
		tok, _ = s.Store.Token(t.Context(), id)
		if tok.LastUsedAt == nil || time.Since(*tok.LastUsedAt) > time.Minute {
			t.Fatalf("last used = %v, want just now", tok.LastUsedAt)
		}
		wantBody(t, c.Get("/admin/tokens"), "just now")

		// Revoke, after a confirmation.
		confirm := c.Get(fmt.Sprintf("/admin/tokens/%d/revoke", id))
		wantBody(t, confirm, "Revoke “Deploy pipeline”?", "Revoke token", "hrd_"+plain[4:12]+"…")
		done := c.Submit(fmt.Sprintf("/admin/tokens/%d/revoke", id), fmt.Sprintf("/admin/tokens/%d/revoke", id), nil)
		if done.Status != http.StatusSeeOther || done.Location != "/admin/tokens" {
			t.Fatalf("revoke: %d → %q", done.Status, done.Location)
		}
		list = c.Get("/admin/tokens")
		wantBody(t, list, "Token “Deploy pipeline” revoked.", "Revoked")
		wantNotBody(t, list, fmt.Sprintf("/admin/tokens/%d/revoke", id))
		entries, err := s.Store.AuditEntries(t.Context(), models.AuditFilter{ObjectType: models.AuditToken, ObjectID: fmt.Sprint(id)})
		modelstest.Fatal(t, err, "audit entries")
		if len(entries) != 2 || entries[0].Action != "token.revoke" || entries[1].Action != "token.create" ||
			entries[0].ActorName != webtest.AdminEmail || strings.Contains(entries[1].After, tok.TokenHash) {
			t.Fatalf("audit rows of the token: %+v", entries)
		}
		res = apiCall(t, s, plain, http.MethodGet, "/api/v1/components", "")
		wantAPIError(t, res, http.StatusUnauthorized, "unauthorized", "")
		if !strings.Contains(res.Err.Message, "revoked") || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("revoked token: %q, WWW-Authenticate %q", res.Err.Message, res.Header.Get("WWW-Authenticate"))
		}
	})
}

func TestAPITokenExpiry(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		id, plain := createToken(t, c, "Short-lived", models.ScopeRead)
		if res := apiCall(t, s, plain, http.MethodGet, "/api/v1/groups", ""); res.Status != http.StatusOK {
			t.Fatalf("before expiry: %d", res.Status)
		}
		// The server runs on the real clock and the form refuses past
		// dates, so the expiry is moved into the past in the database.
		execSQL(t, s, "UPDATE api_tokens SET expires_at = ? WHERE id = ?", time.Now().UTC().Add(-time.Hour), id)
		res := apiCall(t, s, plain, http.MethodGet, "/api/v1/groups", "")
		wantAPIError(t, res, http.StatusUnauthorized, "unauthorized", "")
		if !strings.Contains(res.Err.Message, "expired") || !strings.Contains(res.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Fatalf("expired token: %q, WWW-Authenticate %q", res.Err.Message, res.Header.Get("WWW-Authenticate"))
		}
		wantBody(t, c.Get("/admin/tokens"), "Expired")

		// A date in the form works until 00:00 UTC that day.
		tomorrow := time.Now().UTC().AddDate(0, 0, 2).Format(time.DateOnly)
		res2 := c.Submit("/admin/tokens/new", "/admin/tokens", url.Values{"name": {"Dated"}, "scopes": {"read"}, "expires_at": {tomorrow}})
		if res2.Status != http.StatusSeeOther {
			t.Fatalf("create with expiry: %d\n%s", res2.Status, res2.Body)
		}
		page := c.Get(res2.Location)
		wantBody(t, page, "It stops working on", tomorrow+"T00:00:00Z", "Copy this token now", "/static/js/copy.", `data-copy="api-token"`)
	})
}

func TestAPITokenFormRejectsBadInput(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		yesterday := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
		cases := []struct {
			name  string
			form  url.Values
			error string
			kept  string
		}{
			{"no name", url.Values{"name": {" "}, "scopes": {"read"}}, "Enter a name.", `value="read" checked`},
			{"long name", url.Values{"name": {strings.Repeat("n", 101)}, "scopes": {"read"}}, "at most 100", strings.Repeat("n", 101)},
			{"no scope", url.Values{"name": {"CI"}}, "Choose at least one scope.", `value="CI"`},
			{"unknown scope", url.Values{"name": {"CI"}, "scopes": {"admin"}}, "is not a scope", `value="CI"`},
			{"bad date", url.Values{"name": {"CI"}, "scopes": {"read"}, "expires_at": {"next week"}}, "Enter a date such as", `value="next week"`},
			{"past date", url.Values{"name": {"CI"}, "scopes": {"read"}, "expires_at": {yesterday}}, "in the future", `value="` + yesterday + `"`},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := c.Submit("/admin/tokens/new", "/admin/tokens", tc.form)
				if res.Status != http.StatusUnprocessableEntity {
					t.Fatalf("status %d, want 422", res.Status)
				}
				wantBody(t, res, tc.error, tc.kept, `aria-invalid="true"`)
			})
		}
		tokens, err := s.Store.TokensFor(t.Context(), models.AllPagesAccess())
		modelstest.Fatal(t, err, "list tokens")
		if len(tokens) != 0 {
			t.Fatalf("bad input stored %d tokens", len(tokens))
		}
		if res := c.Post("/admin/tokens", url.Values{"name": {"CI"}, "scopes": {"read"}}); res.Status != http.StatusForbidden {
			t.Fatalf("create without CSRF token: %d, want 403", res.Status)
		}
		if res := s.NewClient(t).Get("/admin/tokens"); res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Location, "/login") {
			t.Fatalf("signed out: %d → %q, want the login", res.Status, res.Location)
		}
		for _, path := range []string{"/admin/tokens/abc/revoke", "/admin/tokens/999/revoke"} {
			if res := c.Get(path); res.Status != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", path, res.Status)
			}
		}
	})
}

func TestAPIAuthenticationAndScopes(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		_, reader := createToken(t, c, "Read only", models.ScopeRead)
		_, incidents := createToken(t, c, "Incidents", models.ScopeIncidentsWrite)
		body := `{"name":"API"}`

		cases := []struct {
			name   string
			header string
		}{
			{"no header", ""},
			{"basic auth", "Basic b3BzOnB3"},
			{"bearer without token", "Bearer"},
			{"not a herald token", "Bearer ghp_abcdef"},
			{"unknown token", "Bearer hrd_" + strings.Repeat("A", 43)},
			{"token with a typo", "Bearer " + reader + "x"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				h := http.Header{}
				if tc.header != "" {
					h.Set("Authorization", tc.header)
				}
				res := apiSend(t, s, "", http.MethodPost, "/api/v1/components", "application/json", strings.NewReader(body), h)
				wantAPIError(t, res, http.StatusUnauthorized, "unauthorized", "")
				if !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("WWW-Authenticate %q", res.Header.Get("WWW-Authenticate"))
				}
			})
		}
		// The admin's session is no API credential (and brings no CSRF
		// exemption): the cookie alone gets a 401.
		h := http.Header{"Cookie": {c.CookieHeader()}}
		res := apiSend(t, s, "", http.MethodGet, "/api/v1/components", "", nil, h)
		wantAPIError(t, res, http.StatusUnauthorized, "unauthorized", "")

		// Scopes: read cannot write; a write scope reads, but only its own
		// objects are writable.
		res = apiCall(t, s, reader, http.MethodPost, "/api/v1/components", body)
		wantAPIError(t, res, http.StatusForbidden, "forbidden", "")
		if res.Err.Message != "This token lacks the components:write scope." || !strings.Contains(res.Header.Get("WWW-Authenticate"), "insufficient_scope") {
			t.Fatalf("scope denial: %q, WWW-Authenticate %q", res.Err.Message, res.Header.Get("WWW-Authenticate"))
		}
		if !strings.Contains(res.Body, `"field":""`) {
			t.Fatalf("403 body %s lacks an empty field", res.Body)
		}
		wantAPIError(t, apiCall(t, s, incidents, http.MethodPost, "/api/v1/groups", `{"name":"Core"}`), http.StatusForbidden, "forbidden", "")
		if res := apiCall(t, s, incidents, http.MethodGet, "/api/v1/components", ""); res.Status != http.StatusOK {
			t.Fatalf("incidents:write reading components: %d, want 200 (write implies read)", res.Status)
		}
		cs, _ := s.Store.Components(t.Context(), models.DefaultPageID)
		gs, _ := s.Store.Groups(t.Context(), models.DefaultPageID)
		if len(cs)+len(gs) != 0 {
			t.Fatal("a refused request wrote a component or group")
		}
	})
}
