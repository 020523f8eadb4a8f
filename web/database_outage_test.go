package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// outageRequest is one request made while the database does not answer.
type outageRequest struct {
	name, method, path, body string
	header                   map[string]string
}

// outageAnswer is what came back, and when.
type outageAnswer struct {
	status int
	header http.Header
	body   string
	took   time.Duration
	err    error
}

// sendAll sends the requests at once and returns their answers.
func sendAll(s *webtest.Server, reqs []outageRequest) map[string]outageAnswer {
	var mu sync.Mutex
	out := map[string]outageAnswer{}
	var wg sync.WaitGroup
	for _, r := range reqs {
		wg.Go(func() {
			a := send(s, r)
			mu.Lock()
			out[r.name] = a
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

func send(s *webtest.Server, r outageRequest) outageAnswer {
	req, err := http.NewRequestWithContext(context.Background(), r.method, s.URL+r.path, strings.NewReader(r.body))
	if err != nil {
		return outageAnswer{err: err}
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	start := time.Now()
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return outageAnswer{err: err, took: time.Since(start)}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return outageAnswer{status: res.StatusCode, header: res.Header, body: string(b), took: time.Since(start), err: err}
}

const outageMessage = "The database is not answering; try again in a minute."

// want503 checks a database outage's answer: 503 within the deadline
// (plus a margin), with the message, as JSON when json is set and as the
// HTML error page otherwise.
func want503(t *testing.T, name string, a outageAnswer, deadline time.Duration, json bool) {
	t.Helper()
	if a.err != nil {
		t.Errorf("%s: %v after %s", name, a.err, a.took)
		return
	}
	if a.status != http.StatusServiceUnavailable || !strings.Contains(a.body, outageMessage) {
		t.Errorf("%s: %d after %s, want 503 with the outage message\n%.300s", name, a.status, a.took, a.body)
	}
	if a.took > deadline+2*time.Second {
		t.Errorf("%s: answered after %s with a deadline of %s", name, a.took, deadline)
	}
	ct := a.header.Get("Content-Type")
	if json && (!strings.HasPrefix(ct, "application/json") || !strings.Contains(a.body, `"code":"database_unavailable"`)) {
		t.Errorf("%s: %s %s, want the JSON error shape", name, ct, a.body)
	}
	if !json && !strings.HasPrefix(ct, "text/html") {
		t.Errorf("%s: Content-Type %s, want the HTML error page", name, ct)
	}
	if a.header.Get("Retry-After") == "" {
		t.Errorf("%s: no Retry-After", name)
	}
}

// When the database stops answering (PostgreSQL behind a stalled proxy;
// SQLite with its one connection held), admin and API requests get 503
// at their deadline, JSON on JSON routes, while the public page keeps
// serving its last snapshot at once, even one made stale by a write.
// Once the database answers again, so does everything else.
func TestDatabaseStallAnswers503AndThePublicPageStaysUp(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			db := modelstest.OpenStallable(t, engine, models.Options{})
			const deadline = 1500 * time.Millisecond
			s := webtest.StartWith(t, webtest.Options{Store: db.Store, RequestTimeout: deadline})

			// No snapshot yet. On PostgreSQL the first build waits up to the
			// deadline and fails with 503. On SQLite the stall holds the
			// single writer connection, and the build reads beside it.
			db.Stall()
			first := sendAll(s, []outageRequest{
				{name: "first public page", method: http.MethodGet, path: "/"},
				{name: "first public JSON", method: http.MethodGet, path: "/api/v2/summary.json"},
			})
			if engine == models.Postgres {
				want503(t, "first public page", first["first public page"], deadline, false)
				want503(t, "first public JSON", first["first public JSON"], deadline, true)
			} else {
				for name, a := range first {
					if a.status != http.StatusOK || a.took > deadline/2 {
						t.Errorf("%s while a write holds SQLite: %d after %s, want 200 at once from the readers", name, a.status, a.took)
					}
				}
			}
			db.Restore()

			admin := s.SetUp(t)
			_, token := createToken(t, admin, "Monitor", models.ScopeComponentsWrite)
			comp, err := s.Store.CreateComponent(t.Context(), models.DefaultPageID,
				models.ComponentInput{Name: "Checkout", Visible: true, Status: models.StatusOperational})
			modelstest.Fatal(t, err, "component")
			if a := send(s, outageRequest{method: http.MethodGet, path: "/"}); a.status != http.StatusOK || !strings.Contains(a.body, "Checkout") {
				t.Fatalf("public page before the stall: %d", a.status)
			}
			// A write the public snapshot has not caught up with.
			_, err = s.Store.SetComponentStatus(t.Context(), comp.ID, models.StatusMajorOutage, models.SourceManual, nil)
			modelstest.Fatal(t, err, "status change")

			db.Stall()
			bearer := map[string]string{"Authorization": "Bearer " + token}
			got := sendAll(s, []outageRequest{
				{name: "visitor", method: http.MethodGet, path: "/"},
				{name: "visitor JSON", method: http.MethodGet, path: "/api/v2/components.json"},
				{name: "admin on the public page", method: http.MethodGet, path: "/", header: map[string]string{"Cookie": admin.CookieHeader()}},
				{name: "admin page", method: http.MethodGet, path: "/admin/components", header: map[string]string{"Cookie": admin.CookieHeader()}},
				{name: "history page", method: http.MethodGet, path: "/history"},
				{name: "sign-in page", method: http.MethodGet, path: "/login"},
				{name: "API read", method: http.MethodGet, path: "/api/v1/components", header: bearer},
				{name: "API write", method: http.MethodPost, path: "/api/v1/components", body: `{"name":"Search"}`,
					header: map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json", "Idempotency-Key": "search-1"}},
			})
			for name, a := range got {
				t.Logf("during the stall, %s: %d after %s", name, a.status, a.took.Round(time.Millisecond))
			}
			for _, name := range []string{"visitor", "visitor JSON", "admin on the public page"} {
				a := got[name]
				if a.err != nil || a.status != http.StatusOK || !strings.Contains(a.body, "Checkout") {
					t.Errorf("%s during the stall: %d %v, want 200 from the last snapshot", name, a.status, a.err)
				}
				if a.took > time.Second {
					t.Errorf("%s during the stall took %s", name, a.took)
				}
			}
			want503(t, "admin page", got["admin page"], deadline, false)
			if engine == models.Postgres {
				want503(t, "history page", got["history page"], deadline, false)
			} else if a := got["history page"]; a.status != http.StatusOK || a.took > deadline/2 {
				// Rendered per request, from SQLite's readers: a held
				// writer does not stop it.
				t.Errorf("history page while a write holds SQLite: %d after %s, want 200 at once", a.status, a.took)
			}
			want503(t, "sign-in page", got["sign-in page"], deadline, false)
			want503(t, "API read", got["API read"], deadline, true)
			want503(t, "API write", got["API write"], deadline, true)

			db.Restore()
			if a := send(s, outageRequest{method: http.MethodGet, path: "/admin/components", header: map[string]string{"Cookie": admin.CookieHeader()}}); a.status != http.StatusOK {
				t.Errorf("admin page after the stall: %d", a.status)
			}
			// The write cut short left nothing behind: its retry with the
			// same key runs afresh.
			retry := send(s, outageRequest{method: http.MethodPost, path: "/api/v1/components", body: `{"name":"Search"}`,
				header: map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json", "Idempotency-Key": "search-1"}})
			if retry.status != http.StatusCreated || retry.header.Get("Idempotent-Replayed") != "" {
				t.Errorf("retry of the write after the stall: %d %s", retry.status, retry.body)
			}
			var n int
			sqlDB, _ := s.Store.SQLDB()
			modelstest.Fatal(t, sqlDB.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM components WHERE name = 'Search'").Scan(&n), "count")
			if n != 1 {
				t.Errorf("%d components named Search, want 1", n)
			}
			// The public page catches up.
			for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
				a := send(s, outageRequest{method: http.MethodGet, path: "/api/v2/components.json"})
				if a.status == http.StatusOK && strings.Contains(a.body, `"major_outage"`) {
					break
				}
				if time.Since(start) > 5*time.Second {
					t.Fatalf("the public snapshot still misses the write 5 s after the stall: %d %s", a.status, a.body)
				}
			}
		})
	}
}

// A connection refused (PostgreSQL down, or a partition that resets
// connections) is an outage too: 503 at once, public page from the
// snapshot, and everything works again once PostgreSQL is back.
func TestDatabaseCutAnswers503(t *testing.T) {
	db := modelstest.OpenStallable(t, models.Postgres, models.Options{})
	const deadline = 1500 * time.Millisecond
	s := webtest.StartWith(t, webtest.Options{Store: db.Store, RequestTimeout: deadline})
	admin := s.SetUp(t)
	_, token := createToken(t, admin, "Monitor", models.ScopeRead)
	if a := send(s, outageRequest{method: http.MethodGet, path: "/"}); a.status != http.StatusOK {
		t.Fatalf("public page: %d", a.status)
	}
	db.Proxy.Cut()
	got := sendAll(s, []outageRequest{
		{name: "visitor", method: http.MethodGet, path: "/"},
		{name: "admin page", method: http.MethodGet, path: "/admin", header: map[string]string{"Cookie": admin.CookieHeader()}},
		{name: "API read", method: http.MethodGet, path: "/api/v1/incidents", header: map[string]string{"Authorization": "Bearer " + token}},
	})
	if a := got["visitor"]; a.status != http.StatusOK || a.took > time.Second {
		t.Errorf("visitor during the cut: %d after %s", a.status, a.took)
	}
	want503(t, "admin page", got["admin page"], deadline, false)
	want503(t, "API read", got["API read"], deadline, true)
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal([]byte(got["API read"].body), &e); err != nil || e.Error.Message != outageMessage {
		t.Errorf("API error %s (%v)", got["API read"].body, err)
	}
	time.Sleep(1100 * time.Millisecond) // an outage, not a blip: idle connections get checked
	db.Proxy.Restore()
	for _, r := range []outageRequest{
		{name: "admin page", method: http.MethodGet, path: "/admin", header: map[string]string{"Cookie": admin.CookieHeader()}},
		{name: "API read", method: http.MethodGet, path: "/api/v1/incidents", header: map[string]string{"Authorization": "Bearer " + token}},
	} {
		if a := send(s, r); a.status != http.StatusOK {
			t.Errorf("%s after the cut: %d %s", r.name, a.status, a.body)
		}
	}
}
