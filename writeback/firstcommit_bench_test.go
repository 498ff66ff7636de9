package writeback_test

import (
	"testing"

	"github.com/driftback/driftback/capture"
)

// BenchmarkPublishFirstCommit is driftback's first publish on a cluster of
// 50,000 buckets (an external name and an ARN each, over a base of 500:
// 100,000 files), into a fresh repository of a real Git server: render,
// guards, verification, commit message, blobs and trees, pack and push.
// The watch benchmark (hack/bench/watchmem) times it inside a whole start;
// this one profiles it alone.
func BenchmarkPublishFirstCommit(b *testing.B) {
	packed := capture.PackAll(bucketCaps(50000))
	for b.Loop() {
		b.StopTimer()
		g := newGitBench(b, 500)
		b.StartTimer()
		res, err := g.w.PublishChanges(b.Context(), packed, &capture.Changes{Snapshot: 1})
		if err != nil || res.Commit.IsZero() {
			b.Fatalf("publish: %v (commit %q)", err, res.Commit)
		}
	}
}
