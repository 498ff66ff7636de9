package presettest

import (
	"bytes"
	"context"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/capture/live"
	"github.com/driftback/driftback/config"
	"github.com/driftback/driftback/render"
)

var update = flag.Bool("update", false, "rewrite testdata/presets/*/golden")

// overlayDir is where the overlay stands inside a fixture directory, next
// to base/ (config.yaml says overlay.resources: [../base]).
const overlayDir = "driftback"

// expectations are a fixture's expect.yaml: what the overlay must and must
// not hold, on top of the golden comparison, to say what the fixture is
// about.
type expectations struct {
	MustHave []string `json:"mustHave"`
	MustLack []string `json:"mustLack"`
}

// TestPresets runs the fixture of every preset capture declares
// (testdata/presets/<name>/): a preset added to capture/presets.go is tested
// here without touching this file, and one without a fixture fails.
func TestPresets(t *testing.T) {
	fixtures, err := os.ReadDir(filepath.Join(root, "testdata", "presets"))
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	for _, p := range capture.PresetTable() {
		declared[p.Name] = true
	}
	for _, f := range fixtures {
		if f.IsDir() && !declared[f.Name()] {
			t.Errorf("testdata/presets/%s: a fixture for no preset of capture/presets.go", f.Name())
		}
	}
	a := newApplier(t)
	cl, err := live.NewCluster(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range capture.PresetTable() {
		t.Run(p.Name, func(t *testing.T) {
			ctx := context.Background()
			dir := filepath.Join(root, "testdata", "presets", p.Name)
			var tt expectations
			b, err := os.ReadFile(filepath.Join(dir, "expect.yaml"))
			if err != nil {
				t.Fatalf("preset %s has no fixture: %v", p.Name, err)
			}
			if err := yaml.UnmarshalStrict(b, &tt); err != nil {
				t.Fatalf("%s/expect.yaml: %v", dir, err)
			}
			repo := os.DirFS(dir)
			base, err := render.Build(repo, "base", render.Tree{})
			if err != nil {
				t.Fatal(err)
			}
			objs, err := decodeAll(base)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.applyAll(ctx, objs, gitopsManager); err != nil {
				t.Fatal(err)
			}
			if err := a.applyFile(ctx, filepath.Join(dir, "live.yaml"), ""); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(filepath.Join(dir, "config.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			res, err := cl.Resources(cfg.Rules)
			if err != nil {
				t.Fatal(err)
			}
			caps, err := cl.List(ctx, cfg.Rules, res)
			if err != nil {
				t.Fatal(err)
			}
			idx, err := render.IndexBase(repo, overlayDir, cfg.Overlay.Resources)
			if err != nil {
				t.Fatal(err)
			}
			tree, err := render.Render(caps, render.Layout{Cluster: cfg.Cluster, ClusterUID: "fixture-cluster-uid", Resources: cfg.Overlay.Resources, Base: idx})
			if err != nil {
				t.Fatal(err)
			}
			if err := render.Verify(repo, overlayDir, tree); err != nil {
				t.Fatalf("overlay does not build over the base: %v", err)
			}
			compareGolden(t, filepath.Join(dir, "golden"), tree)
			all := dump(tree)
			for _, s := range tt.MustHave {
				if !strings.Contains(all, s) {
					t.Errorf("overlay lacks %q:\n%s", s, all)
				}
			}
			for _, s := range tt.MustLack {
				if strings.Contains(all, s) {
					t.Errorf("overlay holds %q:\n%s", s, all)
				}
			}
		})
	}
}

// dump is the tree as one text: each path, then its content.
func dump(t render.Tree) string {
	var b strings.Builder
	for _, p := range t.Paths() {
		b.WriteString("=== " + p + "\n")
		b.Write(t[p])
	}
	return b.String()
}

func compareGolden(t *testing.T, dir string, tree render.Tree) {
	t.Helper()
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		for p, b := range tree {
			f := filepath.Join(dir, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(f, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	want := render.Tree{}
	err := fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		want[p] = b
		return err
	})
	if err != nil {
		t.Fatalf("read golden overlay (run with -update to write it): %v", err)
	}
	for _, p := range want.Paths() {
		if got, ok := tree[p]; !ok {
			t.Errorf("missing %s", p)
		} else if !bytes.Equal(got, want[p]) {
			t.Errorf("%s differs:\n--- got\n%s--- want\n%s", p, got, want[p])
		}
	}
	for _, p := range tree.Paths() {
		if _, ok := want[p]; !ok {
			t.Errorf("unexpected %s:\n%s", p, tree[p])
		}
	}
}
