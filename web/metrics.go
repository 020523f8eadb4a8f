package web

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/notify"
	"github.com/heraldstatus/herald/public"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// buckets are the upper bounds, in seconds, of the request histogram.
var buckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// metrics serves GET /metrics in the Prometheus text format (SPEC §2):
// request durations, delivery attempts by outcome, the delivery queue, the
// public snapshot, and the standard go_* and process_* families, through
// the Prometheus client library. Each server has its own registry, so two
// servers in one process (as in the tests) do not share series.
type metrics struct {
	store    *models.Store
	engine   *notify.Engine // nil when this process sends nothing
	public   *public.Manager
	token    string // bearer token the scrape must carry; empty: public
	reg      *prometheus.Registry
	requests *prometheus.HistogramVec
}

func newMetrics(store *models.Store, engine *notify.Engine, pub *public.Manager, token string) *metrics {
	m := &metrics{store: store, engine: engine, public: pub, token: token, reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "herald_http_request_duration_seconds",
		Help:    "Time to answer HTTP requests, by method, route and status.",
		Buckets: buckets,
	}, []string{"method", "route", "code"})
	m.reg.MustRegister(
		m.requests,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
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
		m.requests.WithLabelValues(c.Request().Method, route, strconv.Itoa(status)).Observe(time.Since(start).Seconds())
		return err
	}
}

// authorized tells whether the scrape may read the metrics: always when
// no token is configured, else only with "Authorization: Bearer <token>".
func (m *metrics) authorized(r *http.Request) bool {
	if m.token == "" {
		return true
	}
	scheme, given, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(given)), []byte(m.token)) == 1
}

func (m *metrics) handler(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	if !m.authorized(c.Request()) {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
		return c.String(http.StatusUnauthorized, "401 Unauthorized: /metrics needs \"Authorization: Bearer\" with HERALD_METRICS_TOKEN.\n")
	}
	// The queue is read here, with the request's deadline, rather than in
	// a collector, which has no context: a database outage answers 503.
	q, err := m.store.DeliveryQueue(c.Request().Context())
	if err != nil {
		return err
	}
	state := prometheus.NewRegistry()
	state.MustRegister(&stateCollector{engine: m.engine, public: m.public, queue: q})
	h := promhttp.HandlerFor(prometheus.Gatherers{m.reg, state}, promhttp.HandlerOpts{})
	h.ServeHTTP(c.Response(), c.Request())
	return nil
}

var (
	attemptsDesc = prometheus.NewDesc("herald_delivery_attempts_total",
		"Notification attempts recorded by this process, by outcome.", []string{"outcome"}, nil)
	queueDesc = prometheus.NewDesc("herald_delivery_queue_depth",
		"Deliveries due now, across all replicas.", nil, nil)
	oldestDesc = prometheus.NewDesc("herald_delivery_oldest_due_seconds",
		"How long the oldest due delivery has waited.", nil, nil)
	buildsDesc = prometheus.NewDesc("herald_public_snapshot_builds_total",
		"Rebuilds of the public snapshot by this process.", nil, nil)
	buildSecondsDesc = prometheus.NewDesc("herald_public_snapshot_build_seconds",
		"How long the latest rebuild took.", nil, nil)
	pageBuildsDesc = prometheus.NewDesc("herald_public_snapshot_page_builds_total",
		"Rebuilds of one page's public snapshot by this process, for the pages it keeps in memory.", []string{"page_id"}, nil)
	pageBuildSecondsDesc = prometheus.NewDesc("herald_public_snapshot_page_build_seconds",
		"How long the latest rebuild of one page's public snapshot took, for the pages this process keeps in memory.", []string{"page_id"}, nil)
)

// stateCollector reports values Herald already keeps elsewhere (the
// engine's counters, the queue read for this scrape, the snapshot) as
// they are at the scrape.
type stateCollector struct {
	engine *notify.Engine
	public *public.Manager
	queue  models.QueueStats
}

func (s *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	prometheus.DescribeByCollect(s, ch)
}

func (s *stateCollector) Collect(ch chan<- prometheus.Metric) {
	if s.engine != nil {
		a := s.engine.Attempts()
		for _, o := range []struct {
			outcome string
			n       int64
		}{{"delivered", a.Delivered}, {"retrying", a.Retrying}, {"failed", a.Failed}, {"rate_limited", a.RateLimited}} {
			ch <- prometheus.MustNewConstMetric(attemptsDesc, prometheus.CounterValue, float64(o.n), o.outcome)
		}
	}
	ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(s.queue.Due))
	ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, s.queue.OldestDue.Seconds())
	ch <- prometheus.MustNewConstMetric(buildsDesc, prometheus.CounterValue, float64(s.public.Builds()))
	if snap := s.public.Peek(models.DefaultPageID); snap != nil {
		ch <- prometheus.MustNewConstMetric(buildSecondsDesc, prometheus.GaugeValue, snap.Took.Seconds())
	}
	for _, id := range s.public.PageIDs() {
		page := strconv.FormatInt(id, 10)
		ch <- prometheus.MustNewConstMetric(pageBuildsDesc, prometheus.CounterValue, float64(s.public.PageBuilds(id)), page)
		if snap := s.public.Peek(id); snap != nil {
			ch <- prometheus.MustNewConstMetric(pageBuildSecondsDesc, prometheus.GaugeValue, snap.Took.Seconds(), page)
		}
	}
}
