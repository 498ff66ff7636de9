package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/driftback/driftback/internal/httpserve"
	"github.com/driftback/driftback/kube"
)

// serveProbes serves /metrics (the collectors given, Go and process series,
// driftback_build_info, and client-go's REST client and work queue series),
// /healthz and /readyz on addr until stop is called. ready reports whether
// the caches synced and the first publish was tried; detail says why not,
// and whether this replica writes. Each run has its own registry, so
// several runs in one process (tests) do not collide.
func serveProbes(addr string, ready func() bool, detail func() string, cs ...prometheus.Collector) (stop func(), err error) {
	reg := prometheus.NewRegistry()
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "driftback_build_info", Help: "Always 1; the labels say which driftback runs.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
	})
	build.Set(1)
	reg.MustRegister(append(cs, build, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))...)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(prometheus.Gatherers{reg, kube.ClientMetrics()}, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready() {
			http.Error(w, "not ready: watch caches syncing or first publish not tried yet\n"+detail(), http.StatusServiceUnavailable)
			return
		}
		// A standby is ready (its caches are warm, it can take over), and
		// says that it does not publish.
		fmt.Fprintln(w, "ok")
		fmt.Fprintln(w, detail())
	})
	stop, bound, err := httpserve.Start(addr, "--metrics-addr", mux)
	if err != nil {
		return nil, err
	}
	slog.Info("serving /metrics, /healthz and /readyz", "addr", bound)
	return stop, nil
}
