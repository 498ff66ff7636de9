package main

import (
	"log/slog"
	"net/http"
	"net/http/pprof"

	"github.com/driftback/driftback/internal/httpserve"
)

// servePprof serves Go's profiles (/debug/pprof/) on addr, a listener of
// its own so that it is never on the metrics port Prometheus scrapes: it is
// off unless --pprof-addr is given. Profiles hold stack traces and
// allocation sizes, not the bytes of captured fields or credentials; bind it
// to localhost (127.0.0.1:6060) and reach it with kubectl port-forward.
func servePprof(addr string) (stop func(), bound string, err error) {
	if addr == "" {
		return func() {}, "", nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	stop, bound, err = httpserve.Start(addr, "--pprof-addr", mux)
	if err != nil {
		return nil, "", err
	}
	slog.Info("serving Go profiles at /debug/pprof/", "addr", bound)
	return stop, bound, nil
}
