package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/web/webtest"
)

// readmeAPIExamples returns the README's shell code blocks that call the
// API on http://localhost:8080.
func readmeAPIExamples(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	var cur []string
	in := false
	for line := range strings.SplitSeq(string(b), "\n") {
		switch {
		case !in && strings.HasPrefix(line, "```sh"):
			in, cur = true, nil
		case in && strings.HasPrefix(line, "```"):
			in = false
			if block := strings.Join(cur, "\n"); strings.Contains(block, "curl") && strings.Contains(block, "http://localhost:8080/api/") {
				blocks = append(blocks, block)
			}
		case in:
			cur = append(cur, line)
		}
	}
	if len(blocks) < 2 {
		t.Fatalf("found %d API example blocks in the README, want the public and the admin API's", len(blocks))
	}
	return blocks
}

// highest returns the largest number re's first group matches in s.
func highest(re *regexp.Regexp, s string) int {
	n := 0
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		if v, _ := strconv.Atoi(m[1]); v > n {
			n = v
		}
	}
	return n
}

// TestREADMEAPIExamples runs the README's curl examples, as written, with
// bash and curl against a real server on 127.0.0.1 (only the address and
// the token are filled in), so they stay true: a refused request (a date
// in the past, a renamed field) fails the test. The ids the examples use
// are made to exist first.
func TestREADMEAPIExamples(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "date"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed to run the README's examples: %v", tool, err)
		}
	}
	blocks := readmeAPIExamples(t)
	all := strings.Join(blocks, "\n")
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		admin := s.SetUp(t)
		_, token := createToken(t, admin, "readme", models.Scopes...)

		// What the examples refer to by id.
		components := max(highest(regexp.MustCompile(`"components": \{"(\d+)"`), all),
			highest(regexp.MustCompile(`"components": \["(\d+)"`), all))
		for i := 1; i <= components; i++ {
			res := apiCall(t, s, token, http.MethodPost, "/api/v1/components", fmt.Sprintf(`{"name":"Component %d"}`, i))
			if res.Status != http.StatusCreated {
				t.Fatalf("seed component %d: %d %s", i, res.Status, res.Body)
			}
		}
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
		t.Cleanup(receiver.Close)
		for i := 1; i <= highest(regexp.MustCompile(`/channels/(\d+)/`), all); i++ {
			res := apiCall(t, s, token, http.MethodPost, "/api/v1/channels", fmt.Sprintf(`{"type":"webhook","name":"Hook %d","url":"%s"}`, i, receiver.URL))
			if res.Status != http.StatusCreated {
				t.Fatalf("seed channel %d: %d %s", i, res.Status, res.Body)
			}
		}
		incident := highest(regexp.MustCompile(`/incidents/(\d+)/`), all)
		for i := 1; i < incident; i++ {
			res := apiCall(t, s, token, http.MethodPost, "/api/v1/incidents", fmt.Sprintf(`{"incident":{"name":"Earlier %d","status":"resolved","body":"Done.","backfilled":true,"backfill_date":"%s"}}`, i, time.Now().Add(-48*time.Hour).UTC().Format(time.RFC3339)))
			if res.Status != http.StatusCreated {
				t.Fatalf("seed incident %d: %d %s", i, res.Status, res.Body)
			}
		}

		// Windows the examples refer to by id are in progress (they extend
		// and update one); the example that schedules a window makes the next.
		if windows := highest(regexp.MustCompile(`/maintenance/(\d+)`), all); windows > 0 {
			start := time.Now().Add(2 * time.Second).UTC()
			for i := 1; i <= windows; i++ {
				res := apiCall(t, s, token, http.MethodPost, "/api/v1/maintenance", fmt.Sprintf(`{"name":"Earlier window %d","body":"Work.","scheduled_for":"%s","scheduled_until":"%s","auto_transition_to_maintenance_state":true}`,
					i, start.Format(time.RFC3339Nano), start.Add(time.Hour).Format(time.RFC3339Nano)))
				if res.Status != http.StatusCreated {
					t.Fatalf("seed maintenance %d: %d %s", i, res.Status, res.Body)
				}
			}
			time.Sleep(time.Until(start) + 100*time.Millisecond)
			if _, err := s.Store.RunMaintenanceTransitions(t.Context()); err != nil {
				t.Fatalf("start the seeded windows: %v", err)
			}
		}

		// curl answers 2xx or the script stops; its output is kept.
		script := `set -eu
curl() {
  code=$(command curl -sS --noproxy '*' --max-time 20 -o "$BODY" -w '%{http_code}' "$@")
  cat "$BODY"; echo
  case "$code" in 2??) ;; *) echo "README example refused: HTTP $code: curl $*" >&2; exit 1 ;; esac
}
`
		for _, b := range blocks {
			b = strings.ReplaceAll(b, "http://localhost:8080", s.URL)
			b = strings.ReplaceAll(b, "TOKEN=hrd_…", "TOKEN="+token)
			script += b + "\n"
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", "-c", script)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "BODY=" + filepath.Join(t.TempDir(), "body"), "LC_ALL=C"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("README examples failed: %v\n%s", err, out)
		}

		// They did what the README says.
		var inc struct {
			Name   string `json:"name"`
			Status string `json:"status"`
		}
		res := apiCall(t, s, token, http.MethodGet, fmt.Sprintf("/api/v1/incidents/%d", incident), "")
		if err := json.Unmarshal([]byte(res.Body), &inc); err != nil || inc.Name != "Elevated API errors" || inc.Status != "resolved" {
			t.Fatalf("incident %d after the examples: %d %s, want the example's incident, resolved", incident, res.Status, res.Body)
		}
		type window struct {
			Name         string    `json:"name"`
			ScheduledFor time.Time `json:"scheduled_for"`
		}
		var windows []window
		res = apiCall(t, s, token, http.MethodGet, "/api/v1/maintenance", "")
		if err := json.Unmarshal([]byte(res.Body), &windows); err != nil {
			t.Fatalf("maintenance after the examples: %d %s", res.Status, res.Body)
		}
		scheduled := slices.IndexFunc(windows, func(w window) bool { return w.Name == "Database upgrade" })
		if scheduled < 0 || !windows[scheduled].ScheduledFor.After(time.Now()) {
			t.Fatalf("maintenance after the examples: %d %s, want the example's window, in the future", res.Status, res.Body)
		}
	})
}
