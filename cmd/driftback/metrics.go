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
}

// newRunMetrics registers the watcher's counts and the collectors of the
// writer and of gitsync.
func newRunMetrics(ctl *live.Controller, extra ...prometheus.Collector) *runMetrics {
	w := ctl.Watcher()
	m := &runMetrics{registry: prometheus.NewRegistry()}
	stat := func(f func(live.Stats) int) func() float64 {
		return func() float64 { return float64(f(w.Stats())) }
	}
	m.registry.MustRegister(
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
