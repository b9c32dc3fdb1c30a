package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/revloop/revloop/internal/store"
)

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
