package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/driftback/driftback/internal/benchenv"
	"github.com/driftback/driftback/internal/gitserver"
)

// BenchmarkWatchMemory compares, at N objects of a few KiB each, the peak RSS
// and CPU of `driftback run` (until its first commit is pushed) with a bare
// full-object dynamic informer and with the floor, the same informer with a
// transform that keeps only the needed fields (both until synced), and
// driftback's time to its first commit with one paged LIST of the same
// objects. Every side runs in its own process; peak RSS is its ru_maxrss.
// DRIFTBACK_BENCH_OBJECTS (e.g. "10000") overrides the sizes, 10000 and
// 50000; DRIFTBACK_BENCH_SIDES (e.g. "transform,driftback-status") runs only
// the sides named (list, informer, transform, driftback-metadata,
// driftback-status, driftback-status-512Mi: with Go's memory limit a pod of
// manifests/base gets). DRIFTBACK_BENCH_PROFILE=dir: each driftback side runs
// with --pprof-addr and a 40 s CPU profile from its start (past its first
// commit) is written to dir/<objects>k-<side>-first.cpu.pprof; its CPU
// figure then includes the profiler. The whole benchmark runs once; its
// results are metrics and a table in the log.
func BenchmarkWatchMemory(b *testing.B) {
	sizes, err := benchenv.Objects(10000, 50000)
	if err != nil {
		b.Fatal(err)
	}
	sides := map[string]bool{}
	for _, f := range strings.Split(os.Getenv("DRIFTBACK_BENCH_SIDES"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			sides[f] = true
		}
	}
	want := func(side string) bool { return len(sides) == 0 || sides[side] }
	pl := startPlane(b)
	driftback := pl.build(b, "driftback", "./cmd/driftback")
	watchmem := pl.build(b, "watchmem", "./hack/bench/watchmem")
	kubeconfig := pl.kubeconfig

	dyn := pl.unlimitedClient()
	table := []string{"| objects | side | peak RSS (MB) | CPU (s) | wall (s) |", "|---|---|---|---|---|"}
	have := 0
	b.ResetTimer()
	for _, n := range sizes {
		start := time.Now()
		createBuckets(b, dyn, have, n)
		b.Logf("created %d objects in %s", n-have, time.Since(start).Round(time.Second))
		if have == 0 {
			one, err := dyn.Resource(bucketGVR).Get(context.Background(), "bench-000000", metav1.GetOptions{})
			if err != nil {
				b.Fatal(err)
			}
			j, _ := one.MarshalJSON()
			b.Logf("one object is %.1f KiB of JSON (managedFields included)", float64(len(j))/1024)
		}
		have = n
		k := fmt.Sprintf("%dk", n/1000)
		row := func(side string, r result) {
			table = append(table, fmt.Sprintf("| %d | %s | %.0f | %.1f | %.1f |", n, side, r.peakMB, r.cpu.Seconds(), r.wall.Seconds()))
			b.ReportMetric(r.peakMB, k+"-"+side+"-peak-MB")
			b.ReportMetric(r.wall.Seconds(), k+"-"+side+"-s")
		}
		var list, inf, floor result
		if want("rawlist") {
			row("rawlist", runBaseline(b, watchmem, kubeconfig, "rawlist", n))
		}
		if want("list") {
			list = runBaseline(b, watchmem, kubeconfig, "list", n)
			row("list", list)
		}
		if want("informer") {
			inf = runBaseline(b, watchmem, kubeconfig, "informer", n)
			row("informer", inf)
		}
		if want("transform") {
			floor = runBaseline(b, watchmem, kubeconfig, "transform", n)
			row("transform-informer", floor)
		}
		for _, v := range []struct {
			side, fields string
			env          []string
		}{
			{side: "driftback-metadata", fields: metadataFields},
			{side: "driftback-status", fields: statusFields},
			// As in a pod of manifests/base (limits.memory 512Mi), where
			// driftback gives Go 90% of the limit (internal/memlimit).
			{side: "driftback-status-512Mi", fields: statusFields, env: []string{"GOMEMLIMIT=" + strconv.Itoa(512<<20*9/10)}},
		} {
			if !want(v.side) {
				continue
			}
			r := runDriftback(b, driftback, kubeconfig, v.side, v.fields, n, v.env...)
			row(v.side, r)
			b.Logf("%d objects, %s: first commit after %.1fs = %.2f× the LIST; peak RSS %.0f MB = %.2f× the bare informer's, %.2f× the transform informer's (the floor)",
				n, v.side, r.wall.Seconds(), ratio(r.wall.Seconds(), list.wall.Seconds()), r.peakMB, ratio(r.peakMB, inf.peakMB), ratio(r.peakMB, floor.peakMB))
		}
	}
	b.Logf("\n%s", strings.Join(table, "\n"))
}

