package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/driftback/driftback/capture/live"
)

// serveMetrics listens on addr (synchronously, so a taken port fails the
// start) and serves /metrics, /healthz and /readyz until the returned stop
// is called. ready reports whether the caches synced and the first publish
// was tried.
func serveMetrics(addr string, m *runMetrics, ready func() bool, detail func() string) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
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
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("metrics server stopped", "err", err)
		}
	}()
	slog.Info("serving /metrics, /healthz and /readyz", "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// unlistedDetail names each watched resource that cannot be listed, for
// /readyz: a stalled or partial record must say why, not only answer 503.
func unlistedDetail(unlisted []live.Unlisted) string {
	var b strings.Builder
	for _, u := range unlisted {
		fmt.Fprintf(&b, "unlisted: %s/%s (%s) since %s", u.Resource.GVR.GroupResource(), u.Resource.GVR.Version, u.Resource.Kind, u.Since.UTC().Format(time.RFC3339))
		if u.Err != nil {
			fmt.Fprintf(&b, ": %v", u.Err)
		}
		b.WriteString("; its recorded state is kept, not updated\n")
	}
	return b.String()
}
