package argocd

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/gitops-engine/v3/pkg/cache"
	"github.com/argoproj/argo-cd/gitops-engine/v3/pkg/engine"
	gesync "github.com/argoproj/argo-cd/gitops-engine/v3/pkg/sync"
	"github.com/argoproj/argo-cd/gitops-engine/v3/pkg/sync/common"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/driftback/driftback/internal/gitserver"
	"github.com/driftback/driftback/overlay"
	"github.com/driftback/driftback/render"
	"github.com/driftback/driftback/restore"
)

var (
	bucketGVR  = schema.GroupVersionResource{Group: "s3.aws.upbound.io", Version: "v1beta1", Resource: "buckets"}
	clusterGVR = schema.GroupVersionResource{Group: "infra.example.com", Version: "v1alpha1", Resource: "kubernetesclusters"}
)

const (
	overlayDir   = "clusters/demo/driftback"
	externalName = "demo-logs-7f3a9c"
	apiServerURL = "https://payments.k8s.internal:6443"
)

// TestArgoCDSyncEqualsDrill records cluster A's runtime state with `driftback
// snapshot`, then rebuilds one scratch cluster with Argo CD's sync engine
// (followed by `driftback restore`, as the runbook says) and another with
// `driftback drill`, and requires both to hold every captured field as Git
// does.
func TestArgoCDSyncEqualsDrill(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// Git: main holds the team's base, as in the demo.
	srv := gitserver.New(t, gitserver.Options{})
	_, repoDir := srv.CreateRepo(t, "fleet")
	seed := map[string]string{}
	for _, f := range []string{"kustomization.yaml", "bucket.yaml", "cluster.yaml"} {
		b, err := os.ReadFile(filepath.Join(root, "testdata", "demo", "base", f))
		if err != nil {
			t.Fatal(err)
		}
		seed["base/"+f] = string(b)
	}
	gitserver.Seed(t, repoDir, "main", seed)
	cfg := filepath.Join(root, "testdata", "demo", "driftback.yaml")

	// Cluster A: Argo CD applied the base, the controllers wrote runtime state.
	built, err := render.Build(os.DirFS(root), "testdata/demo/base", render.Tree{})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := restore.SplitYAML(built)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := restore.Apply(ctx, a.cl, objs, restore.ApplyOptions{FieldManager: "argocd-controller"}); err != nil {
		t.Fatalf("apply the base to A: %v", err)
	}
	simulateControllers(ctx, t, a)
	run(t, root, driftback, "snapshot", "--kubeconfig", a.kubeconfig, "--config", cfg, "--repo", repoDir)

	// A is lost. Only the branch is left.
	clone := filepath.Join(t.TempDir(), "clone")
	run(t, root, "git", "clone", "-q", "--branch", "driftback/demo", repoDir, clone)
	ov, err := overlay.Read(os.DirFS(clone), overlayDir)
	if err != nil {
		t.Fatal(err)
	}

	// Rebuild 1: Argo CD's engine syncs merged/, the path docs/install.md
	// gives the Application (the overlay's build output, built at the
	// base's cost), then driftback restore. merged/ must build the very
	// objects the overlay builds.
	manifests, err := render.Build(os.DirFS(clone), overlayDir, render.Tree{})
	if err != nil {
		t.Fatal(err)
	}
	mergedManifests, err := render.Build(os.DirFS(clone), overlayDir+"/"+overlay.MergedDir, render.Tree{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := restore.SplitYAML(manifests)
	if err != nil {
		t.Fatal(err)
	}
	target, err := restore.SplitYAML(mergedManifests)
	if err != nil {
		t.Fatal(err)
	}
	if !sameObjects(want, target) {
		t.Fatalf("merged/ builds other objects than the overlay:\noverlay:\n%s\nmerged/:\n%s", manifests, mergedManifests)
	}
	argoSync(ctx, t, target)
	out := run(t, root, driftback, "restore", "--kubeconfig", argo.kubeconfig, "--config", cfg, "--repo", repoDir, "--wait", "30s")
	t.Logf("driftback restore after the Argo CD sync:\n%s", out)

	// Rebuild 2: driftback drill.
	out = run(t, root, driftback, "drill", "--yes", "--kubeconfig", drill.kubeconfig, "--config", cfg, "--repo", repoDir, "--wait", "30s")
	t.Logf("driftback drill:\n%s", out)

	byArgo := restore.Verify(ctx, argo.cl, ov)
	byDrill := restore.Verify(ctx, drill.cl, ov)
	for name, v := range map[string]restore.Verification{"Argo CD sync + restore": byArgo, "drill": byDrill} {
		for _, m := range v.Mismatches {
			t.Errorf("%s: %s %s: want %v, got %v", name, m.Object, m.Path, m.Want, m.Got)
		}
		if v.Fields == 0 {
			t.Errorf("%s: no captured field verified; the overlay is empty", name)
		}
	}
	if byArgo.Objects != byDrill.Objects || byArgo.Fields != byDrill.Fields {
		t.Errorf("Argo CD verified %d fields of %d objects, the drill %d of %d", byArgo.Fields, byArgo.Objects, byDrill.Fields, byDrill.Objects)
	}
	t.Logf("both rebuilds hold all %d captured fields of %d objects", byArgo.Fields, byArgo.Objects)

	// The two facts the mission is about, read straight from the cluster.
	bucket, err := argo.dyn.Resource(bucketGVR).Get(ctx, "demo-logs", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := bucket.GetAnnotations()["crossplane.io/external-name"]; got != externalName {
		t.Errorf("Argo CD rebuilt the bucket with external name %q, want A's %q (the provider would create a second bucket)", got, externalName)
	}
	kc, err := argo.dyn.Resource(clusterGVR).Namespace("default").Get(ctx, "payments", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _ := unstructured.NestedString(kc.Object, "status", "apiServerURL"); got != apiServerURL {
		t.Errorf("status.apiServerURL after the Argo CD rebuild = %q, want A's %q", got, apiServerURL)
	}
}

// sameObjects reports whether two builds hold the same objects, in any order.
func sameObjects(a, b []*unstructured.Unstructured) bool {
	if len(a) != len(b) {
		return false
	}
	byID := map[string]*unstructured.Unstructured{}
	for _, o := range a {
		byID[o.GroupVersionKind().String()+"/"+o.GetNamespace()+"/"+o.GetName()] = o
	}
	for _, o := range b {
		w, ok := byID[o.GroupVersionKind().String()+"/"+o.GetNamespace()+"/"+o.GetName()]
		if !ok || !reflect.DeepEqual(w.Object, o.Object) {
			return false
		}
	}
	return true
}

// argoSync applies the overlay to the Argo CD plane with gitops-engine, the
// library inside Argo CD's application controller, and requires every
// resource to end Synced.
func argoSync(ctx context.Context, t *testing.T, target []*unstructured.Unstructured) {
	t.Helper()
	clusterCache := cache.NewClusterCache(argo.cp.Config)
	eng := engine.NewEngine(argo.cp.Config, clusterCache)
	stop, err := eng.Run()
	if err != nil {
		t.Fatalf("start gitops-engine: %v", err)
	}
	defer stop()
	// A rebuilt cluster holds none of these objects yet: nothing is managed.
	notManaged := func(*cache.Resource) bool { return false }
	results, err := eng.Sync(ctx, target, notManaged, "driftback/demo", "default", gesync.WithPrune(false))
	if err != nil {
		t.Fatalf("gitops-engine sync: %v", err)
	}
	if len(results) != len(target) {
		t.Errorf("gitops-engine synced %d resources, the overlay holds %d", len(results), len(target))
	}
	for _, r := range results {
		if r.Status != common.ResultCodeSynced {
			t.Errorf("gitops-engine: %s ended %s: %s", r.ResourceKey, r.Status, r.Message)
		}
	}
}

// simulateControllers writes what the provider and the operator write at run
// time: the bucket's external name and ARN, the cluster's status.
func simulateControllers(ctx context.Context, t *testing.T, p *plane) {
	t.Helper()
	patch := []byte(`{"metadata":{"annotations":{"crossplane.io/external-name":"` + externalName + `"}}}`)
	if _, err := p.dyn.Resource(bucketGVR).Patch(ctx, "demo-logs", types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "provider-aws"}); err != nil {
		t.Fatal(err)
	}
	status := []byte(`{"status":{"atProvider":{"arn":"arn:aws:s3:::` + externalName + `","region":"eu-west-1"}}}`)
	if _, err := p.dyn.Resource(bucketGVR).Patch(ctx, "demo-logs", types.MergePatchType, status, metav1.PatchOptions{FieldManager: "provider-aws"}, "status"); err != nil {
		t.Fatal(err)
	}
	status = []byte(`{"status":{"apiServerURL":"` + apiServerURL + `","masterVersion":"1.28.23","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-11-01T00:00:00Z"}]}}`)
	if _, err := p.dyn.Resource(clusterGVR).Namespace("default").Patch(ctx, "payments", types.MergePatchType, status, metav1.PatchOptions{FieldManager: "cluster-operator"}, "status"); err != nil {
		t.Fatal(err)
	}
}
