package restore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/internal/testenv"
	"github.com/driftback/driftback/overlay"
)

// cp is the real control plane this package's integration tests share.
var cp *testenv.ControlPlane

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	root, err := testenv.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if cp, err = testenv.Start(filepath.Join(root, "testdata", "crds"), filepath.Join(root, "restore", "testdata", "crds")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cp.Stop()
	return m.Run()
}

var clusterGVR = schema.GroupVersionResource{Group: "infra.example.com", Version: "v1alpha1", Resource: "kubernetesclusters"}

const statusFile = `apiVersion: infra.example.com/v1alpha1
kind: KubernetesCluster
metadata:
  name: %[1]s
  namespace: default
status:
  apiServerURL: https://%[1]s.k8s.internal:6443
  masterVersion: 1.28.23
  nodes: 3
  conditions:
  - type: Ready
    status: "True"
`

// overlayWith is an overlay of format version 1, as a driftback before
// bucket directories (overlay.Bucket) wrote it: restore and the drill read
// such branches (the current layout is what the end-to-end tests restore).
func overlayWith(names ...string) fstest.MapFS {
	fsys := fstest.MapFS{
		"o/kustomization.yaml": {Data: []byte("resources: []\n")},
		"o/.driftback.yaml":    {Data: []byte("apiVersion: driftback.dev/v1alpha1\nkind: Overlay\nformatVersion: 1\ncluster: lost\nclusterUID: uid-a\n")},
	}
	for _, n := range names {
		fsys["o/status/default/infra.example.com_KubernetesCluster/"+n+".yaml"] = &fstest.MapFile{Data: []byte(fmt.Sprintf(statusFile, n))}
	}
	return fsys
}

// createCluster creates the object as the GitOps tool would: without status,
// then an operator's partial status (a condition with a timestamp).
func createCluster(t *testing.T, c *Cluster, name string) {
	t.Helper()
	if err := newCluster(c, name, true); err != nil {
		t.Fatal(err)
	}
}

// newCluster creates the object; withStatus also writes a partial status as
// an operator would.
func newCluster(c *Cluster, name string, withStatus bool) error {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "infra.example.com/v1alpha1", "kind": "KubernetesCluster",
		"metadata": map[string]any{"name": name, "namespace": "default"},
		"spec":     map[string]any{"type": "iks"},
		"status":   map[string]any{"apiServerURL": "ignored-on-create"},
	}}
	created, err := c.Dyn.Resource(clusterGVR).Namespace("default").Create(context.Background(), u, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	if _, found, _ := unstructured.NestedString(created.Object, "status", "apiServerURL"); found {
		return fmt.Errorf("the apiserver kept status on create; the test premise is wrong")
	}
	if !withStatus {
		return nil
	}
	created.Object["status"] = map[string]any{"conditions": []any{map[string]any{"type": "Ready", "status": "False", "lastTransitionTime": "2026-01-01T00:00:00Z"}}}
	if _, err := c.Dyn.Resource(clusterGVR).Namespace("default").UpdateStatus(context.Background(), created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("write status of %s: %w", name, err)
	}
	return nil
}

func liveStatus(t *testing.T, c *Cluster, name string) map[string]any {
	t.Helper()
	u, err := c.Dyn.Resource(clusterGVR).Namespace("default").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, _, _ := unstructured.NestedMap(u.Object, "status")
	return s
}

