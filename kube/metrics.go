package kube

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/util/workqueue"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// client-go reports its REST client and work queue metrics through
// process-wide hooks that can be set once. controller-runtime's metrics
// package sets the REST client hook when imported (rest_client_requests_total,
// and the latency histogram enabled below); its work queue provider is
// internal to it, so the provider is the few lines below, with the metric
// names kube-controller-manager and controller-runtime export.
var registerOnce sync.Once

// ClientMetrics installs the hooks (once per process) and returns the
// gatherer that holds client-go's metrics, for /metrics next to driftback's
// own registry.
func ClientMetrics() prometheus.Gatherer {
	registerOnce.Do(func() {
		ctrlmetrics.RegisterRESTClientMetrics(ctrlmetrics.MetricRequestLatency, ctrlmetrics.MetricRateLimiterLatency)
		ctrlmetrics.Registry.MustRegister(queueDepth, queueAdds, queueLatency, queueWork, queueUnfinished, queueLongest, queueRetries)
		workqueue.SetProvider(queueMetrics{})
	})
	return ctrlmetrics.Registry
}

var (
	queueDepth = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Subsystem: "workqueue", Name: "depth", Help: "Current depth of the work queue.",
	}, []string{"name"})
	queueAdds = prometheus.NewCounterVec(prometheus.CounterOpts{
		Subsystem: "workqueue", Name: "adds_total", Help: "Adds handled by the work queue.",
	}, []string{"name"})
	queueLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Subsystem: "workqueue", Name: "queue_duration_seconds", Help: "How long an item stays in the work queue before it is taken.",
		Buckets: prometheus.ExponentialBuckets(10e-9, 10, 12),
	}, []string{"name"})
	queueWork = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Subsystem: "workqueue", Name: "work_duration_seconds", Help: "How long processing an item takes (for driftback: one publish).",
		Buckets: prometheus.ExponentialBuckets(10e-9, 10, 12),
	}, []string{"name"})
	queueUnfinished = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Subsystem: "workqueue", Name: "unfinished_work_seconds", Help: "Seconds of work in progress not yet observed by work_duration; a large value means a stuck worker.",
	}, []string{"name"})
	queueLongest = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Subsystem: "workqueue", Name: "longest_running_processor_seconds", Help: "Seconds the longest running processor of the queue has been running.",
	}, []string{"name"})
	queueRetries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Subsystem: "workqueue", Name: "retries_total", Help: "Retries handled by the work queue (failed publishes retried with backoff).",
	}, []string{"name"})
)

// queueMetrics is client-go's workqueue.MetricsProvider over the vectors
// above, labelled by queue name.
type queueMetrics struct{}

func (queueMetrics) NewDepthMetric(n string) workqueue.GaugeMetric {
	return queueDepth.WithLabelValues(n)
}
func (queueMetrics) NewAddsMetric(n string) workqueue.CounterMetric {
	return queueAdds.WithLabelValues(n)
}
func (queueMetrics) NewLatencyMetric(n string) workqueue.HistogramMetric {
	return queueLatency.WithLabelValues(n)
}
func (queueMetrics) NewWorkDurationMetric(n string) workqueue.HistogramMetric {
	return queueWork.WithLabelValues(n)
}
func (queueMetrics) NewUnfinishedWorkSecondsMetric(n string) workqueue.SettableGaugeMetric {
	return queueUnfinished.WithLabelValues(n)
}
func (queueMetrics) NewLongestRunningProcessorSecondsMetric(n string) workqueue.SettableGaugeMetric {
	return queueLongest.WithLabelValues(n)
}
func (queueMetrics) NewRetriesMetric(n string) workqueue.CounterMetric {
	return queueRetries.WithLabelValues(n)
}
