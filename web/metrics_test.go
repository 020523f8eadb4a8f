package web_test

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
	"github.com/heraldstatus/herald/web"
	"github.com/heraldstatus/herald/web/webtest"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape GETs /metrics with the given Authorization header (none when
// empty) and returns the status, the headers and the body.
func scrape(t *testing.T, s *webtest.Server, authorization string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read /metrics: %v", err)
	}
	return res.StatusCode, res.Header, string(body)
}

// parseMetrics parses a Prometheus text exposition, failing the test on
// any syntax error.
func parseMetrics(t *testing.T, body string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("not the Prometheus text format: %v\n%s", err, body)
	}
	return fams
}

// sample finds the sample of family with exactly the given labels.
func sample(fams map[string]*dto.MetricFamily, family string, labels map[string]string) *dto.Metric {
	f := fams[family]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range m.GetLabel() {
			if v, ok := labels[l.GetName()]; !ok || v != l.GetValue() {
				continue next
			}
		}
		return m
	}
	return nil
}

// wantFamilies checks the exposition has Herald's families, with their
// types, and the standard go_* and process_* ones.
func wantFamilies(t *testing.T, fams map[string]*dto.MetricFamily) {
	t.Helper()
	for name, typ := range map[string]dto.MetricType{
		"herald_http_request_duration_seconds": dto.MetricType_HISTOGRAM,
		"herald_delivery_attempts_total":       dto.MetricType_COUNTER,
		"herald_delivery_queue_depth":          dto.MetricType_GAUGE,
		"herald_delivery_oldest_due_seconds":   dto.MetricType_GAUGE,
		"herald_public_snapshot_builds_total":  dto.MetricType_COUNTER,
		"go_goroutines":                        dto.MetricType_GAUGE,
		"go_memstats_heap_alloc_bytes":         dto.MetricType_GAUGE,
		"go_gc_duration_seconds":               dto.MetricType_SUMMARY,
		"go_info":                              dto.MetricType_GAUGE,
		"process_cpu_seconds_total":            dto.MetricType_COUNTER,
		"process_resident_memory_bytes":        dto.MetricType_GAUGE,
		"process_open_fds":                     dto.MetricType_GAUGE,
		"process_start_time_seconds":           dto.MetricType_GAUGE,
	} {
		f := fams[name]
		if f == nil {
			t.Errorf("no %s family", name)
			continue
		}
		if f.GetType() != typ {
			t.Errorf("%s is a %s, want %s", name, f.GetType(), typ)
		}
		if len(f.GetMetric()) == 0 {
			t.Errorf("%s has no samples", name)
		}
	}
}

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
		status, header, body := scrape(t, s, "")
		if status != 200 || !strings.HasPrefix(header.Get("Content-Type"), "text/plain; version=0.0.4") || header.Get("Cache-Control") != "no-store" {
			t.Fatalf("GET /metrics: %d %s %q", status, header.Get("Content-Type"), header.Get("Cache-Control"))
		}
		fams := parseMetrics(t, body)
		wantFamilies(t, fams)
		if m := sample(fams, "herald_http_request_duration_seconds", map[string]string{"method": "GET", "route": "/", "code": "200"}); m == nil || m.GetHistogram().GetSampleCount() != 1 {
			t.Errorf("GET / 200 observed %v, want once", m)
		} else if bs := m.GetHistogram().GetBucket(); len(bs) != 13 || bs[0].GetUpperBound() != 0.001 || bs[11].GetUpperBound() != 10 || !math.IsInf(bs[12].GetUpperBound(), 1) {
			t.Errorf("request histogram buckets %v, want Herald's twelve from 1 ms to 10 s and +Inf", bs)
		}
		if m := sample(fams, "herald_http_request_duration_seconds", map[string]string{"method": "GET", "route": "/incidents/:id", "code": "404"}); m == nil || m.GetHistogram().GetSampleCount() != 1 {
			t.Errorf("GET /incidents/:id 404 observed %v, want once by route pattern", m)
		}
		if m := sample(fams, "herald_delivery_attempts_total", map[string]string{"outcome": "delivered"}); m == nil || m.GetCounter().GetValue() != 1 {
			t.Errorf("delivered attempts %v, want 1", m)
		}
		for _, o := range []string{"retrying", "failed", "rate_limited"} {
			if m := sample(fams, "herald_delivery_attempts_total", map[string]string{"outcome": o}); m == nil || m.GetCounter().GetValue() != 0 {
				t.Errorf("%s attempts %v, want 0", o, m)
			}
		}
		if m := sample(fams, "herald_delivery_queue_depth", map[string]string{}); m == nil || m.GetGauge().GetValue() != 0 {
			t.Errorf("queue depth %v, want 0", m)
		}
		// The scrape itself is timed on the next scrape.
		_, _, body = scrape(t, s, "")
		if m := sample(parseMetrics(t, body), "herald_http_request_duration_seconds", map[string]string{"method": "GET", "route": "/metrics", "code": "200"}); m == nil || m.GetHistogram().GetSampleCount() != 1 {
			t.Errorf("GET /metrics observed %v, want once", m)
		}
	})
}

// TestMetricsToken: with HERALD_METRICS_TOKEN set, /metrics answers only
// a scrape carrying it as a bearer token; without it stays public (above).
func TestMetricsToken(t *testing.T) {
	const token = "scrape-0123456789abcdef"
	for _, e := range modelstest.Engines {
		t.Run(string(e), func(t *testing.T) {
			s := webtest.StartWith(t, webtest.Options{Engine: e, Configure: func(c *web.Config) { c.MetricsToken = token }})
			for _, auth := range []string{"", "Bearer", "Bearer ", "Bearer wrong-0123456789abcdef", "Basic " + token, token, "Bearer " + token + "x", "Bearer " + token[:len(token)-1]} {
				status, header, body := scrape(t, s, auth)
				if status != http.StatusUnauthorized || !strings.HasPrefix(header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("Authorization %q: %d %q, want 401 with a Bearer challenge", auth, status, header.Get("WWW-Authenticate"))
				}
				if strings.Contains(body, "herald_") || strings.Contains(body, "go_") {
					t.Errorf("Authorization %q: refused answer shows metrics:\n%s", auth, body)
				}
			}
			for _, auth := range []string{"Bearer " + token, "bearer " + token} {
				status, _, body := scrape(t, s, auth)
				if status != http.StatusOK {
					t.Fatalf("Authorization %q: %d, want 200\n%s", auth, status, body)
				}
				wantFamilies(t, parseMetrics(t, body))
			}
			// The refused scrapes were counted like any request.
			_, _, body := scrape(t, s, "Bearer "+token)
			if m := sample(parseMetrics(t, body), "herald_http_request_duration_seconds", map[string]string{"method": "GET", "route": "/metrics", "code": "401"}); m == nil || m.GetHistogram().GetSampleCount() != 8 {
				t.Errorf("refused scrapes observed %v, want 8", m)
			}
		})
	}
}
