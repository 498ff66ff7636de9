package gitsync

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics of one Repo; the caller registers them (Repo.Collectors).
type metrics struct {
	mu           sync.Mutex
	pendingSince time.Time
	now          func() time.Time
	failures     prometheus.Counter
	pending      prometheus.GaugeFunc
	push         prometheus.Histogram
}

func newMetrics(now func() time.Time) *metrics {
	m := &metrics{now: now}
	m.failures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "driftback_git_push_failures_total",
		Help: "Attempts to fetch and push that failed (rejected, declined or unreachable server).",
	})
	m.pending = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "driftback_git_pending_seconds",
		Help: "Age of the oldest change not yet pushed; 0 when Git holds everything.",
	}, m.pendingSeconds)
	m.push = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "driftback_git_push_duration_seconds",
		Help:    "Duration of each push to the Git server, failed ones included.",
		Buckets: prometheus.ExponentialBuckets(0.05, 2, 12), // 50 ms to ~100 s
	})
	return m
}

func (m *metrics) pendingSeconds() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pendingSince.IsZero() {
		return 0
	}
	return m.now().Sub(m.pendingSince).Seconds()
}

// markPending notes that a change waits, keeping the oldest time.
func (m *metrics) markPending() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pendingSince.IsZero() {
		m.pendingSince = m.now()
	}
}

func (m *metrics) clearPending() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pendingSince = time.Time{}
}

// Collectors are the Repo's metrics, for a prometheus.Registerer:
// driftback_git_pending_seconds, driftback_git_push_failures_total and
// driftback_git_push_duration_seconds.
func (r *Repo) Collectors() []prometheus.Collector {
	return []prometheus.Collector{r.metrics.failures, r.metrics.pending, r.metrics.push}
}

// PendingSince is when the oldest change not yet pushed was handed to
// Publish; zero when there is none.
func (r *Repo) PendingSince() time.Time {
	r.metrics.mu.Lock()
	defer r.metrics.mu.Unlock()
	return r.metrics.pendingSince
}
