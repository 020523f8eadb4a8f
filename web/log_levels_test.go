package web_test

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestIdempotentReplayIsNotAnError: an idempotent replay is an answer, not
// a failure: it is not logged at ERROR or WARN, and no SQL reaches the log
// above debug. (The duplicate e-mail: models' TestExpectedConflictIsNotAnError
// and the binary's TestBinaryCommandLineIsTerse.)
func TestIdempotentReplayIsNotAnError(t *testing.T) {
	for _, engine := range modelstest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			var logs syncLog
			s := webtest.StartWith(t, webtest.Options{Engine: engine, Log: &logs})
			admin := s.SetUp(t)
			_, token := createToken(t, admin, "replay", models.Scopes...)
			start := len(logs.String())
			body := `{"incident":{"name":"Replayed","status":"investigating","body":"Looking."}}`
			h := http.Header{"Idempotency-Key": {"replay-1"}}
			for i := 0; i < 2; i++ {
				res := apiSend(t, s, token, http.MethodPost, "/api/v1/incidents", "application/json", strings.NewReader(body), h)
				if res.Status != http.StatusCreated {
					t.Fatalf("POST %d: %d %s", i+1, res.Status, res.Body)
				}
				if i == 1 && res.Header.Get("Idempotent-Replayed") != "true" {
					t.Fatalf("second POST not a replay: %v", res.Header)
				}
			}
			out := logs.String()[start:]
			for _, line := range strings.Split(out, "\n") {
				if strings.Contains(line, "level=ERROR") || strings.Contains(line, "level=WARN") ||
					(strings.Contains(line, "INSERT") && !strings.Contains(line, "level=DEBUG")) {
					t.Errorf("expected conflict logged as a problem: %s", line)
				}
			}
		})
	}
}
