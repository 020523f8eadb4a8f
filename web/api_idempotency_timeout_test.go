package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// keyedPost sends one POST with an Idempotency-Key through client and
// returns the status and body, or the client's error (its timeout).
func keyedPost(client *http.Client, s *webtest.Server, token, path, key, body string) (int, string, http.Header, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, s.URL+path, strings.NewReader(body))
	if err != nil {
		return 0, "", nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	res, err := client.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, "", nil, err
	}
	return res.StatusCode, string(b), res.Header, nil
}

// idempotencyLedger counts, per incident name, the incidents made and
// the keys stored, and the claims left in flight.
func idempotencyLedger(t *testing.T, s *webtest.Server) (incidents map[string]int, keys, inFlight int) {
	t.Helper()
	db, err := s.Store.SQLDB()
	modelstest.Fatal(t, err, "sql db")
	rows, err := db.QueryContext(t.Context(), "SELECT title, COUNT(*) FROM incidents GROUP BY title")
	modelstest.Fatal(t, err, "count incidents")
	defer rows.Close()
	incidents = map[string]int{}
	for rows.Next() {
		var title string
		var n int
		modelstest.Fatal(t, rows.Scan(&title, &n), "scan")
		incidents[title] = n
	}
	modelstest.Fatal(t, rows.Err(), "rows")
	modelstest.Fatal(t, db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM idempotency_keys").Scan(&keys), "count keys")
	modelstest.Fatal(t, db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM idempotency_keys WHERE status = 0").Scan(&inFlight), "count claims")
	return incidents, keys, inFlight
}

// Clients that give up after 2–40 ms and retry with the same key, as the
// README advises, get either the stored answer or a fresh attempt, never
// a stuck key: each key ends with one incident and one stored answer.
func TestIdempotencyKeyRetriesAfterClientTimeouts(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		_, token := createToken(t, c, "Alerting", models.ScopeIncidentsWrite)
		const keys, workers = 150, 6
		transport := &http.Transport{MaxIdleConnsPerHost: workers}
		defer transport.CloseIdleConnections()

		var mu sync.Mutex
		var timeouts, unavailable, answered, refusals int
		created := map[string]string{} // key → incident id of the final answer
		work := make(chan int)
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for i := range work {
					key := fmt.Sprintf("alert-%03d", i)
					body := fmt.Sprintf(`{"incident":{"name":"Outage %03d","status":"investigating","body":"Looking into it."}}`, i)
					for attempt := 0; ; attempt++ {
						timeout := time.Duration(2+rand.IntN(39)) * time.Millisecond
						if attempt >= 30 {
							timeout = 10 * time.Second // let the last try through
						}
						status, resBody, _, err := keyedPost(&http.Client{Transport: transport, Timeout: timeout}, s, token, "/api/v1/incidents", key, body)
						mu.Lock()
						if err != nil {
							timeouts++
							mu.Unlock()
							continue
						}
						if status == http.StatusServiceUnavailable && attempt < 40 && strings.Contains(resBody, `"database_unavailable"`) {
							// An overloaded machine can run a request past its
							// deadline: 503 says retry, with the same key.
							unavailable++
							mu.Unlock()
							continue
						}
						answered++
						if status != http.StatusCreated {
							refusals++
							t.Errorf("%s attempt %d: %d %s", key, attempt, status, resBody)
							mu.Unlock()
							break
						}
						var inc struct {
							ID   string `json:"id"`
							Name string `json:"name"`
						}
						if err := json.Unmarshal([]byte(resBody), &inc); err != nil || inc.Name != fmt.Sprintf("Outage %03d", i) {
							t.Errorf("%s: answer %s (%v)", key, resBody, err)
						}
						created[key] = inc.ID
						mu.Unlock()
						break
					}
				}
			})
		}
		for i := range keys {
			work <- i
		}
		close(work)
		wg.Wait()
		t.Logf("%d keys: %d client timeouts, %d answers 503 (retried), %d answers, %d refusals", keys, timeouts, unavailable, answered, refusals)
		if timeouts == 0 {
			t.Error("no request timed out: the test did not test interrupted requests")
		}

		// Requests the clients abandoned may still be finishing on the
		// server; give them a moment, then count.
		time.Sleep(200 * time.Millisecond)
		incidents, stored, inFlight := idempotencyLedger(t, s)
		for i := range keys {
			name := fmt.Sprintf("Outage %03d", i)
			if incidents[name] != 1 {
				t.Errorf("%s: %d incidents, want exactly 1", name, incidents[name])
			}
		}
		if len(incidents) != keys {
			t.Errorf("%d distinct incidents, want %d", len(incidents), keys)
		}
		if stored != keys || inFlight != 0 {
			t.Errorf("%d keys stored, %d in flight; want %d and 0", stored, inFlight, keys)
		}
		// Every key replays the answer its client finally got.
		for key, id := range created {
			i := strings.TrimPrefix(key, "alert-")
			status, body, hd, err := keyedPost(&http.Client{Transport: transport, Timeout: 10 * time.Second}, s, token, "/api/v1/incidents", key,
				`{"incident":{"name":"Outage `+i+`","status":"investigating","body":"Looking into it."}}`)
			if err != nil || status != http.StatusCreated || hd.Get("Idempotent-Replayed") != "true" || !strings.Contains(body, `"id":"`+id+`"`) {
				t.Errorf("replay of %s: %d %v %q, want the answer with incident %s", key, status, err, body, id)
			}
		}
	})
}

