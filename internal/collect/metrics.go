package collect

import (
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	rejected   *prometheus.CounterVec
	events     *prometheus.CounterVec
	bots       prometheus.Counter
	commits    *prometheus.CounterVec
	commitTime prometheus.Histogram
	groupSize  prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "revloop_collector_rejected_total",
			Help: "Requests the collector refused, by reason.",
		}, []string{"reason"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "revloop_collector_events_total",
			Help: "Events taken by the collector: stored (new), duplicate (a retry of a stored message) or suppressed (dropped: it named a suppressed identifier).",
		}, []string{"outcome"}),
		bots: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "revloop_collector_bot_events_total",
			Help: "Accepted events flagged as sent by a bot (stored with bot=true).",
		}),
		commits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "revloop_collector_commits_total",
			Help: "Group commits, by result (ok or error).",
		}, []string{"result"}),
		commitTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "revloop_collector_commit_duration_seconds",
			Help:    "Time to write one group commit.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		groupSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "revloop_collector_commit_events",
			Help:    "Events written per group commit.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
	}
	for _, r := range reasons {
		m.rejected.WithLabelValues(r)
	}
	for _, c := range []prometheus.Collector{m.rejected, m.events, m.bots, m.commits, m.commitTime, m.groupSize} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
