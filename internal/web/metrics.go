package web

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/revloop/revloop/internal/store"
)

// metrics is one Server's Prometheus registry: private, so that two servers
// in one process (tests) never share or collide.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(version string) *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "revloop_http_requests_total",
			Help: "HTTP requests served, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "revloop_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by route pattern, method and status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "code"}),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "revloop_build_info",
		Help:        "Always 1; the version label says which revloop runs.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	build.Set(1)
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.duration, build,
	)
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

func (m *metrics) observe(route, method string, code int, d time.Duration) {
	c := strconv.Itoa(code)
	m.requests.WithLabelValues(route, method, c).Inc()
	m.duration.WithLabelValues(route, method, c).Observe(d.Seconds())
}

// methodLabel keeps the method label to the standard methods, so that a
// client sending made-up methods cannot grow the label set.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// backlogCollector reports the processing backlog when /metrics is scraped:
// one indexed query per scrape (store.ProcessingBacklog), nothing kept
// between scrapes, so the figures are never staler than the scrape itself.
type backlogCollector struct {
	store  *store.Store
	log    *slog.Logger
	now    func() time.Time
	events *prometheus.Desc
	oldest *prometheus.Desc
}

func newBacklogCollector(s *store.Store, log *slog.Logger) *backlogCollector {
	return &backlogCollector{store: s, log: log, now: time.Now,
		events: prometheus.NewDesc("revloop_processing_backlog_events",
			"Events stored and not yet processed into persons and touchpoints.", nil, nil),
		oldest: prometheus.NewDesc("revloop_processing_backlog_oldest_seconds",
			"Seconds since the oldest unprocessed event was received; 0 when none waits.", nil, nil),
	}
}

func (b *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- b.events
	ch <- b.oldest
}

func (b *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	bl, err := b.store.ProcessingBacklog(ctx)
	if err != nil {
		// Left out of this scrape rather than failing it: the other
		// metrics matter most when the database is in trouble.
		b.log.Warn("metrics: processing backlog not read", "err", err)
		return
	}
	age := 0.0
	if bl.Oldest != nil {
		age = max(0, b.now().Sub(*bl.Oldest).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(b.events, prometheus.GaugeValue, float64(bl.Events))
	ch <- prometheus.MustNewConstMetric(b.oldest, prometheus.GaugeValue, age)
}