// result of one process.
type result struct {
	peakMB float64
	cpu    time.Duration
	wall   time.Duration
}

// ratio is a/b, or 0 when b was not run.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func usage(b testing.TB, ps *os.ProcessState, wall time.Duration) result {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		b.Fatalf("no rusage for %s", ps)
	}
	// Linux reports ru_maxrss in KiB.
	return result{peakMB: float64(ru.Maxrss) / 1024, cpu: ps.UserTime() + ps.SystemTime(), wall: wall}
}

// runBaseline runs watchmem; wall is what it measured itself (after start-up).
func runBaseline(b testing.TB, watchmem, kubeconfig, mode string, n int) result {
	cmd := exec.Command(watchmem, "-mode", mode, "-kubeconfig", kubeconfig, "-gvr", "s3.aws.upbound.io/v1beta1/buckets")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		b.Fatalf("watchmem -mode %s: %v\n%s", mode, err, out.String())
	}
	var objects int
	var secs float64
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		fmt.Sscanf(sc.Text(), "objects %d", &objects)
		fmt.Sscanf(sc.Text(), "seconds %f", &secs)
	}
	if objects != n {
		b.Fatalf("watchmem -mode %s saw %d objects, want %d:\n%s", mode, objects, n, out.String())
	}
	return usage(b, cmd.ProcessState, time.Duration(secs*float64(time.Second)))
}

// runDriftback runs `driftback run` into a fresh repository until the first
// commit lands, then stops it with SIGTERM; wall is start to first commit.
func runDriftback(b testing.TB, driftback, kubeconfig, side, fields string, n int, env ...string) result {
	d := startDriftback(b, driftback, kubeconfig, fields, env...)
	waitProfile := func() {}
	if dir := profileDir(); dir != "" {
		// From the start to past the first commit: where the sync and
		// the first publish spend their CPU (<objects>k-<side>-first.cpu.pprof).
		waitProfile = d.cpuProfile(b, dir, fmt.Sprintf("%dk-%s-first", n/1000, side), 40*time.Second)
	}
	wall := d.waitFirstCommit(b)
	waitProfile()
	d.stop(b)
	if dir := profileDir(); dir != "" {
		// Its whole log, with the collector's trace when GODEBUG=gctrace=1
		// is set for the benchmark: the live heap after each collection.
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%dk-%s-first.log", n/1000, side)), []byte(d.logs.String()), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	// Where the time went, from driftback's own log.
	for _, l := range strings.Split(d.logs.String(), "\n") {
		if strings.Contains(l, "synced") || strings.Contains(l, "msg=committed") || strings.Contains(l, "msg=watching") {
			b.Log(l)
		}
	}
	files := gitserver.Run(b, d.repoDir, "git", "ls-tree", "-r", "--name-only", benchBranch)
	if got := strings.Count(files, "unmatched/"); got != n {
		b.Fatalf("the first commit records %d objects, want %d", got, n)
	}
	return usage(b, d.cmd.ProcessState, wall)
}

var bucketGVR = schema.GroupVersionResource{Group: "s3.aws.upbound.io", Version: "v1beta1", Resource: "buckets"}

// createBuckets creates buckets [from, to) of about 4.4 KiB each, as a
// provider leaves them: an external name, a spec, and status with an ARN.
func createBuckets(b testing.TB, dyn dynamic.Interface, from, to int) {
	tags := map[string]any{}
	for i := 0; i < 30; i++ {
		tags[fmt.Sprintf("tag-%02d", i)] = strings.Repeat("v", 90)
	}
	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := createBucket(dyn, i, tags); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := from; i < to; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
}

func createBucket(dyn dynamic.Interface, i int, tags map[string]any) error {
	ctx := context.Background()
	name := fmt.Sprintf("bench-%06d", i)
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket",
		"metadata": map[string]any{"name": name, "annotations": map[string]any{"crossplane.io/external-name": name + "-7f3a"}},
		"spec":     map[string]any{"forProvider": map[string]any{"region": "eu-west-1", "tags": tags}},
	}}
	created, err := dyn.Resource(bucketGVR).Create(ctx, u, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	_ = unstructured.SetNestedMap(created.Object, map[string]any{"arn": "arn:aws:s3:::" + name, "lastSeen": time.Now().Format(time.RFC3339)}, "status", "atProvider")
	if _, err := dyn.Resource(bucketGVR).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("status of %s: %w", name, err)
	}
	return nil
}
