package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web/webtest"
)

// sampleLine is one Prometheus text-format sample.
var sampleLine = regexp.MustCompile(`^[a-z_]+(\{[a-z]+="[^"]*"(,[a-z]+="[^"]*")*\})? -?[0-9.e+-]+$`)

func TestMetrics(t *testing.T) {
	eachServer(t, func(t *testing.T, s *webtest.Server) {
		ctx := context.Background()
		rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
		defer rc.Close()
		ch, err := s.Store.CreateChannel(ctx, models.DefaultPageID, models.ChannelInput{Type: models.ChannelWebhook, Name: "R", URL: rc.URL, Enabled: true})
		modelstest.Fatal(t, err, "channel")
		_, err = s.Engine.SendTest(ctx, ch, models.EventIncidentCreated)
		modelstest.Fatal(t, err, "test send")

		anon := s.NewClient(t)
		anon.Get("/")
		anon.Get("/incidents/424242")
		res := anon.Get("/metrics")
		if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
			t.Fatalf("GET /metrics: %d %s", res.Status, res.Header.Get("Content-Type"))
		}
		for _, want := range []string{
			`herald_http_request_duration_seconds_bucket{method="GET",route="/",code="200",le="+Inf"} 1`,
			`herald_http_request_duration_seconds_count{method="GET",route="/incidents/:id",code="404"} 1`,
			`herald_delivery_attempts_total{outcome="delivered"} 1`,
			`herald_delivery_queue_depth 0`,
			`herald_public_snapshot_builds_total `,
		} {
			if !strings.Contains(res.Body, want) {
				t.Errorf("metrics lack %q:\n%s", want, res.Body)
			}
		}
		for _, line := range strings.Split(strings.TrimSpace(res.Body), "\n") {
			if !strings.HasPrefix(line, "#") && !sampleLine.MatchString(line) {
				t.Errorf("not a Prometheus sample: %q", line)
			}
		}
	})
}
