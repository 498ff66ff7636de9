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
// (<objects>k-<window>.cpu.pprof), for `go tool pprof`. Unset: no profiler
// is served and none is taken, so the figures are those of a plain run.
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
