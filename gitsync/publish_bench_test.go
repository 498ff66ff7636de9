package gitsync_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/internal/gitserver"
	"github.com/driftback/driftback/internal/heapstat"
	"github.com/driftback/driftback/overlay"
)

// A whole publish round of a one-file change against git http-backend:
// fetch, build, push, in repositories of growing size.
func BenchmarkPublishOneFile(b *testing.B) {
	for _, n := range []int{1000, 20000, 100000} {
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) {
			srv := gitserver.New(b, gitserver.Options{})
			url, repoDir := srv.CreateRepo(b, "fleet")
			work := b.TempDir()
			gitserver.Run(b, work, "git", "init", "-q", "-b", "main")
			for i := range n {
				p := filepath.Join(work, "clusters/bench/driftback", fmt.Sprintf("patches/ns-%04d/example.com_Widget/w-%06d.yaml", i/100, i))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					b.Fatal(err)
				}
				if err := os.WriteFile(p, fmt.Appendf(nil, "name: w-%06d\nversion: 0\n", i), 0o644); err != nil {
					b.Fatal(err)
				}
			}
			// gc.auto=0: no detached gc racing the benchmark's cleanup.
			gitserver.Run(b, work, "git", "-c", "gc.auto=0", "add", "-A")
			gitserver.Run(b, work, "git", "-c", "gc.auto=0", "-c", "user.name=b", "-c", "user.email=b@x", "commit", "-q", "-m", "seed")
			gitserver.Run(b, work, "git", "-c", "gc.auto=0", "push", "-q", repoDir, "main")
			r, err := gitsync.Auth{}.Open(url)
			if err != nil {
				b.Fatal(err)
			}
			tg := gitsync.Target{Branch: "main", BaseBranch: "main", Dir: "clusters/bench/driftback", AuthorName: "b", AuthorEmail: "b@x"}
			version := 1
			publish := func() {
				p := fmt.Sprintf("patches/ns-%04d/example.com_Widget/w-%06d.yaml", version%n/100, version%n)
				c := fmt.Appendf(nil, "name: w-%06d\nversion: %d\n", version%n, version)
				version++
				res, err := r.Publish(context.Background(), tg, func(fs.FS) (gitsync.Content, error) {
					return gitsync.Content{Update: &gitsync.Update{Changed: map[string][]byte{p: c}}}, nil
				})
				if err != nil || res.Commit.IsZero() {
					b.Fatalf("publish: %v (commit %s)", err, res.Commit)
				}
			}
			// The first publish fetches everything (a clone); not measured.
			publish()
			for b.Loop() {
				publish()
			}
		})
	}
}

// A first publish of many new files (driftback's first commit on a big
// cluster), each round into a fresh directory so every blob is new: the
// push's pack holds them all.
func BenchmarkPublishFirstCommit(b *testing.B) {
	for _, n := range []int{20000, 100000} {
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) {
			srv := gitserver.New(b, gitserver.Options{})
			url, _ := srv.CreateRepo(b, "fleet")
			r, err := gitsync.Auth{}.Open(url)
			if err != nil {
				b.Fatal(err)
			}
			round := 0
			var peak, retained float64
			for b.Loop() {
				round++
				files := make(map[string][]byte, n)
				for i := range n {
					// Like a status file: similar, small, each distinct.
					files[fmt.Sprintf("status/ns-%04d/example.com_Widget/w-%06d.yaml", i/100, i)] = fmt.Appendf(nil,
						"apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w-%06d\n  namespace: ns-%04d\nstatus:\n  atProvider:\n    arn: arn:aws:s3:::bucket-%d-%06d\n", i, i/100, round, i)
				}
				tg := gitsync.Target{Branch: "main", BaseBranch: "main", Dir: fmt.Sprintf("clusters/c%d", round), AuthorName: "b", AuthorEmail: "b@x"}
				before := heapstat.Live()
				stop := heapstat.Peak()
				res, err := r.Publish(context.Background(), tg, func(fs.FS) (gitsync.Content, error) {
					return gitsync.Content{Files: files}, nil
				})
				p := stop()
				if err != nil || res.Commit.IsZero() {
					b.Fatalf("publish: %v (commit %s)", err, res.Commit)
				}
				res = gitsync.Result{}
				peak = max(peak, p-before)
				retained = max(retained, heapstat.Live()-before)

			}
			// Above the live heap before the publish (which holds the
			// files): the most the heap grew (live and garbage, as the GC
			// left it; a proxy for RSS), and what the Repo keeps afterwards.
			b.ReportMetric(peak/1e6, "peak-heap-MB")
			b.ReportMetric(retained/1e6, "retained-MB")
		})
	}
}

