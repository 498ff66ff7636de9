package main

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// runProc is a `driftback run` running in process until stopped.
type runProc struct {
	cancel  context.CancelFunc
	done    chan error
	url     string // http://host:port of the metrics server
	logs    *syncBuffer
	stopped bool
}

// syncBuffer collects the logs of a run read by the test while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startRun starts `driftback run` with args and a free metrics port; it is
// stopped (as by SIGTERM) when the test ends, and its logs are printed if
// the test failed.
func startRun(t *testing.T, args ...string) *runProc {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	p := &runProc{cancel: cancel, done: make(chan error, 1), url: "http://" + addr, logs: &syncBuffer{}}
	cmd := newRootCmd()
	cmd.SetArgs(append([]string{"--kubeconfig", kubeconfig, "run", "--metrics-addr", addr}, args...))
	cmd.SetOut(p.logs)
	cmd.SetErr(p.logs)
	go func() { p.done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("driftback run %v logs:\n%s", args, p.logs.String())
		}
	})
	return p
}

// stop cancels the run and waits for it to flush and return.
func (p *runProc) stop(t *testing.T) {
	t.Helper()
	if p.stopped {
		return
	}
	p.stopped = true
	p.cancel()
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("driftback run returned %v", err)
		}
	case <-time.After(time.Minute):
		t.Errorf("driftback run did not stop within a minute of its context ending")
	}
}

// running fails the test if the run has returned.
func (p *runProc) running(t *testing.T) {
	t.Helper()
	select {
	case err := <-p.done:
		p.stopped = true
		t.Fatalf("driftback run exited: %v", err)
	default:
	}
	if code := httpStatus(t, p.url+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz = %d", code)
	}
}

func httpStatus(t testing.TB, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// metric scrapes /metrics and returns the value of the series written
// exactly as name (with its labels, e.g. `x_total{reason="build"}`), or -1.
// metricSum adds up every series of the metric name, whatever its labels
// (-1 when the metric is absent).
func (p *runProc) metricSum(t testing.TB, name string) float64 {
	t.Helper()
	resp, err := http.Get(p.url + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sum, found := 0.0, false
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		series, value, ok := strings.Cut(sc.Text(), " ")
		if n, _, _ := strings.Cut(series, "{"); !ok || n != name {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("metric %s: %v", series, err)
		}
		sum, found = sum+v, true
	}
	if !found {
		return -1
	}
	return sum
}

func (p *runProc) metric(t testing.TB, series string) float64 {
	t.Helper()
	resp, err := http.Get(p.url + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if ok && name == series {
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				t.Fatalf("metric %s: %v", series, err)
			}
			return v
		}
	}
	return -1
}

// eventually polls cond every 50 ms until it holds or the deadline passes;
// cond returns what it saw, for the failure message.
func eventually(t testing.TB, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, saw := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s; last seen: %s", within, what, saw)
		}
		time.Sleep(50 * time.Millisecond) // polling interval, not synchronization
	}
}
