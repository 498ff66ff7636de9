package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/driftback/driftback/internal/benchenv"
)

// BenchmarkSteadyState measures `driftback run --debounce 1s` (status
// rules) over N Buckets under a stream of status mutations, each a new ARN
// on another object (issue 15: steady state at 100 mut/s on 10k objects ≤
// 0.15 core; RPO p99 ≤ debounce + 2 s at 100 mut/s and at the highest rate
// the apiserver sustains). After driftback's first commit is pushed, this
// process mutates at a paced 100 mut/s for 60 s, then as fast as its
// unpaced workers go for 45 s, each window with its own client (no
// client-side rate limit). Per window: the achieved rate, driftback's CPU
// (utime+stime from /proc/<pid>/stat, over the window) in cores, the Git
// server's CPU (its git processes, children of this process that exit
// within the window), and the RPO of every mutation: from its Patch
// returning to the first poll (every 100 ms) that finds its value, or a
// later one of the same object, on the branch at the Git server. A
// mutation never seen within two minutes of its window fails the
// benchmark. DRIFTBACK_BENCH_OBJECTS overrides the sizes (10000, 50000).
func BenchmarkSteadyState(b *testing.B) {
	sizes, err := benchenv.Objects(10000, 50000)
	if err != nil {
		b.Fatal(err)
	}
	pl := startPlane(b)
	driftback := pl.build(b, "driftback", "./cmd/driftback")
	dyn := pl.unlimitedClient()
	table := []string{
		"| objects | window | mutations | achieved mut/s | driftback cores | Git server cores | commits | RPO p50 | RPO p99 | RPO max | seen | load avg (1 min, start → end) |",
		"|---|---|---|---|---|---|---|---|---|---|---|---|",
	}
	have := 0
	// Mutation numbers, unique across windows and sizes: the objects of
	// one size are mutated again at the next, and a patch that sets the
	// value an object already holds changes nothing (no event, no commit),
	// so its mutation would never be seen. A run of both sizes failed that
	// way: from the first number the 10,000-object run had already written,
	// the 50,000-object run's patches were no-ops and "unseen".
	seq := &atomic.Int64{}
	b.ResetTimer()
	for _, n := range sizes {
		start := time.Now()
		createBuckets(b, dyn, have, n)
		b.Logf("created %d objects in %s", n-have, time.Since(start).Round(time.Second))
		have = n
		d := startDriftback(b, driftback, pl.kubeconfig, statusFields)
		b.Logf("%d objects: first commit after %s", n, d.waitFirstCommit(b).Round(100*time.Millisecond))
		for _, w := range []window{
			{name: "100 mut/s", rate: 100, length: 60 * time.Second, workers: 8},
			{name: "unpaced", length: 45 * time.Second, workers: 16},
		} {
			// The Git server's maintenance, as a host schedules it between
			// bursts of pushes: one pack again. Its test server does none
			// (receive.autogc=false, so no gc races a test's cleanup), and
			// every push of 100 objects or more stays a pack of its own;
			// after the ~90 pushes of both windows, each push's
			// connectivity check searched ~90 packs.
			repack(b, d.repoDir)
			waitProfile := func() {}
			if dir := profileDir(); dir != "" {
				waitProfile = d.cpuProfile(b, dir, fmt.Sprintf("%dk-%s", n/1000, w.metric()), w.length)
			}
			r := runWindow(b, pl, d, n, seq, w)
			waitProfile()
			k := fmt.Sprintf("%dk-%s-", n/1000, w.metric())
			b.ReportMetric(r.rate, k+"mut/s")
			b.ReportMetric(r.cores, k+"cores")
			b.ReportMetric(r.gitCores, k+"git-cores")
			b.ReportMetric(r.p50.Seconds(), k+"rpo-p50-s")
			b.ReportMetric(r.p99.Seconds(), k+"rpo-p99-s")
			b.ReportMetric(r.max.Seconds(), k+"rpo-max-s")
			table = append(table, fmt.Sprintf("| %d | %s | %d | %.1f | %.3f | %.3f | %d | %s | %s | %s | %d/%d | %s → %s |",
				n, w.name, r.mutations, r.rate, r.cores, r.gitCores, r.commits,
				r.p50.Round(time.Millisecond), r.p99.Round(time.Millisecond), r.max.Round(time.Millisecond),
				r.seen, r.mutations, r.loadStart, r.loadEnd))
			b.Logf("%d objects, %s: %d mutations at %.1f/s; driftback %.3f cores, Git server %.3f cores, %d commits; RPO p50 %s p99 %s max %s; load %s → %s",
				n, w.name, r.mutations, r.rate, r.cores, r.gitCores, r.commits, r.p50.Round(time.Millisecond),
				r.p99.Round(time.Millisecond), r.max.Round(time.Millisecond), r.loadStart, r.loadEnd)
		}
		d.stop(b)
		b.Logf("%d objects, where each publish's time went: %s", n, publishPhases(d.logs.String()))
		// Warnings other than the one every publish repeats (the Buckets
		// have no Git base, so their fields go to unmatched/).
		for _, l := range strings.Split(d.logs.String(), "\n") {
			if (strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR")) && !strings.Contains(l, "unmatched/") {
				b.Log(l)
			}
		}
	}
	b.Logf("\n%s", strings.Join(table, "\n"))
}

