package main

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/driftback/driftback/capture/live"
)

// runMetrics are what `driftback run` exports on /metrics. Each run has its
// own registry, so several runs in one process (tests) do not collide.
type runMetrics struct {
	registry *prometheus.Registry
	commits  prometheus.Counter
	// refused counts commits a safety rule refused, by reason: identity,
	// mass-deletion or build.
	refused *prometheus.CounterVec
	errors  prometheus.Counter
	// blocked is 1 while the last publish was refused by a safety rule:
	// Git no longer follows the cluster until someone looks.
	blocked    prometheus.Gauge
	lastCommit prometheus.Gauge
}

// newRunMetrics registers run's metrics, the watcher's counts and extra
// collectors (gitsync's).
func newRunMetrics(ctl *live.Controller, extra ...prometheus.Collector) *runMetrics {
	w := ctl.Watcher()
	m := &runMetrics{
		registry: prometheus.NewRegistry(),
		commits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "driftback_commits_total", Help: "Commits pushed to the Git branch.",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "driftback_commits_refused_total", Help: "Commits refused by a safety rule, by reason (identity, mass-deletion, build).",
		}, []string{"reason"}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "driftback_publish_errors_total", Help: "Publishes that failed for another reason (Git unreachable, push rejected too often).",
		}),
		blocked: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "driftback_publish_blocked", Help: "1 while a safety rule refuses to commit the live state; see docs/run.md to confirm.",
		}),
		lastCommit: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "driftback_last_commit_timestamp_seconds", Help: "Unix time of the last pushed commit.",
		}),
	}
	for _, r := range []string{refusedIdentity, refusedMassDeletion, refusedBuild} {
		m.refused.WithLabelValues(r) // export zeros, so alerts can use rate()
	}
	stat := func(f func(live.Stats) int) func() float64 {
		return func() float64 { return float64(f(w.Stats())) }
	}
	m.registry.MustRegister(
		m.commits, m.refused, m.errors, m.blocked, m.lastCommit,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "driftback_publish_pending", Help: "1 while changes seen in the cluster are not in Git yet."},
			func() float64 {
				if ctl.Pending() {
					return 1
				}
				return 0
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "driftback_watched_resources", Help: "API resources watched."},
			stat(func(s live.Stats) int { return s.Resources })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "driftback_watched_resources_metadata_only", Help: "API resources watched with metadata only."},
			stat(func(s live.Stats) int { return s.MetadataOnly })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "driftback_watched_objects", Help: "Objects in the watch caches."},
			stat(func(s live.Stats) int { return s.Objects })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "driftback_captured_objects", Help: "Objects with runtime state kept in Git."},
			stat(func(s live.Stats) int { return s.Captured })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "driftback_unlisted_resources", Help: "Watched API resources that cannot be listed in full (e.g. a CRD whose conversion webhook is down); their recorded state is kept, not updated. /readyz names them."},
			stat(func(s live.Stats) int { return s.Unlisted })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftback_list_failures_total", Help: "List and watch failures of watched API resources."},
			stat(func(s live.Stats) int { return s.ListFailures })),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "driftback_build_info", Help: "Always 1; the labels say which driftback runs.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
	})
	build.Set(1)
	m.registry.MustRegister(build)
	m.registry.MustRegister(extra...)
	return m
}
