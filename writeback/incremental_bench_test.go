package writeback_test

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/driftback/driftback/capture"
)

// BenchmarkPublishOneObjectChange is one publish that changes one object's
// status (status/ file) or its external name (a patch of a base object),
// among 10,000 and 50,000 captures over a Git base of 500 buckets, to a
// real Git server (git http-backend) through gitsync: on the incremental
// path told which capture changed, as capture/live tells it
// (capture.Changes: path=incremental), on the incremental path comparing
// every capture's fingerprint to find it (path=incremental-fingerprints:
// when not told, and every publish before capture/live told), and on the
// full path (every capture rendered, the whole overlay built with krusty:
// every publish before issue 15). cpu-ms/op is this
// process's CPU (driftback: render, verify, gitsync), git-cpu-ms/op the Git
// server's (its git processes).
func BenchmarkPublishOneObjectChange(b *testing.B) {
	for _, n := range []int{10000, 50000} {
		b.Run(fmt.Sprintf("captures=%d", n), func(b *testing.B) {
			g := newGitBench(b, 500)
			caps := bucketCaps(n)
			packed := capture.PackAll(caps)
			// snap numbers the snapshots as capture/live does.
			snap := uint64(1)
			if _, err := g.w.PublishChanges(b.Context(), packed, &capture.Changes{Snapshot: snap}); err != nil {
				b.Fatal(err)
			}
			version := 0
			for _, path := range []string{"incremental", "incremental-fingerprints", "full"} {
				for _, change := range []string{"status", "patch"} {
					b.Run(fmt.Sprintf("path=%s/change=%s", path, change), func(b *testing.B) {
						// The setup's garbage (the first commit of every
						// capture) is not this publish's to collect.
						runtime.GC()
						self0, git0 := cpuTime()
						for b.Loop() {
							version++
							i := (version * 7919) % 500
							c := caps[i]
							if change == "status" {
								c.Status["atProvider"].(map[string]any)["arn"] = fmt.Sprintf("arn:%d", version)
							} else {
								c.Object["metadata"].(map[string]any)["annotations"] = map[string]any{"crossplane.io/external-name": fmt.Sprintf("ext-%d", version)}
							}
							packed[i] = capture.Pack(c) // as the watch cache does on an update
							if path == "full" {
								g.w.ForgetRecord()
							}
							inc0, _ := g.w.Paths()
							changes := &capture.Changes{Snapshot: snap + 1} // Since 0: unknown
							if path == "incremental" {
								changes.Since, changes.Refs = snap, map[capture.ObjectRef]bool{c.Ref.Unversioned(): true}
							}
							res, err := g.w.PublishChanges(b.Context(), packed, changes)
							snap++
							// A patch moves its object's merged/ file too.
							want := map[string]int{"status": 1, "patch": 2}[change]
							if err != nil || res.Commit.IsZero() || len(res.Changes) != want {
								b.Fatalf("publish: %v (commit %q, %d changes)", err, res.Commit, len(res.Changes))
							}
							if inc1, _ := g.w.Paths(); (inc1 > inc0) != (path != "full") {
								b.Fatalf("took the wrong path (incremental %d → %d)", inc0, inc1)
							}
						}
						self1, git1 := cpuTime()
						b.ReportMetric(float64((self1-self0).Milliseconds())/float64(b.N), "cpu-ms/op")
						b.ReportMetric(float64((git1-git0).Milliseconds())/float64(b.N), "git-cpu-ms/op")
						cheap, whole := g.w.Builds()
						b.Logf("cheap checks %d, whole builds %d so far", cheap, whole)
					})
				}
			}
		})
	}
}

// cpuTime is the CPU time of this process (driftback's side: render,
// verify, gitsync) and of its finished children (the Git server's git
// http-backend, upload-pack, receive-pack).
func cpuTime() (self, children time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err == nil {
		children = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return self, children
}