// window is one stretch of mutations: paced at rate per second (0:
// unpaced, each worker as fast as its requests return) by workers.
type window struct {
	name    string
	rate    int
	length  time.Duration
	workers int
}

func (w window) metric() string {
	if w.rate == 0 {
		return "max"
	}
	return strconv.Itoa(w.rate)
}

type windowResult struct {
	mutations, seen, commits int
	rate, cores, gitCores    float64
	p50, p99, max            time.Duration
	loadStart, loadEnd       string
}

// mutation is one status change: object obj got ARN number seq; done is
// when its Patch returned, seen when the branch first held it (or a later
// one of the same object).
type mutation struct {
	obj        int
	seq        int64
	done, seen time.Time
}

// runWindow mutates for w.length, waits until every mutation is seen on
// the branch and returns the window's figures.
func runWindow(b *testing.B, pl *plane, d *runningDriftback, n int, seq *atomic.Int64, w window) windowResult {
	dyn := pl.unlimitedClient() // the mutator's own client
	tr := newTracker(d.repoDir)
	stopPoll := make(chan struct{})
	polled := make(chan error, 1)
	go func() { polled <- tr.poll(stopPoll) }()

	r := windowResult{loadStart: loadAvg()}
	cpu0, git0 := procCPU(b, d.cmd.Process.Pid), childrenCPU()
	start := time.Now()
	end := start.Add(w.length)
	var jobs <-chan struct{}
	if w.rate > 0 {
		// The pacing ticker is the workload: one mutation per tick,
		// handed to whichever worker is free (a full queue drops the
		// tick, and the achieved rate says so).
		ch := make(chan struct{}, w.rate)
		jobs = ch
		go func() {
			defer close(ch)
			t := time.NewTicker(time.Second / time.Duration(w.rate))
			defer t.Stop()
			for now := range t.C {
				if now.After(end) {
					return
				}
				select {
				case ch <- struct{}{}:
				default:
				}
			}
		}()
	}
	var wg sync.WaitGroup
	errs := make(chan error, w.workers)
	for i := 0; i < w.workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if jobs != nil {
					if _, ok := <-jobs; !ok {
						return
					}
				} else if time.Now().After(end) {
					return
				}
				if err := mutate(dyn, tr, n, seq.Add(1)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, git1 := procCPU(b, d.cmd.Process.Pid), childrenCPU()
	r.loadEnd = loadAvg()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	r.cores = (cpu1 - cpu0).Seconds() / elapsed.Seconds()
	r.gitCores = (git1 - git0).Seconds() / elapsed.Seconds()

	// Every mutation must reach the branch; polling with a deadline.
	deadline := time.Now().Add(2 * time.Minute)
	for tr.unseen() > 0 && time.Now().Before(deadline) {
		select {
		case err := <-polled:
			b.Fatalf("polling the branch: %v", err)
		case <-time.After(100 * time.Millisecond): // polling interval
		}
	}
	close(stopPoll)
	if err := <-polled; err != nil {
		b.Fatalf("polling the branch: %v", err)
	}
	muts, commits := tr.result()
	r.mutations, r.commits = len(muts), commits
	r.rate = float64(len(muts)) / elapsed.Seconds()
	var lat []time.Duration
	for _, m := range muts {
		if m.seen.IsZero() {
			continue
		}
		r.seen++
		l := m.seen.Sub(m.done)
		if l < 0 {
			l = 0 // seen by a poll that ran while its Patch was returning
		}
		lat = append(lat, l)
	}
	if r.seen < r.mutations || r.mutations == 0 {
		// What the branch holds for a few of them, read by git itself.
		var unseen []string
		for _, m := range muts {
			if m.seen.IsZero() && len(unseen) < 5 {
				file := benchStatusDir + "/" + benchStatusFile(m.obj)
				out, _ := exec.Command("git", "-C", d.repoDir, "show", benchBranch+":"+file).CombinedOutput()
				unseen = append(unseen, fmt.Sprintf("m%d (object %d, patched %s): the branch holds %q", m.seq, m.obj, m.done.Format(time.StampMilli), out))
			}
		}
		if dir := profileDir(); dir != "" {
			d.saveState(b, dir, fmt.Sprintf("%dk-%s-unseen", n/1000, w.metric()))
		}
		b.Fatalf("%d objects, %s: %d of %d mutations seen on the branch within 2 minutes of the window's end; unseen:\n%s\n%s",
			n, w.name, r.seen, r.mutations, strings.Join(unseen, "\n"), tail(d.logs.String(), 4000))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r.p50, r.p99, r.max = lat[len(lat)/2], lat[(len(lat)*99+99)/100-1], lat[len(lat)-1]
	return r
}

// mutate gives object seq mod n the ARN numbered seq, with a merge patch
// of its status (one request, no read and no conflict).
func mutate(dyn dynamic.Interface, tr *tracker, n int, seq int64) error {
	obj := int(seq % int64(n))
	name := fmt.Sprintf("bench-%06d", obj)
	m := tr.begin(obj, seq)
	patch := fmt.Sprintf(`{"status":{"atProvider":{"arn":"arn:aws:s3:::%s-m%d"}}}`, name, seq)
	if _, err := dyn.Resource(bucketGVR).Patch(context.Background(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}, "status"); err != nil {
		return fmt.Errorf("mutate %s: %w", name, err)
	}
	tr.done(m)
	return nil
}

// tracker knows the mutations of a window and which the branch holds.
type tracker struct {
	repoDir string
	mu      sync.Mutex
	muts    []*mutation
	// pending are the unseen mutations by object.
	pending map[int][]*mutation
	commits int
}

func newTracker(repoDir string) *tracker {
	return &tracker{repoDir: repoDir, pending: map[int][]*mutation{}}
}

func (t *tracker) begin(obj int, seq int64) *mutation {
	m := &mutation{obj: obj, seq: seq}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.muts = append(t.muts, m)
	t.pending[obj] = append(t.pending[obj], m)
	return m
}

func (t *tracker) done(m *mutation) {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	m.done = now
}

func (t *tracker) unseen() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, ms := range t.pending {
		n += len(ms)
	}
	return n
}

func (t *tracker) result() ([]*mutation, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.muts, t.commits
}

var arnSeq = regexp.MustCompile(`-m([0-9]+)`)

// poll checks the branch every 100 ms until stop; at each new tip it reads
// the status files of the objects with unseen mutations, and marks seen
// every mutation of an object numbered up to the one its file holds.
func (t *tracker) poll(stop <-chan struct{}) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last plumbing.Hash
	blobs := map[int]plumbing.Hash{} // the blob last read per object
	for {
		select {
		case <-stop:
			return nil
		case <-tick.C:
		}
		repo, err := git.PlainOpen(t.repoDir)
		if err != nil {
			return err
		}
		ref, err := repo.Reference(plumbing.NewBranchReferenceName(benchBranch), true)
		if err != nil {
			return err
		}
		if ref.Hash() == last {
			continue
		}
		now := time.Now()
		last = ref.Hash()
		c, err := repo.CommitObject(last)
		if err != nil {
			return err
		}
		root, err := c.Tree()
		if err != nil {
			return err
		}
		dir, err := root.Tree(benchStatusDir)
		if err != nil {
			return fmt.Errorf("commit %s: %s: %w", last, benchStatusDir, err)
		}
		t.mu.Lock()
		objs := make([]int, 0, len(t.pending))
		for o := range t.pending {
			objs = append(objs, o)
		}
		t.commits++
		t.mu.Unlock()
		for _, o := range objs {
			f, err := dir.File(benchStatusFile(o))
			if err != nil {
				return fmt.Errorf("commit %s: bench-%06d: %w", last, o, err)
			}
			// A file whose blob was read at an earlier tip holds what it
			// held: only changed ones are read, or at 50,000 objects a
			// poller with thousands pending falls behind the commits.
			if blobs[o] == f.Hash {
				continue
			}
			blobs[o] = f.Hash
			s, err := f.Contents()
			if err != nil {
				return err
			}
			got := int64(-1)
			if m := arnSeq.FindStringSubmatch(s); m != nil {
				got, _ = strconv.ParseInt(m[1], 10, 64)
			}
			t.mu.Lock()
			ms := t.pending[o]
			kept := ms[:0]
			for _, m := range ms {
				if m.seq <= got {
					m.seen = now
				} else {
					kept = append(kept, m)
				}
			}
			if len(kept) == 0 {
				delete(t.pending, o)
			} else {
				t.pending[o] = kept
			}
			t.mu.Unlock()
		}
	}
}

// procCPU is the user+system time the process pid has used so far.
func procCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command name (which may hold spaces) start at
	// the third; utime and stime are the 14th and 15th, in clock ticks.
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("/proc/%d/stat: %q", pid, s)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// clockTicks is USER_HZ, 100 on Linux (sysconf(_SC_CLK_TCK)).
const clockTicks = 100

// childrenCPU is the user+system time of this process's children that
// exited and were waited for: during a window, the Git server's git
// processes (git http-backend is run through net/http/cgi, which waits).
func childrenCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAvg is the 1-minute load average.
func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(raw))[0]
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// repack packs the bare repository at dir into one pack, as `git gc`
// does, and says how many packs it found.
func repack(b *testing.B, dir string) {
	packs, err := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.pack"))
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if out, err := exec.Command("git", "-C", dir, "repack", "-a", "-d", "-q").CombinedOutput(); err != nil {
		b.Fatalf("git repack: %v\n%s", err, out)
	}
	b.Logf("Git server maintenance: %d packs repacked into one in %s", len(packs), time.Since(start).Round(time.Millisecond))
}