// Duplicates sent at the same moment: one incident; every client gets
// its answer (the later ones wait for the first), none is told 409.
func TestIdempotencyKeyConcurrentDuplicates(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		c := s.SetUp(t)
		_, token := createToken(t, c, "Alerting", models.ScopeIncidentsWrite)
		client := &http.Client{Timeout: 20 * time.Second}
		const n = 8
		statuses, bodies := make([]int, n), make([]string, n)
		replayed := make([]bool, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				status, body, hd, err := keyedPost(client, s, token, "/api/v1/incidents", "page-42",
					`{"incident":{"name":"Checkout down","status":"investigating","body":"Looking into it."}}`)
				if err != nil {
					t.Errorf("request %d: %v", i, err)
				}
				statuses[i], bodies[i], replayed[i] = status, body, hd.Get("Idempotent-Replayed") == "true"
			})
		}
		close(start)
		wg.Wait()
		fresh := 0
		for i := range n {
			if statuses[i] != http.StatusCreated || bodies[i] != bodies[0] {
				t.Errorf("request %d: %d %s, want 201 and the first answer", i, statuses[i], bodies[i])
			}
			if !replayed[i] {
				fresh++
			}
		}
		if fresh != 1 {
			t.Errorf("%d answers were not replays, want 1", fresh)
		}
		incidents, stored, inFlight := idempotencyLedger(t, s)
		if incidents["Checkout down"] != 1 || stored != 1 || inFlight != 0 {
			t.Errorf("%d incidents, %d keys stored, %d in flight; want 1, 1, 0", incidents["Checkout down"], stored, inFlight)
		}
	})
}

// A test send waits on the receiver, so its key is claimed with a lease
// instead of a transaction: the database stays free for other requests
// meanwhile, and a client that gives up and retries gets a fresh send or
// the stored answer, never a key stuck for a day.
func TestChannelTestSendKeyUnderClientTimeouts(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		_, token, reader := channelsSetUp(t, s)
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(400 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
			w.WriteHeader(http.StatusOK)
		}))
		t.Cleanup(slow.Close)
		ch := createAPIChannel(t, s, token, `{"type":"webhook","name":"Slow","url":"`+slow.URL+`/hook"}`)
		path := "/api/v1/channels/" + ch.ID + "/test"
		body := `{"event":"incident.created"}`

		// While a send waits on the receiver, the database answers others.
		sent := make(chan int, 1)
		go func() {
			status, _, _, err := keyedPost(&http.Client{Timeout: 10 * time.Second}, s, token, path, "probe-0", body)
			if err != nil {
				t.Errorf("test send: %v", err)
			}
			sent <- status
		}()
		time.Sleep(100 * time.Millisecond)
		start := time.Now()
		if res := apiCall(t, s, reader, http.MethodGet, "/api/v1/channels", ""); res.Status != http.StatusOK {
			t.Errorf("list channels during a test send: %d", res.Status)
		}
		if took := time.Since(start); took > 250*time.Millisecond {
			t.Errorf("a read waited %s for a test send to finish", took)
		}
		if status := <-sent; status != http.StatusOK {
			t.Errorf("test send: %d", status)
		}

		// Clients that give up before the receiver answers, then retry.
		var timeouts, busy int
		var final string
		for attempt := 0; attempt < 50 && final == ""; attempt++ {
			timeout := 150 * time.Millisecond
			if attempt >= 3 {
				timeout = 10 * time.Second
			}
			status, resBody, hd, err := keyedPost(&http.Client{Timeout: timeout}, s, token, path, "probe-1", body)
			switch {
			case err != nil:
				timeouts++
			case status == http.StatusConflict && hd.Get("Retry-After") != "":
				busy++ // the abandoned attempt has not noticed yet
				time.Sleep(50 * time.Millisecond)
			case status == http.StatusOK:
				final = resBody
			default:
				t.Fatalf("attempt %d: %d %s", attempt, status, resBody)
			}
		}
		t.Logf("test send: %d client timeouts, %d answers 409 while the abandoned attempt finished", timeouts, busy)
		if final == "" || timeouts == 0 {
			t.Fatalf("%d client timeouts, final answer %q; want some and an answer", timeouts, final)
		}
		status, replay, hd, err := keyedPost(&http.Client{Timeout: 10 * time.Second}, s, token, path, "probe-1", body)
		if err != nil || status != http.StatusOK || replay != final || hd.Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay: %d %v %s, want the stored answer", status, err, replay)
		}
		_, stored, inFlight := idempotencyLedger(t, s)
		if stored != 2 || inFlight != 0 {
			t.Errorf("%d keys stored, %d in flight; want 2 and 0", stored, inFlight)
		}
	})
}
