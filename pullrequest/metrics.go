package pullrequest

import "github.com/prometheus/client_golang/prometheus"

// Metrics count what the Opener did; register Collectors in the process's
// registry.
type Metrics struct {
	// Errors: driftback_pull_request_errors_total{provider,reason}.
	Errors *prometheus.CounterVec
	// Synced: driftback_pull_requests_total{provider,outcome}.
	Synced *prometheus.CounterVec
	// Pending: driftback_pull_request_pending, 1 while the pull request does
	// not show the last capture yet (being tried again).
	Pending prometheus.Gauge
}

// NewMetrics makes the metrics, with every provider and reason at zero so
// alerts can use rate().
func NewMetrics(provider string) *Metrics {
	m := &Metrics{
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "driftback_pull_request_errors_total",
			Help: "Failed pull request API calls, by provider and reason (unavailable, rate-limited, unauthorized, forbidden, not-found, rejected, other). Captures are pushed regardless.",
		}, []string{"provider", "reason"}),
		Synced: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "driftback_pull_requests_total",
			Help: "Pull request syncs, by provider and outcome (opened, updated, unchanged).",
		}, []string{"provider", "outcome"}),
		Pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "driftback_pull_request_pending",
			Help: "1 while the pull request does not show the last capture yet (it is being tried again).",
		}),
	}
	for _, r := range Reasons {
		m.Errors.WithLabelValues(provider, r)
	}
	for _, o := range []Outcome{Opened, Updated, Unchanged} {
		m.Synced.WithLabelValues(provider, string(o))
	}
	return m
}

// Collectors are the metrics to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.Errors, m.Synced, m.Pending}
}
