package main

import (
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var failoverRun atomic.Int32

// BenchmarkLeaderFailover measures kill -9 of the leader → the standby
// leads, with the lease timings the tests use (lease 4s, renew 3s, retry
// 500ms; the Deployment's 15s/10s/2s scale alike): the bound is lease +
// retry. Reported: p50 and max over b.N failovers.
func BenchmarkLeaderFailover(b *testing.B) {
	var took []time.Duration
	for i := 0; i < b.N; i++ {
		took = append(took, failoverOnce(b))
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	b.ReportMetric(float64(took[len(took)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(took[len(took)-1].Milliseconds()), "max-ms")
}

func failoverOnce(b *testing.B) time.Duration {
	b.StopTimer()
	name := fmt.Sprintf("ha-bench-%d", failoverRun.Add(1))
	url, repoDir, cfg := followSetup(b, name)
	args := []string{"--config", cfg, "--repo", url, "--debounce", "200ms", "--leader-elect",
		"--leader-election-namespace", "default", "--leader-election-lease-duration", "4s",
		"--leader-election-renew-deadline", "3s", "--leader-election-retry-period", "500ms"}
	reps := []*replica{startReplica(b, args...), startReplica(b, args...)}
	waitForFiles(b, repoDir, "driftback/"+name, "the first commit", func(f map[string]string) bool { return len(f) > 0 })
	var leader, standby *replica
	eventually(b, waitTime, "one leader", func() (bool, string) {
		a, c := reps[0].metric(b, "driftback_leader"), reps[1].metric(b, "driftback_leader")
		switch {
		case a == 1 && c == 0:
			leader, standby = reps[0], reps[1]
		case a == 0 && c == 1:
			leader, standby = reps[1], reps[0]
		default:
			return false, fmt.Sprint(a, c)
		}
		return true, ""
	})
	// Let the standby observe a renewal, as in a steady state.
	eventually(b, waitTime, "the standby is ready", func() (bool, string) {
		return strings.Contains(body(standby.url+"/readyz"), "standby"), "not yet"
	})
	b.StartTimer()
	start := time.Now()
	if err := leader.cmd.Process.Kill(); err != nil {
		b.Fatal(err)
	}
	eventually(b, waitTime, "the standby leads", func() (bool, string) {
		return standby.metric(b, "driftback_leader") == 1, "not yet"
	})
	took := time.Since(start)
	b.StopTimer()
	_ = standby.cmd.Process.Kill()
	return took
}
