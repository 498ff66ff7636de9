package writeback_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/config"
	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/internal/gitserver"
	"github.com/driftback/driftback/render"
	"github.com/driftback/driftback/writeback"
)

// gitBench is a writer publishing to a real Git server (git http-backend)
// through gitsync, over a base of buckets b0000… in apps/.
type gitBench struct {
	repoDir string
	cfg     *config.Config
	w       *writeback.Writer
}

func newGitBench(tb testing.TB, baseObjects int) *gitBench {
	srv := gitserver.New(tb, gitserver.Options{})
	url, repoDir := srv.CreateRepo(tb, "fleet")
	names := make([]string, baseObjects)
	for i := range names {
		names[i] = fmt.Sprintf("b%04d", i)
	}
	gitserver.Seed(tb, repoDir, "main", map[string]string{
		"apps/kustomization.yaml": "resources:\n- buckets.yaml\n",
		"apps/buckets.yaml":       bucketsBase(names...),
	})
	repo, err := gitsync.Auth{}.Open(url)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := testConfig()
	cfg.Git.Author = config.Author{Name: "driftback", Email: "driftback@localhost"}
	cfg.Overlay.Resources = []string{"../../../apps"}
	return &gitBench{repoDir: repoDir, cfg: cfg, w: writeback.New(cfg, repo, "uid-a", writeback.Options{MaxDeleteShare: 0.5})}
}

// bucketCaps are n buckets' captures: an external name (a patch when the
// base defines the bucket) and an ARN in status.
func bucketCaps(n int) []capture.Capture {
	out := statusCaps(0)
	for i := range n {
		name := fmt.Sprintf("b%04d", i)
		out = append(out, capture.Capture{
			Ref:  capture.ObjectRef{Group: "s3.aws.upbound.io", Version: "v1beta1", Kind: "Bucket", Name: name},
			Mode: capture.ModePatch,
			Object: map[string]any{"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket",
				"metadata": map[string]any{"name": name, "annotations": map[string]any{"crossplane.io/external-name": name + "-ext"}}},
			Status: map[string]any{"atProvider": map[string]any{"arn": "arn:aws:s3:::" + name}},
		})
	}
	return out
}

// branchDir is the overlay's files on the branch and the rest of it.
func (g *gitBench) branchDir(t *testing.T) (overlayFiles map[string]string, all fstest.MapFS) {
	t.Helper()
	files, _, ok := gitserver.BranchFiles(t, g.repoDir, g.cfg.Git.Branch)
	if !ok {
		t.Fatal("no branch")
	}
	overlayFiles, all = map[string]string{}, fstest.MapFS{}
	for p, c := range files {
		all[p] = &fstest.MapFile{Data: []byte(c)}
		if rest, ok := strings.CutPrefix(p, dir+"/"); ok {
			overlayFiles[rest] = c
		}
	}
	return overlayFiles, all
}

// Over a real Git server, a one-object change is handed to gitsync as an
// Update that changes its file (and its object's file in merged/), an
// added or removed object rewrites kustomization.yaml (and merged/'s), a
// commit by someone else sends the writer down the full path once, and the
// branch always holds what a full render (and render.Merged) gives.
func TestIncrementalOverGit(t *testing.T) {
	g := newGitBench(t, 30)
	caps := bucketCaps(40) // b0030… are not in the base: unmatched/
	type want struct {
		incremental bool
		changes     int // -1: any
	}
	steps := []struct {
		name string
		edit func()
		want want
	}{
		{"first publish", func() {}, want{false, -1}},
		// Status is not applied: merged/ does not move.
		{"one status", func() { caps[3].Status["atProvider"].(map[string]any)["arn"] = "arn:new" }, want{true, 1}},
		{"nothing", func() {}, want{true, 0}},
		{"one patch", func() {
			caps[5].Object["metadata"].(map[string]any)["annotations"] = map[string]any{"crossplane.io/external-name": "moved"}
		}, want{true, 2}}, // the patch and the object's merged/ file
		// Its resources/ file, merged/ copy and both kustomization.yaml.
		{"an object added", func() { caps = append(caps, clusterRole("reader")) }, want{true, 4}},
		// Its patch and status, kustomization.yaml; merged/ holds the base's bucket again.
		{"an object removed", func() { caps = append(caps[:7:7], caps[8:]...) }, want{true, 4}},
		{"someone else's commit", func() {
			gitserver.Commit(t, g.repoDir, g.cfg.Git.Branch, "edit", map[string]string{dir + "/NOTES": "hand-written\n"})
		}, want{false, 1}},
		{"one status again", func() { caps[9].Status["atProvider"].(map[string]any)["arn"] = "arn:again" }, want{true, 1}},
	}
	for _, s := range steps {
		s.edit()
		inc0, _ := g.w.Paths()
		res, err := g.w.Publish(t.Context(), caps)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		inc1, _ := g.w.Paths()
		if got := inc1 > inc0; got != s.want.incremental {
			t.Errorf("%s: incremental %v, want %v", s.name, got, s.want.incremental)
		}
		if s.want.changes >= 0 && len(res.Changes) != s.want.changes {
			var paths []string
			for _, c := range res.Changes {
				paths = append(paths, string(c.Op)+" "+c.Path)
			}
			t.Errorf("%s: %d changes %v, want %d", s.name, len(res.Changes), paths, s.want.changes)
		}
		got, all := g.branchDir(t)
		idx, err := render.IndexBase(all, dir, g.cfg.Overlay.Resources)
		if err != nil {
			t.Fatal(err)
		}
		tree, err := render.Render(caps, render.Layout{Cluster: "c1", ClusterUID: "uid-a", Resources: g.cfg.Overlay.Resources, Base: idx})
		if err != nil {
			t.Fatal(err)
		}
		merged, err := render.Merged(idx, tree, nil)
		if err != nil {
			t.Fatal(err)
		}
		for p, b := range merged {
			tree[p] = b
		}
		if len(got) != len(tree) {
			t.Fatalf("%s: the branch holds %d files, a full render %d", s.name, len(got), len(tree))
		}
		for p, b := range tree {
			if got[p] != string(b) {
				t.Fatalf("%s: %s is\n%s\nwant\n%s", s.name, p, got[p], b)
			}
		}
	}
}
