package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// DRIFTBACK_BENCH_PROFILE names a directory: driftback runs with
// --pprof-addr and a CPU profile of it is taken over each mutation window
// (<objects>k-<window>.cpu.pprof), for `go tool pprof`, and the log of a
// start (<objects>k-<side>-first.log; with GODEBUG=gctrace=1 the
// collector's trace) is kept. Unset: no profiler is served and none is
// taken, so the figures are those of a plain run.
func profileDir() string { return os.Getenv("DRIFTBACK_BENCH_PROFILE") }

var pprofAddrLine = regexp.MustCompile(`msg="serving Go profiles at /debug/pprof/" addr=(\S+)`)

// pprofAddr waits for driftback's log line naming its profile address.
func (d *runningDriftback) pprofAddr(b testing.TB) string {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if m := pprofAddrLine.FindStringSubmatch(d.logs.String()); m != nil {
			return m[1]
		}
		time.Sleep(50 * time.Millisecond) // polling interval, not synchronisation
	}
	b.Fatalf("driftback did not log its --pprof-addr within a minute:\n%s", tail(d.logs.String(), 2000))
	return ""
}

// cpuProfile starts a CPU profile of length over driftback's pprof
// endpoint and returns a function that waits for it and writes it to
// dir/name.cpu.pprof.
func (d *runningDriftback) cpuProfile(b testing.TB, dir, name string, length time.Duration) (wait func()) {
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", d.pprofAddr(b), int(length.Seconds()))
	done := make(chan error, 1)
	go func() {
		resp, err := http.Get(url)
		if err != nil {
			done <- err
			return
		}
		defer resp.Body.Close()
		f, err := os.Create(filepath.Join(dir, name+".cpu.pprof"))
		if err != nil {
			done <- err
			return
		}
		_, err = io.Copy(f, resp.Body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	return func() {
		if err := <-done; err != nil {
			b.Fatalf("CPU profile %s: %v", name, err)
		}
	}
}

var metricsAddrLine = regexp.MustCompile(`msg="serving /metrics, /healthz and /readyz" addr=(\S+)`)

// saveState writes, when profiles are on, what driftback is doing now to
// dir/name.goroutines.txt (every goroutine's stack) and its metrics to
// dir/name.metrics.txt: for a run whose mutations stopped reaching Git.
func (d *runningDriftback) saveState(b testing.TB, dir, name string) {
	get := func(url, file string) {
		resp, err := http.Get(url)
		if err != nil {
			b.Logf("%s: %v", url, err)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if err := os.WriteFile(filepath.Join(dir, file), body, 0o644); err != nil {
			b.Log(err)
			return
		}
		b.Logf("wrote %s", filepath.Join(dir, file))
	}
	get("http://"+d.pprofAddr(b)+"/debug/pprof/goroutine?debug=2", name+".goroutines.txt")
	if m := metricsAddrLine.FindStringSubmatch(d.logs.String()); m != nil {
		get("http://"+m[1]+"/metrics", name+".metrics.txt")
	}
}
