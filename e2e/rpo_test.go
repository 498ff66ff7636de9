package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/driftback/driftback/internal/gitserver"
	"github.com/driftback/driftback/overlay"
)

// TestRunRecordsAStreamOfMutations: `driftback run` with a 1 s debounce
// records every one of a steady stream of mutations (one every 150 ms, each
// to another object) on the branch. How long each took is BenchmarkRPO's
// business: a timed assertion here would fail on a busy machine, not on a
// slow driftback.
func TestRunRecordsAStreamOfMutations(t *testing.T) {
	lat := streamMutations(t, "rpo-t")
	t.Logf("all %d mutations committed (p50 %s, max %s; not a measurement: see BenchmarkRPO)", len(lat), lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
}

// BenchmarkRPO measures the recovery point: the time from a mutation in
// the cluster to the commit that records it on the branch, over the stream
// of TestRunRecordsAStreamOfMutations. Target: p99 <= debounce + 2 s.
func BenchmarkRPO(b *testing.B) {
	var all []time.Duration
	for i := 0; i < b.N; i++ {
		all = append(all, streamMutations(b, fmt.Sprintf("rpo-b%d", i))...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	n := len(all)
	p50, p99 := all[n/2], all[(n*99+99)/100-1]
	b.Logf("RPO over %d mutations (one every 150ms, --debounce 1s): p50 %s, p99 %s, max %s",
		n, p50.Round(time.Millisecond), p99.Round(time.Millisecond), all[n-1].Round(time.Millisecond))
	b.ReportMetric(p50.Seconds(), "p50-s")
	b.ReportMetric(p99.Seconds(), "p99-s")
}

// streamMutations runs `driftback run` on objects named prefix-NN, mutates
// their status one every 150 ms, waits until every mutation is on the
// branch and returns how long each took, sorted.
func streamMutations(t testing.TB, prefix string) []time.Duration {
	t.Helper()
	const (
		n        = 40
		debounce = time.Second
		every    = 150 * time.Millisecond
	)
	ctx := context.Background()
	for i := 0; i < n; i++ {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket",
			"metadata": map[string]any{"name": fmt.Sprintf("%s-%02d", prefix, i)},
			"spec":     map[string]any{"forProvider": map[string]any{"region": "eu-west-1"}},
		}}
		if _, err := a.dyn.Resource(bktGVR).Create(ctx, u, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "rpo")
	gitserver.Seed(t, repoDir, "main", map[string]string{"README.md": "fleet\n"})
	cfg := filepath.Join(t.TempDir(), "driftback.yaml")
	if err := os.WriteFile(cfg, []byte(`apiVersion: driftback.dev/v1alpha1
kind: Config
cluster: rpo
git: {url: `+url+`}
rules:
- name: bucket-status
  match: {apiGroups: [s3.aws.upbound.io], kinds: [Bucket], names: ["`+prefix+`-*"]}
  fields: [status.atProvider.arn]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	logs, err := os.Create(filepath.Join(t.TempDir(), "run.log"))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	cmd := exec.CommandContext(runCtx, driftback, "run", "--kubeconfig", a.kubeconfig, "--config", cfg,
		"--debounce", debounce.String(), "--metrics-addr", "127.0.0.1:"+strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stop()
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logs.Name())
			t.Logf("driftback run logs:\n%s", tail(string(b), 4000))
		}
	}()
	statusFile := func(i int) string {
		name := fmt.Sprintf("%s-%02d", prefix, i)
		return "clusters/rpo/driftback/status/_cluster/s3.aws.upbound.io_Bucket/" + overlay.Bucket(name) + "/" + name + ".yaml"
	}

	// The branch is watched from the start, every 50 ms: a mutation is
	// recorded when a commit holding it is first seen (Git's commit times
	// have only a second's resolution).
	committed := make([]time.Time, n)
	done := make(chan error, 1)
	go func() { done <- watchBranch(repoDir, "driftback/rpo", statusFile, committed, 90*time.Second) }()

	// A steady stream of mutations, each recorded with its time.
	mutated := make([]time.Time, n)
	tick := time.NewTicker(every)
	for i := 0; i < n; i++ {
		<-tick.C
		u, err := a.dyn.Resource(bktGVR).Get(ctx, fmt.Sprintf("%s-%02d", prefix, i), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		u.Object["status"] = map[string]any{"atProvider": map[string]any{"arn": fmt.Sprintf("arn:aws:s3:::%s-%02d-v2", prefix, i)}}
		if _, err := a.dyn.Resource(bktGVR).UpdateStatus(ctx, u, metav1.UpdateOptions{FieldManager: "provider-aws"}); err != nil {
			t.Fatal(err)
		}
		mutated[i] = time.Now()
	}
	tick.Stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	lat := make([]time.Duration, n)
	for i := range lat {
		lat[i] = committed[i].Sub(mutated[i])
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat
}

// watchBranch polls the branch until every status file i holds its
// mutation, setting committed[i] to when that was first seen.
func watchBranch(repoDir, branch string, file func(int) string, committed []time.Time, within time.Duration) error {
	deadline := time.Now().Add(within)
	seen := map[plumbing.Hash]bool{}
	for time.Now().Before(deadline) {
		if r, err := git.PlainOpen(repoDir); err == nil {
			if ref, err := r.Reference(plumbing.NewBranchReferenceName(branch), true); err == nil && !seen[ref.Hash()] {
				seen[ref.Hash()] = true
				now := time.Now()
				c, err := r.CommitObject(ref.Hash())
				if err != nil {
					return err
				}
				for i := range committed {
					if !committed[i].IsZero() {
						continue
					}
					if f, err := c.File(file(i)); err == nil {
						if s, _ := f.Contents(); strings.Contains(s, "-v2") {
							committed[i] = now
						}
					}
				}
			}
		}
		missing := 0
		for i := range committed {
			if committed[i].IsZero() {
				missing++
			}
		}
		if missing == 0 {
			return nil
		}
		time.Sleep(50 * time.Millisecond) // poll interval, bounded by the deadline
	}
	return fmt.Errorf("not every mutation was committed within %s", within)
}
