package flux

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

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
	externalName = "demo-logs-7f3a9c"
	apiServerURL = "https://payments.k8s.internal:6443"
)

// TestFluxRebuildsTheDemo is the runbook with Flux: cluster A is applied by a
// Flux Kustomization on main's base/, the controllers write runtime state,
// `driftback snapshot` records it; A is lost; cluster B is rebuilt by a Flux
// Kustomization on the overlay directory of driftback's branch, then
// `driftback restore` writes the status back. B must hold every captured
// field.
func TestFluxRebuildsTheDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	srv := gitserver.New(t, gitserver.Options{})
	_, repoDir := srv.CreateRepo(t, "demo")
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

	// Cluster A: Flux applies main's base/, the controllers write state.
	onA := newKustomizeController(t, a, map[string]string{"fleet": clone(t, repoDir, "main")})
	if _, err := onA.reconcile(ctx, parseKustomization(t, `
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: demo-apps, namespace: default}
spec:
  sourceRef: {kind: GitRepository, name: fleet}
  path: ./base
  prune: true
`)); err != nil {
		t.Fatal(err)
	}
	simulateControllers(ctx, t, a, "default")
	run(t, root, driftback, "snapshot", "--kubeconfig", a.kubeconfig, "--config", cfg, "--repo", repoDir)

	// A is lost. Flux rebuilds B from the branch: a GitRepository on
	// driftback/demo and a Kustomization on merged/, the path
	// docs/install.md gives it (the overlay's build output, built at the
	// base's cost). merged/ must build the very objects the overlay builds.
	side := clone(t, repoDir, "driftback/demo")
	ov, err := overlay.Read(os.DirFS(side), "clusters/demo/driftback")
	if err != nil {
		t.Fatal(err)
	}
	requireMergedBuildsLikeTheOverlay(t, side, "clusters/demo/driftback")
	onB := newKustomizeController(t, b, map[string]string{"fleet-driftback": side})
	cs, err := onB.reconcile(ctx, parseKustomization(t, `
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: demo-apps, namespace: default}
spec:
  sourceRef: {kind: GitRepository, name: fleet-driftback}
  path: ./clusters/demo/driftback/merged
  prune: false
  wait: true
`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Flux (fluxcd/pkg/ssa) applied the overlay:\n%s", changes(cs))
	out := run(t, root, driftback, "restore", "--kubeconfig", b.kubeconfig, "--config", cfg, "--repo", repoDir, "--wait", "30s")
	t.Logf("driftback restore after Flux applied the overlay:\n%s", out)

	requireAllFields(ctx, t, b, ov)
	bucket, err := b.dyn.Resource(bucketGVR).Get(ctx, "demo-logs", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := bucket.GetAnnotations()["crossplane.io/external-name"]; got != externalName {
		t.Errorf("Flux rebuilt the bucket with external name %q, want A's %q (the provider would create a second bucket)", got, externalName)
	}
	if got := bucket.GetLabels()["kustomize.toolkit.fluxcd.io/name"]; got != "demo-apps" {
		t.Errorf("bucket label kustomize.toolkit.fluxcd.io/name = %q, want demo-apps: not applied as Flux applies", got)
	}
	kc, err := b.dyn.Resource(clusterGVR).Namespace("default").Get(ctx, "payments", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _ := unstructured.NestedString(kc.Object, "status", "apiServerURL"); got != apiServerURL {
		t.Errorf("status.apiServerURL after the Flux rebuild = %q, want A's %q", got, apiServerURL)
	}
}

// requireMergedBuildsLikeTheOverlay builds the overlay and its merged/ with
// krusty and requires the same objects.
func requireMergedBuildsLikeTheOverlay(t *testing.T, repo, dir string) {
	t.Helper()
	objects := func(d string) map[string]map[string]any {
		built, err := render.Build(os.DirFS(repo), d, render.Tree{})
		if err != nil {
			t.Fatal(err)
		}
		objs, err := restore.SplitYAML(built)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]map[string]any{}
		for _, o := range objs {
			out[o.GroupVersionKind().String()+"/"+o.GetNamespace()+"/"+o.GetName()] = o.Object
		}
		return out
	}
	want, got := objects(dir), objects(dir+"/"+overlay.MergedDir)
	if len(want) == 0 || !reflect.DeepEqual(want, got) {
		t.Fatalf("merged/ builds other objects than the overlay:\noverlay: %v\nmerged/: %v", want, got)
	}
}

// requireAllFields checks every captured field of the overlay against p.
func requireAllFields(ctx context.Context, t *testing.T, p *plane, ov *overlay.Overlay) {
	t.Helper()
	v := restore.Verify(ctx, p.cl, ov)
	for _, m := range v.Mismatches {
		t.Errorf("%s %s: want %v, got %v", m.Object, m.Path, m.Want, m.Got)
	}
	if v.Fields == 0 {
		t.Error("no captured field verified; the overlay is empty")
	}
	t.Logf("the rebuilt cluster holds all %d captured fields of %d objects (%d mismatches)", v.Fields, v.Objects, len(v.Mismatches))
}

// clone checks a branch of the bare repository out, as source-controller
// does for a GitRepository.
func clone(t *testing.T, repoDir, branch string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "src")
	run(t, root, "git", "clone", "-q", "--branch", branch, repoDir, dir)
	if err := os.RemoveAll(filepath.Join(dir, ".git")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// simulateControllers writes what the provider and the operator write at run
// time: the bucket's external name and ARN, the cluster's status.
func simulateControllers(ctx context.Context, t *testing.T, p *plane, ns string) {
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
	if _, err := p.dyn.Resource(clusterGVR).Namespace(ns).Patch(ctx, "payments", types.MergePatchType, status, metav1.PatchOptions{FieldManager: "cluster-operator"}, "status"); err != nil {
		t.Fatal(err)
	}
}
