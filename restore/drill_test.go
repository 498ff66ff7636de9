package restore

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/driftback/driftback/capture"
)

// drillRepo is a repository with a base (a Namespace, a CRD that the
// cluster does not have yet and an object of it) and an overlay that patches
// the object, adds a runtime-only object and records their status.
func drillRepo() fstest.MapFS {
	return fstest.MapFS{
		"base/kustomization.yaml": {Data: []byte("resources: [ns.yaml, crd.yaml, widget.yaml]\n")},
		"base/ns.yaml":            {Data: []byte("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: drill\n")},
		"base/crd.yaml": {Data: []byte(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.drill.example.com
spec:
  group: drill.example.com
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`)},
		"base/widget.yaml": {Data: []byte("apiVersion: drill.example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: drill\nspec:\n  size: 2\n")},
		"o/kustomization.yaml": {Data: []byte(`resources: [../base, resources/drill/drill.example.com_Widget/d9/runtime.yaml]
patches:
- path: patches/drill/drill.example.com_Widget/50/w.yaml
`)},
		"o/.driftback.yaml": {Data: []byte("apiVersion: driftback.dev/v1alpha1\nkind: Overlay\nformatVersion: 1\ncluster: lost\nclusterUID: uid-a\n")},
		"o/patches/drill/drill.example.com_Widget/50/w.yaml": {Data: []byte(`apiVersion: drill.example.com/v1
kind: Widget
metadata:
  name: w
  namespace: drill
  annotations:
    example.com/external-id: w-123
`)},
		"o/resources/drill/drill.example.com_Widget/d9/runtime.yaml": {Data: []byte("apiVersion: drill.example.com/v1\nkind: Widget\nmetadata:\n  name: runtime\n  namespace: drill\n  labels: {composed: \"yes\"}\nspec:\n  size: 1\n")},
		"o/status/drill/drill.example.com_Widget/50/w.yaml":          {Data: []byte("apiVersion: drill.example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: drill\nstatus:\n  endpoint: https://w.internal\n  replicas: 2\n")},
	}
}

func TestDrill(t *testing.T) {
	c, err := NewCluster(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := Drill(ctx, c, drillRepo(), "o", DrillOptions{Restore: Options{Rules: everyStatus, Wait: 5 * time.Second}})
	var out strings.Builder
	r.Print(&out)
	t.Log(out.String())
	if !r.OK() {
		t.Fatalf("drill failed:\n%s", out.String())
	}
	// 4 objects applied; verified: 1 patch leaf + 2 resource leaves (label, size) + 2 status leaves.
	if len(r.Applied) != 4 || r.Verify.Objects != 3 || r.Verify.Fields != 5 || r.Restore.Count(Restored) != 1 {
		t.Errorf("applied %v, verified %d fields of %d objects, restore %+v", r.Applied, r.Verify.Fields, r.Verify.Objects, r.Restore)
	}
	for _, want := range []string{"applied:   4 object(s)", "verified:  5 field(s) of 3 object(s), 0 mismatch(es)", "RTO:", "drill:     PASS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	gvr := schema.GroupVersionResource{Group: "drill.example.com", Version: "v1", Resource: "widgets"}
	w, err := c.Dyn.Resource(gvr).Namespace("drill").Get(ctx, "w", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Applied as a GitOps manager: the rebuilt cluster's capture must
	// tell Git's fields from runtime state as the lost cluster's did.
	if mf := w.GetManagedFields(); len(mf) == 0 || mf[0].Manager != "argocd-controller" {
		t.Errorf("applied object's managers = %v, want argocd-controller", mf)
	}

	// Verify only: the rebuilt cluster checks out, nothing is applied.
	vo := Drill(ctx, c, drillRepo(), "o", DrillOptions{VerifyOnly: true, Restore: Options{Rules: everyStatus}})
	if !vo.OK() || len(vo.Applied) != 0 || vo.Verify.Fields != 5 {
		t.Errorf("verify-only drill: ok=%v applied=%v fields=%d", vo.OK(), vo.Applied, vo.Verify.Fields)
	}

	// A second drill on the same cluster changes nothing and passes.
	again := Drill(ctx, c, drillRepo(), "o", DrillOptions{Restore: Options{Rules: everyStatus}})
	if !again.OK() || again.Restore.Count(AlreadyEqual) != 1 {
		t.Errorf("second drill: ok=%v restore=%+v err=%v", again.OK(), again.Restore, again.Err)
	}
}

func TestDrillReportsMismatches(t *testing.T) {
	c, err := NewCluster(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		path  string
		file  string
		wants []string
	}{
		{
			name:  "a status recorded for an object the overlay does not create",
			path:  "o/status/drill/drill.example.com_Widget/ea/ghost.yaml",
			file:  "apiVersion: drill.example.com/v1\nkind: Widget\nmetadata:\n  name: ghost\n  namespace: drill\nstatus:\n  endpoint: x\n",
			wants: []string{"MISMATCH Widget.drill.example.com/drill/ghost (object): want \"exists\", got (absent)"},
		},
		{
			name: "captured fields the overlay does not apply (unmatched)",
			path: "o/unmatched/drill/drill.example.com_Widget/50/w.yaml",
			file: "apiVersion: drill.example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: drill\n  annotations:\n    example.com/other-id: o-9\n",
			wants: []string{
				"unmatched: 1 file(s)",
				`MISMATCH Widget.drill.example.com/drill/w metadata.annotations["example.com/other-id"]: want "o-9", got (absent)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := drillRepo()
			fsys[tt.path] = &fstest.MapFile{Data: []byte(tt.file)}
			r := Drill(context.Background(), c, fsys, "o", DrillOptions{Restore: Options{Rules: everyStatus, Wait: 200 * time.Millisecond, Poll: 50 * time.Millisecond}})
			var out strings.Builder
			r.Print(&out)
			if r.OK() || len(r.Verify.Mismatches) != 1 {
				t.Fatalf("want one mismatch:\n%s", out.String())
			}
			for _, want := range append(tt.wants, "drill:     FAIL") {
				if !strings.Contains(out.String(), want) {
					t.Errorf("report lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

func TestSplitYAML(t *testing.T) {
	objs, err := SplitYAML([]byte("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\n\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  n: \"1\"\n"))
	if err != nil || len(objs) != 2 || objs[1].GetKind() != "ConfigMap" {
		t.Fatalf("SplitYAML = %v, %v", objs, err)
	}
	if _, err := SplitYAML([]byte("apiVersion: v1\nkind: ConfigMap\n")); err == nil {
		t.Error("an object without a name should fail")
	}
}

// A verify-only drill of an overlay that holds no captured field (nothing
// captured yet, or the wrong path) checked nothing: it fails, not PASS.
func TestDrillVerifyingNothingFails(t *testing.T) {
	c, err := NewCluster(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"o/kustomization.yaml": {Data: []byte("resources: []\n")},
		"o/.driftback.yaml":    {Data: []byte("apiVersion: driftback.dev/v1alpha1\nkind: Overlay\nformatVersion: 1\ncluster: empty\nclusterUID: uid-e\n")},
	}
	r := Drill(context.Background(), c, fsys, "o", DrillOptions{VerifyOnly: true, Restore: Options{Rules: everyStatus}})
	var out strings.Builder
	r.Print(&out)
	if r.OK() {
		t.Fatalf("a drill that verified 0 fields passed:\n%s", out.String())
	}
	for _, want := range []string{"verified:  0 field(s)", "NOTHING VERIFIED", "drill:     FAIL"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// The drill restores and verifies only what the rules select: a status file
// no rule selects is refused by name and fails the drill, in a verify-only
// run too (where nothing would have been written anyway).
func TestDrillRefusesUnselectedStatus(t *testing.T) {
	c, err := NewCluster(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	fsys := overlayWith("refused-a")
	only := []capture.Rule{{Name: "services", Match: capture.Match{APIGroups: []string{""}, Kinds: []string{"Service"}},
		Fields: []capture.Path{capture.MustParsePath("status.loadBalancer")}}}
	for _, verifyOnly := range []bool{true, false} {
		r := Drill(context.Background(), c, fsys, "o", DrillOptions{VerifyOnly: verifyOnly, Restore: Options{Rules: only}})
		var out strings.Builder
		r.Print(&out)
		if r.OK() || len(r.Refused) != 1 {
			t.Fatalf("verifyOnly=%v: the drill took a status no rule selects (refused %v):\n%s", verifyOnly, r.Refused, out.String())
		}
		want := "refused: status/default/infra.example.com_KubernetesCluster/refused-a.yaml: status is not selected by any rule"
		if !strings.Contains(out.String(), want) {
			t.Errorf("verifyOnly=%v: report lacks %q:\n%s", verifyOnly, want, out.String())
		}
		if r.Restore.Count(Restored) != 0 || r.Verify.Fields != 0 {
			t.Errorf("verifyOnly=%v: restored %d, verified %d fields of a refused file", verifyOnly, r.Restore.Count(Restored), r.Verify.Fields)
		}
	}
}
