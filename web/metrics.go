package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/notify"
	"github.com/heraldstatus/herald/public"
	"github.com/labstack/echo/v4"
)

// buckets are the upper bounds, in seconds, of the request histogram.
var buckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type histKey struct {
	method, route, code string
}

type histogram struct {
	counts []uint64 // per bucket, not cumulative
	sum    float64
	total  uint64
}

// metrics serves GET /metrics in the Prometheus text format (SPEC §2):
// request durations, delivery attempts by outcome, the delivery queue and
// the public snapshot.
type metrics struct {
	store  *models.Store
	engine *notify.Engine // nil when this process sends nothing
	public *public.Manager

	mu   sync.Mutex
	hist map[histKey]*histogram
}

func newMetrics(store *models.Store, engine *notify.Engine, pub *public.Manager) *metrics {
	return &metrics{store: store, engine: engine, public: pub, hist: map[histKey]*histogram{}}
}

// middleware times every request by route pattern, so ids in paths do not
// multiply the series.
func (m *metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		status := c.Response().Status
		if he, ok := err.(*echo.HTTPError); ok && !c.Response().Committed {
			status = he.Code
		}
		m.observe(histKey{c.Request().Method, route, strconv.Itoa(status)}, time.Since(start).Seconds())
		return err
	}
}

func (m *metrics) observe(k histKey, seconds float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.hist[k]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(buckets)+1)}
		m.hist[k] = h
	}
	i, _ := slices.BinarySearch(buckets, seconds)
	h.counts[i]++
	h.sum += seconds
	h.total++
}

func (m *metrics) handler(c echo.Context) error {
	var b strings.Builder
	m.writeRequests(&b)
	if m.engine != nil {
		a := m.engine.Attempts()
		b.WriteString("# HELP herald_delivery_attempts_total Notification attempts recorded by this process, by outcome.\n")
		b.WriteString("# TYPE herald_delivery_attempts_total counter\n")
		fmt.Fprintf(&b, "herald_delivery_attempts_total{outcome=\"delivered\"} %d\n", a.Delivered)
		fmt.Fprintf(&b, "herald_delivery_attempts_total{outcome=\"retrying\"} %d\n", a.Retrying)
		fmt.Fprintf(&b, "herald_delivery_attempts_total{outcome=\"failed\"} %d\n", a.Failed)
		fmt.Fprintf(&b, "herald_delivery_attempts_total{outcome=\"rate_limited\"} %d\n", a.RateLimited)
	}
	q, err := m.store.DeliveryQueue(c.Request().Context())
	if err != nil {
		return err
	}
	b.WriteString("# HELP herald_delivery_queue_depth Deliveries due now, across all replicas.\n")
	b.WriteString("# TYPE herald_delivery_queue_depth gauge\n")
	fmt.Fprintf(&b, "herald_delivery_queue_depth %d\n", q.Due)
	b.WriteString("# HELP herald_delivery_oldest_due_seconds How long the oldest due delivery has waited.\n")
	b.WriteString("# TYPE herald_delivery_oldest_due_seconds gauge\n")
	fmt.Fprintf(&b, "herald_delivery_oldest_due_seconds %g\n", q.OldestDue.Seconds())
	b.WriteString("# HELP herald_public_snapshot_builds_total Rebuilds of the public snapshot by this process.\n")
	b.WriteString("# TYPE herald_public_snapshot_builds_total counter\n")
	fmt.Fprintf(&b, "herald_public_snapshot_builds_total %d\n", m.public.Builds())
	if snap := m.public.Peek(); snap != nil {
		b.WriteString("# HELP herald_public_snapshot_build_seconds How long the latest rebuild took.\n")
		b.WriteString("# TYPE herald_public_snapshot_build_seconds gauge\n")
		fmt.Fprintf(&b, "herald_public_snapshot_build_seconds %g\n", snap.Took.Seconds())
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "text/plain; version=0.0.4; charset=utf-8", []byte(b.String()))
}

func (m *metrics) writeRequests(b *strings.Builder) {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([]histKey, 0, len(m.hist))
	for k := range m.hist {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b histKey) int {
		return strings.Compare(a.route+" "+a.method+" "+a.code, b.route+" "+b.method+" "+b.code)
	})
	b.WriteString("# HELP herald_http_request_duration_seconds Time to answer HTTP requests, by method, route and status.\n")
	b.WriteString("# TYPE herald_http_request_duration_seconds histogram\n")
	for _, k := range keys {
		h := m.hist[k]
		labels := fmt.Sprintf("method=%q,route=%q,code=%q", k.method, k.route, k.code)
		var cum uint64
		for i, le := range buckets {
			cum += h.counts[i]
			fmt.Fprintf(b, "herald_http_request_duration_seconds_bucket{%s,le=\"%g\"} %d\n", labels, le, cum)
		}
		fmt.Fprintf(b, "herald_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %d\n", labels, h.total)
		fmt.Fprintf(b, "herald_http_request_duration_seconds_sum{%s} %g\n", labels, h.sum)
		fmt.Fprintf(b, "herald_http_request_duration_seconds_count{%s} %d\n", labels, h.total)
	}
}