func TestRestore(t *testing.T) {
	c, err := NewCluster(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ov, err := overlay.Read(overlayWith("r-present", "r-late", "r-never"), "o")
	if err != nil {
		t.Fatal(err)
	}
	if ov.Meta.ClusterUID != "uid-a" || len(ov.Status) != 3 {
		t.Fatalf("overlay read wrong: %+v", ov)
	}
	createCluster(t, c, "r-present")

	// Dry run: says what it would do, writes nothing.
	present, late := ov.Status[2], ov.Status[0] // sorted by path: r-late, r-never, r-present
	dry := Restore(ctx, c, []overlay.File{present}, Options{Rules: everyStatus, DryRun: true})
	if dry.Count(WouldRestore) != 1 || !dry.OK() {
		t.Fatalf("dry run: %+v", dry)
	}
	if _, ok := liveStatus(t, c, "r-present")["apiServerURL"]; ok {
		t.Fatal("dry run wrote the status")
	}

	// r-late appears while restore waits (the GitOps tool is still
	// applying); r-never never does.
	created := make(chan error, 1)
	go func() { created <- newCluster(c, "r-late", false) }()
	sum := Restore(ctx, c, ov.Status, Options{Rules: everyStatus, Wait: 3 * time.Second, Poll: 100 * time.Millisecond})
	if err := <-created; err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	sum.Print(&out)
	t.Log(out.String())
	if sum.Count(Restored) != 2 || sum.Count(Missing) != 1 || sum.OK() {
		t.Fatalf("restore: want 2 restored and r-never missing:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "missing       KubernetesCluster.infra.example.com/default/r-never") {
		t.Errorf("the summary does not name the missing object:\n%s", out.String())
	}
	for _, n := range []string{"r-present", "r-late"} {
		s := liveStatus(t, c, n)
		conds := s["conditions"].([]any)
		cond := conds[0].(map[string]any)
		if s["apiServerURL"] != "https://"+n+".k8s.internal:6443" || s["nodes"] != int64(3) || cond["status"] != "True" {
			t.Errorf("%s status after restore = %v", n, s)
		}
		if n == "r-present" && cond["lastTransitionTime"] != "2026-01-01T00:00:00Z" {
			t.Errorf("%s: a live field the capture excluded was dropped: %v", n, cond)
		}
	}

	// Idempotent: a second run finds everything equal and writes nothing.
	before, _ := c.Dyn.Resource(clusterGVR).Namespace("default").Get(ctx, "r-present", metav1.GetOptions{})
	again := Restore(ctx, c, []overlay.File{present, late}, Options{Rules: everyStatus})
	after, _ := c.Dyn.Resource(clusterGVR).Namespace("default").Get(ctx, "r-present", metav1.GetOptions{})
	if again.Count(AlreadyEqual) != 2 || !again.OK() || before.GetResourceVersion() != after.GetResourceVersion() {
		t.Errorf("second restore: %+v, resourceVersion %s -> %s", again, before.GetResourceVersion(), after.GetResourceVersion())
	}
}

func TestRestoreUnknownKindIsMissing(t *testing.T) {
	c, err := NewCluster(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"o/kustomization.yaml":                               {Data: []byte("resources: []\n")},
		"o/status/_cluster/nope.example.com_Thing/2d/x.yaml": {Data: []byte("apiVersion: nope.example.com/v1\nkind: Thing\nmetadata:\n  name: x\nstatus:\n  a: b\n")},
	}
	ov, err := overlay.Read(fsys, "o")
	if err != nil {
		t.Fatal(err)
	}
	sum := Restore(context.Background(), c, ov.Status, Options{Rules: everyStatus, Wait: 300 * time.Millisecond, Poll: 100 * time.Millisecond})
	if sum.Count(Missing) != 1 || sum.OK() {
		t.Errorf("a kind the cluster does not serve (CRD not applied yet) must count as missing: %+v", sum)
	}
}

// TestRestoreFillsRequiredConditionTimes: captures exclude a condition's
// lastTransitionTime, but CRDs following metav1.Condition require it; the
// restore supplies its own time rather than fail validation.
func TestRestoreFillsRequiredConditionTimes(t *testing.T) {
	c, err := NewCluster(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	gvr := schema.GroupVersionResource{Group: "conditions.example.com", Version: "v1", Resource: "gadgets"}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "conditions.example.com/v1", "kind": "Gadget",
		"metadata": map[string]any{"name": "g", "namespace": "default"},
	}}
	if _, err := c.Dyn.Resource(gvr).Namespace("default").Create(ctx, u, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"o/kustomization.yaml": {Data: []byte("resources: []\n")},
		"o/status/default/conditions.example.com_Gadget/cd/g.yaml": {Data: []byte("apiVersion: conditions.example.com/v1\nkind: Gadget\nmetadata:\n  name: g\n  namespace: default\nstatus:\n  endpoint: https://g\n  conditions:\n  - type: Ready\n    status: \"True\"\n")},
	}
	ov, err := overlay.Read(fsys, "o")
	if err != nil {
		t.Fatal(err)
	}
	sum := Restore(ctx, c, ov.Status, Options{Rules: everyStatus})
	if !sum.OK() || sum.Count(Restored) != 1 {
		var out strings.Builder
		sum.Print(&out)
		t.Fatalf("restore:\n%s", out.String())
	}
	live, err := c.Dyn.Resource(gvr).Namespace("default").Get(ctx, "g", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	conds, _, _ := unstructured.NestedSlice(live.Object, "status", "conditions")
	if len(conds) != 1 || conds[0].(map[string]any)["lastTransitionTime"] == nil || conds[0].(map[string]any)["status"] != "True" {
		t.Errorf("conditions after restore = %v", conds)
	}
	if again := Restore(ctx, c, ov.Status, Options{Rules: everyStatus}); again.Count(AlreadyEqual) != 1 {
		t.Errorf("second restore should find the status equal: %+v", again)
	}
}

// TestRestoreWithoutStatusSubresource: a kind whose status is part of the
// main resource gets it written through the object.
func TestRestoreWithoutStatusSubresource(t *testing.T) {
	c, err := NewCluster(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	gvr := schema.GroupVersionResource{Group: "conditions.example.com", Version: "v1", Resource: "legacies"}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "conditions.example.com/v1", "kind": "Legacy",
		"metadata": map[string]any{"name": "old", "namespace": "default"},
		"spec":     map[string]any{"size": int64(1)},
	}}
	if _, err := c.Dyn.Resource(gvr).Namespace("default").Create(ctx, u, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ov, err := overlay.Read(fstest.MapFS{
		"o/kustomization.yaml": {Data: []byte("resources: []\n")},
		"o/status/default/conditions.example.com_Legacy/cb/old.yaml": {Data: []byte("apiVersion: conditions.example.com/v1\nkind: Legacy\nmetadata:\n  name: old\n  namespace: default\nstatus:\n  id: legacy-7\n")},
	}, "o")
	if err != nil {
		t.Fatal(err)
	}
	if sum := Restore(ctx, c, ov.Status, Options{Rules: everyStatus}); sum.Count(Restored) != 1 {
		t.Fatalf("restore: %+v", sum)
	}
	live, err := c.Dyn.Resource(gvr).Namespace("default").Get(ctx, "old", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if id, _, _ := unstructured.NestedString(live.Object, "status", "id"); id != "legacy-7" {
		t.Errorf("status.id = %q, want legacy-7", id)
	}
}

// everyStatus selects the whole status of every kind: the tests that are
// not about the rules restore whatever their fixtures hold.
var everyStatus = []capture.Rule{{Name: "every-status", Fields: []capture.Path{capture.MustParsePath("status")}}}