// BenchmarkPublishGrowth is what a Repo keeps per commit in steady state:
// one-file commits among the status files of 50,000 cluster-scoped objects
// of one kind, laid out flat (one directory, as before overlay.Bucket) or
// in 256 bucket directories (overlay.FileName). Git stores a directory as
// one tree, rewritten whole by each commit that touches it; the Repo
// prunes what no later call reads every PruneAfter commits (prune=default)
// or never.
// repo-MB is what the Repo holds after its first commit and two more (the
// files' contents, its objects and caches; the bench's Git server too),
// retained-MB/commit the live heap's growth per commit over the run,
// after full collections; fresh-repo-MB what a new Repo holds once it has
// read the branch (its history of commits commits); push-ms a commit's
// push (gitsync.Result.Took), which includes the Git server's checks of
// every entry of the trees it receives.
func BenchmarkPublishGrowth(b *testing.B) {
	const n = 50000
	for _, tc := range []struct {
		layout     string
		pruneAfter int
	}{{"flat", -1}, {"buckets", -1}, {"buckets", 0}} {
		prune := "never"
		if tc.pruneAfter == 0 {
			prune = "default"
		}
		b.Run("layout="+tc.layout+"/prune="+prune, func(b *testing.B) {
			path := func(i int) string {
				name := fmt.Sprintf("b%06d", i)
				if tc.layout == "flat" {
					return "status/_cluster/s3.aws.upbound.io_Bucket/" + name + ".yaml"
				}
				return "status/_cluster/s3.aws.upbound.io_Bucket/" + overlay.Bucket(name) + "/" + name + ".yaml"
			}
			benchPublishGrowth(b, n, path, tc.pruneAfter)
		})
	}
}

func benchPublishGrowth(b *testing.B, n int, path func(int) string, pruneAfter int) {
	empty := heapstat.Live()
	srv := gitserver.New(b, gitserver.Options{})
	url, _ := srv.CreateRepo(b, "fleet")
	r, err := gitsync.Auth{}.Open(url)
	if err != nil {
		b.Fatal(err)
	}
	r.PruneAfter = pruneAfter
	files := make(map[string][]byte, n)
	for i := range n {
		files[path(i)] = fmt.Appendf(nil, "kind: Bucket\nstatus:\n  arn: arn:aws:s3:::bucket-%06d\n", i)
	}
	tg := gitsync.Target{Branch: "main", BaseBranch: "main", Dir: "clusters/c1", AuthorName: "b", AuthorEmail: "b@x"}
	if _, err := r.Publish(context.Background(), tg, func(fs.FS) (gitsync.Content, error) { return gitsync.Content{Files: files}, nil }); err != nil {
		b.Fatal(err)
	}
	files = nil
	commits := 0
	var push time.Duration
	commit := func() {
		commits++
		p := path(commits * 7 % n)
		c := fmt.Appendf(nil, "kind: Bucket\nstatus:\n  arn: v%d\n", commits)
		res, err := r.Publish(context.Background(), tg, func(fs.FS) (gitsync.Content, error) {
			return gitsync.Content{Update: &gitsync.Update{Changed: map[string][]byte{p: c}}}, nil
		})
		if err != nil || res.Commit.IsZero() {
			b.Fatalf("publish: %v (commit %s)", err, res.Commit)
		}
		push += res.Took.Push
	}
	// Past what the first commit leaves behind for the second.
	commit()
	commit()
	before, from := heapstat.Live(), commits
	held := before - empty
	push = 0
	for b.Loop() {
		commit()
	}
	b.ReportMetric((heapstat.Live()-before)/1e6/float64(commits-from), "retained-MB/commit")
	b.ReportMetric(float64(push.Milliseconds())/float64(commits-from), "push-ms")
	b.ReportMetric(held/1e6, "repo-MB")
	runtime.KeepAlive(r)
	// A Repo that starts now (a restart, or this one after its refresh)
	// fetches the branch's whole history: every version of the directory.
	before = heapstat.Live()
	fresh, err := gitsync.Auth{}.Open(url)
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := fresh.ReadBranch(context.Background(), "main"); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric((heapstat.Live()-before)/1e6, "fresh-repo-MB")
	b.ReportMetric(float64(commits+1), "commits")
	runtime.KeepAlive(fresh)
}
