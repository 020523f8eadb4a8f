package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/web/webtest"
)

func TestAPIIdempotencyKey(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, token := apiSetUp(t, s)
		post := func(key, body string) apiResponse {
			t.Helper()
			h := http.Header{}
			if key != "" {
				h.Set("Idempotency-Key", key)
			}
			return apiSend(t, s, token, http.MethodPost, "/api/v1/components", "application/json", strings.NewReader(body), h)
		}
		before := countRows(t, s)
		first := post("create-api-1", `{"name":"API"}`)
		if first.Status != http.StatusCreated {
			t.Fatalf("first POST: %d %s", first.Status, first.Body)
		}
		again := post("create-api-1", `{"name":"API"}`)
		if again.Status != http.StatusCreated || again.Body != first.Body || again.Location != first.Location ||
			again.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay: %d %q (Location %q), want the first answer %q", again.Status, again.Body, again.Location, first.Body)
		}
		after := countRows(t, s)
		if after.components != before.components+1 || after.events != before.events+1 {
			t.Errorf("two POSTs with one key made %d components and %d events, want 1 and 1",
				after.components-before.components, after.events-before.events)
		}

		wantAPIError(t, post("create-api-1", `{"name":"Web"}`), http.StatusUnprocessableEntity, "idempotency_key_reused", "")
		wantAPIError(t, post(strings.Repeat("k", 256), `{"name":"Web"}`), http.StatusBadRequest, "invalid_idempotency_key", "")

		// A refused request is replayed as refused; a new key is a new request.
		bad := post("bad-1", `{"name":""}`)
		if bad.Status != http.StatusUnprocessableEntity {
			t.Fatalf("invalid body: %d", bad.Status)
		}
		if again := post("bad-1", `{"name":""}`); again.Status != bad.Status || again.Body != bad.Body {
			t.Errorf("replayed refusal: %d %s", again.Status, again.Body)
		}
		if res := post("create-web-1", `{"name":"Web"}`); res.Status != http.StatusCreated {
			t.Errorf("new key: %d", res.Status)
		}
		// Without a key every POST counts.
		post("", `{"name":"Docs"}`)
		post("", `{"name":"Docs"}`)
		if n := countRows(t, s).components - before.components; n != 4 {
			t.Errorf("%d components in all, want 4 (API, Web, Docs, Docs)", n)
		}
	})
}
