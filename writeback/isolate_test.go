package writeback_test

import (
	"time"

	"strings"
	"testing"
	"testing/fstest"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/overlay"
	"github.com/driftback/driftback/render"
	"github.com/driftback/driftback/writeback"
)

func clusterRole(name string) capture.Capture {
	return capture.Capture{
		Ref:    capture.ObjectRef{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole", Name: name},
		Mode:   capture.ModeObject,
		Object: map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": map[string]any{"name": name}},
	}
}

// Names the apiserver accepts (253 characters; for path-segment kinds
// space, tab, newline, NUL, DEL, "...") are committed with the other
// objects in one publish, and read back under their real names. On the old
// file naming the build failed ("illegal name 'a b.yaml' in file creation")
// and nothing was committed.
func TestOddNamesAreCommittedWithTheOthers(t *testing.T) {
	names := []string{strings.Repeat("n", 253), "a b", "a\tb", "a\nb", "a\x00b", "...", "x..y", "ok"}
	caps := statusCaps(3)
	for _, n := range names {
		caps = append(caps, clusterRole(n))
	}
	repo := &fakeRepo{}
	w := writeback.New(testConfig(), repo, "uid-a", writeback.Options{MaxDeleteShare: 0.2})
	if _, err := w.Publish(t.Context(), caps); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if w.Skipped() != 0 {
		t.Errorf("skipped %d objects, want 0", w.Skipped())
	}
	for p := range repo.branch {
		for _, seg := range strings.Split(p, "/") {
			if len(seg) > overlay.MaxFileName {
				t.Errorf("%q: a %d-byte name", p, len(seg))
			}
		}
	}
	o, err := overlay.Read(repo.branch, dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range o.Resources {
		got[f.Name()] = true
	}
	for _, n := range names {
		if !got[n] {
			t.Errorf("%q not read back from the branch (have %d resources)", n, len(o.Resources))
		}
	}
	if len(o.Status) != 3 {
		t.Errorf("%d status files, want the 3 other objects'", len(o.Status))
	}
}

// An object whose file breaks the build (here a whole object the base
// defines too: kustomize refuses the duplicate id) is left out, its
// recorded file kept, and every other object is committed.
func TestOneBadObjectDoesNotBlockTheOthers(t *testing.T) {
	// Where the branch recorded it: in its bucket, or where a driftback
	// before buckets (overlay.LegacyFileName) wrote it.
	for _, recorded := range []string{"status/default/core_ConfigMap/9e/dup.yaml", "status/default/core_ConfigMap/dup.yaml"} {
		t.Run(recorded, func(t *testing.T) { testOneBadObject(t, recorded) })
	}
}

func testOneBadObject(t *testing.T, recorded string) {
	cfg := testConfig()
	cfg.Overlay.Resources = []string{"../../../base"}
	dup := capture.Capture{
		Ref:    capture.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "default", Name: "dup"},
		Mode:   capture.ModeObject,
		Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "dup", "namespace": "default"}, "data": map[string]any{"k": "new"}},
	}
	parent := branchOf(t, "uid-a", statusCaps(4))
	parent["base/kustomization.yaml"] = &fstest.MapFile{Data: []byte("resources: [cm.yaml]\n")}
	parent["base/cm.yaml"] = &fstest.MapFile{Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dup, namespace: default}\n")}
	// What the branch recorded for it before (a status file) is kept.
	parent[dir+"/"+recorded] = &fstest.MapFile{Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dup, namespace: default}\nstatus: {old: true}\n")}
	// kustomize itself cannot build an object named with a DEL character
	// (its YAML round trip refuses control characters): also left out.
	caps := append(statusCaps(5), dup, clusterRole("a b"), clusterRole("del\x7f"))
	repo := &fakeRepo{branch: parent}
	m := writeback.NewMetrics()
	w := writeback.New(cfg, repo, "uid-a", writeback.Options{MaxDeleteShare: 0.2})
	if ok, err := w.Unattended(t.Context(), capture.PackAll(caps), nil, nil, time.Now(), m); err != nil || !ok {
		t.Fatalf("publish: %v, %v; want the other objects committed", ok, err)
	}
	if w.Skipped() != 2 {
		t.Errorf("skipped %d, want 2", w.Skipped())
	}
	if got := gaugeValue(t, m, "driftback_objects_skipped"); got != 2 {
		t.Errorf("driftback_objects_skipped = %v, want 2", got)
	}
	if _, ok := repo.branch[dir+"/resources/default/core_ConfigMap/9e/dup.yaml"]; ok {
		t.Error("the object that breaks the build was committed")
	}
	if f, ok := repo.branch[dir+"/"+recorded]; !ok || !strings.Contains(string(f.Data), "old: true") {
		t.Error("the skipped object's recorded file was not kept")
	}
	if len(overlayKeys(t, repo.branch)) != 6 {
		t.Errorf("branch holds %v, want the 5 buckets' status and the kept ConfigMap's", overlayKeys(t, repo.branch))
	}
	if _, ok := repo.branch[dir+"/resources/_cluster/rbac.authorization.k8s.io_ClusterRole/c8/_a_20b.yaml"]; !ok {
		t.Error("the ClusterRole \"a b\" was not committed with the others")
	}
	if _, err := render.Build(repo.branch, dir, treeAt(repo.branch, dir)); err != nil {
		t.Errorf("the committed overlay does not build: %v", err)
	}
}

func gaugeValue(t *testing.T, m *writeback.Metrics, name string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.Collectors()...)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// treeAt is the overlay at dir of fsys as a render.Tree.
func treeAt(fsys fstest.MapFS, dir string) render.Tree {
	t := render.Tree{}
	for p, f := range fsys {
		if rel, ok := strings.CutPrefix(p, dir+"/"); ok {
			t[rel] = f.Data
		}
	}
	return t
}
