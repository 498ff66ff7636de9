package flux

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	generator "github.com/fluxcd/pkg/kustomize"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/driftback/driftback/internal/gitserver"
	"github.com/driftback/driftback/overlay"
)

// The fleet as a Flux user lays it out: a root Kustomization on a plain
// directory of per-app Kustomizations (Kustomization-of-Kustomizations).
// payments is a plain directory of YAML with postBuild variables and a
// targetNamespace; storage is a kustomization with a namePrefix that
// dependsOn payments.
var fleet = map[string]string{
	"clusters/demo/flux/namespaces.yaml": `apiVersion: v1
kind: Namespace
metadata:
  name: payments
`,
	"clusters/demo/flux/apps.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: payments
  namespace: default
spec:
  interval: 10m
  sourceRef: {kind: GitRepository, name: fleet}
  path: ./apps/payments
  prune: true
  targetNamespace: payments
  postBuild:
    substitute:
      cluster_name: payments
      region: eu-west-1
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: storage
  namespace: default
spec:
  interval: 10m
  dependsOn:
  - name: payments
  sourceRef: {kind: GitRepository, name: fleet}
  path: ./apps/storage
  prune: true
  namePrefix: fleet-
`,
	// A plain directory: Flux generates its kustomization.yaml.
	"apps/payments/cluster.yaml": `apiVersion: infra.example.com/v1alpha1
kind: KubernetesCluster
metadata:
  name: ${cluster_name}
  namespace: team
spec:
  type: iks
  region: ${region}
`,
	"apps/storage/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- bucket.yaml
`,
	"apps/storage/bucket.yaml": `apiVersion: s3.aws.upbound.io/v1beta1
kind: Bucket
metadata:
  name: logs
spec:
  forProvider:
    region: eu-west-1
`,
	// One driftback configuration per app Kustomization, each with the
	// settings of the Flux Kustomization that will apply its overlay.
	"driftback/payments.yaml": `apiVersion: driftback.dev/v1alpha1
kind: Config
cluster: demo
git:
  branch: driftback/demo
  path: clusters/demo/driftback/payments
overlay:
  resources: [../../../../apps/payments]
  flux:
    targetNamespace: payments
rules:
- name: cluster-state
  match:
    apiGroups: [infra.example.com]
    kinds: [KubernetesCluster]
    namespaces: [payments]
  fields:
  - metadata.annotations["infra.example.com/cluster-id"]
  - spec.region
  - status
  exclude:
  - status.conditions[*].lastTransitionTime
`,
	"driftback/storage.yaml": `apiVersion: driftback.dev/v1alpha1
kind: Config
cluster: demo
git:
  branch: driftback/demo
  path: clusters/demo/driftback/storage
overlay:
  resources: [../../../../apps/storage]
  flux:
    namePrefix: fleet-
rules:
- name: buckets
  mode: auto
  match:
    apiGroups: [s3.aws.upbound.io]
    kinds: [Bucket]
    names: [fleet-*]
  fields:
  - metadata.annotations["crossplane.io/external-name"]
  - status.atProvider
`,
}

// rootKustomization is flux-system's Kustomization of the fleet; patches,
// when given, move app Kustomizations to their overlays for a rebuild.
func rootKustomization(t *testing.T, patches string) *unstructured.Unstructured {
	return parseKustomization(t, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: default
spec:
  interval: 10m
  sourceRef: {kind: GitRepository, name: fleet}
  path: ./clusters/demo/flux
  prune: true
`+patches)
}

// rebuildPatches is what the runbook adds to the root Kustomization during a
// rebuild: each app Kustomization keeps its settings (targetNamespace,
// namePrefix, postBuild, dependsOn) and builds its overlay instead of its
// base. The GitRepository follows driftback's branch, which is main plus
// the overlays.
const rebuildPatches = `  patches:
  - target: {kind: Kustomization, name: payments}
    patch: |
      - op: replace
        path: /spec/path
        value: ./clusters/demo/driftback/payments
  - target: {kind: Kustomization, name: storage}
    patch: |
      - op: replace
        path: /spec/path
        value: ./clusters/demo/driftback/storage
`

// TestFluxLayouts rebuilds a fleet laid out as Flux users lay it out, with
// Flux's generator, build, postBuild substitution and staged apply, and
// requires every captured field back.
func TestFluxLayouts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	srv := gitserver.New(t, gitserver.Options{})
	_, repoDir := srv.CreateRepo(t, "fleet")
	seed := map[string]string{}
	for _, files := range []map[string]string{fleet, restoreFiles} {
		for p, c := range files {
			seed[p] = c
		}
	}
	gitserver.Seed(t, repoDir, "main", seed)
	main := clone(t, repoDir, "main")

	// Cluster A: the root applies the app Kustomizations, which are
	// reconciled in dependsOn order.
	onA := newKustomizeController(t, a, map[string]string{"fleet": main})
	cs, err := onA.reconcile(ctx, rootKustomization(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	apps, err := onA.kustomizationsIn(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(apps) // storage first: it must wait for payments
	order, err := onA.reconcileAll(ctx, apps)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(order, []string{"payments", "storage"}) {
		t.Errorf("reconciled %v, want payments before storage (dependsOn)", order)
	}
	// Flux substituted the variables and renamed the objects.
	live, err := a.dyn.Resource(clusterGVR).Namespace("payments").Get(ctx, "payments", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("Flux did not apply ${cluster_name} as payments/payments: %v", err)
	}
	if r, _, _ := unstructured.NestedString(live.Object, "spec", "region"); r != "eu-west-1" {
		t.Fatalf("spec.region = %q on A, want the substituted eu-west-1", r)
	}
	layoutControllers(ctx, t)
	onA.track("s3.aws.upbound.io/v1beta1", "Bucket", "", "fleet-composed-1")

	// A plain directory in overlay.resources: driftback names the
	// kustomization.yaml to commit, and it is the one Flux generates.
	paymentsCfg := filepath.Join(main, "driftback", "payments.yaml")
	storageCfg := filepath.Join(main, "driftback", "storage.yaml")
	_, err = tryRun(root, driftback, "snapshot", "--kubeconfig", a.kubeconfig, "--config", paymentsCfg, "--repo", repoDir)
	if err == nil || !strings.Contains(err.Error(), `overlay.resources[0] "../../../../apps/payments": apps/payments is a directory of plain YAML`) {
		t.Fatalf("snapshot over a plain directory: err = %v, want the plain-directory error", err)
	}
	t.Logf("driftback snapshot over a plain directory refuses:\n%s", err.Error()[strings.Index(err.Error(), "stderr:"):])
	proposed := proposedKustomization(t, err.Error())
	fluxGenerated := generatedFor(t, main, "./apps/payments")
	if !slices.Equal(resourcesOf(t, proposed), resourcesOf(t, fluxGenerated)) {
		t.Fatalf("driftback proposes\n%s\nFlux's generator writes\n%s", proposed, fluxGenerated)
	}
	commitFile(t, repoDir, "main", "apps/payments/kustomization.yaml", proposed)
	main = clone(t, repoDir, "main")
	onA.sources["fleet"] = main
	// With the file committed, Flux applies the same objects as before.
	before, err := a.dyn.Resource(clusterGVR).Namespace("payments").Get(ctx, "payments", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := onA.reconcile(ctx, byName(t, apps, "payments")); err != nil {
		t.Fatal(err)
	}
	after, err := a.dyn.Resource(clusterGVR).Namespace("payments").Get(ctx, "payments", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if before.GetGeneration() != after.GetGeneration() {
		t.Errorf("the committed kustomization.yaml changed what Flux applies: generation %d -> %d", before.GetGeneration(), after.GetGeneration())
	}
	for _, cfg := range []string{paymentsCfg, storageCfg} {
		run(t, root, driftback, "snapshot", "--kubeconfig", a.kubeconfig, "--config", cfg, "--repo", repoDir)
	}

	// The overlays address objects as Flux's build sees them, before its
	// renaming and substitution, and freeze no variable.
	side := clone(t, repoDir, "driftback/demo")
	requireFile(t, side, "clusters/demo/driftback/payments/patches/payments/infra.example.com_KubernetesCluster/df/payments.yaml",
		[]string{"name: ${cluster_name}", "namespace: team", "infra.example.com/cluster-id: ikscluster-0042"}, []string{"region"})
	requireFile(t, side, "clusters/demo/driftback/storage/patches/_cluster/s3.aws.upbound.io_Bucket/d9/fleet-logs.yaml",
		[]string{"name: logs", "crossplane.io/external-name: fleet-logs-7f3a9c"}, nil)
	requireFile(t, side, "clusters/demo/driftback/storage/resources/_cluster/s3.aws.upbound.io_Bucket/cb/fleet-composed-1.yaml",
		[]string{"name: composed-1", "crossplane.io/external-name: composed-1-4b2e"}, nil)

	// A is lost. B: flux-system follows driftback's branch and the root
	// moves each app Kustomization to its overlay.
	onB := newKustomizeController(t, b, map[string]string{"fleet": side})
	cs, err = onB.reconcile(ctx, rootKustomization(t, rebuildPatches))
	if err != nil {
		t.Fatal(err)
	}
	apps, err = onB.kustomizationsIn(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := onB.reconcileAll(ctx, apps); err != nil {
		t.Fatal(err)
	}
	// The restore Job, ordered by dependsOn and wait, as the runbook says.
	restoreWithFlux(ctx, t, onB, repoDir, filepath.Dir(paymentsCfg))
	for _, dir := range []string{"clusters/demo/driftback/payments", "clusters/demo/driftback/storage"} {
		ov, err := overlay.Read(os.DirFS(side), dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(dir), func(t *testing.T) { requireAllFields(ctx, t, b, ov) })
	}
	// Substitution still runs over the overlay: the name is substituted,
	// and a variable changed after the capture takes effect.
	got, err := b.dyn.Resource(clusterGVR).Namespace("payments").Get(ctx, "payments", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r, _, _ := unstructured.NestedString(got.Object, "spec", "region"); r != "eu-west-1" {
		t.Errorf("spec.region on B = %q, want eu-west-1", r)
	}
	payments := byName(t, apps, "payments")
	if err := unstructured.SetNestedField(payments.Object, "eu-central-1", "spec", "postBuild", "substitute", "region"); err != nil {
		t.Fatal(err)
	}
	if _, err := onB.reconcile(ctx, payments); err != nil {
		t.Fatal(err)
	}
	got, err = b.dyn.Resource(clusterGVR).Namespace("payments").Get(ctx, "payments", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r, _, _ := unstructured.NestedString(got.Object, "spec", "region"); r != "eu-central-1" {
		t.Errorf("spec.region after changing the variable = %q, want eu-central-1: the overlay froze ${region}", r)
	}
}

// layoutControllers writes the fleet's runtime state on A.
func layoutControllers(ctx context.Context, t *testing.T) {
	t.Helper()
	merge := func(res interface {
		Patch(context.Context, string, types.PatchType, []byte, metav1.PatchOptions, ...string) (*unstructured.Unstructured, error)
	}, name, body string, sub ...string) {
		t.Helper()
		if _, err := res.Patch(ctx, name, types.MergePatchType, []byte(body), metav1.PatchOptions{FieldManager: "operator"}, sub...); err != nil {
			t.Fatalf("patch %s: %v", name, err)
		}
	}
	kc := a.dyn.Resource(clusterGVR).Namespace("payments")
	merge(kc, "payments", `{"metadata":{"annotations":{"infra.example.com/cluster-id":"ikscluster-0042"}}}`)
	merge(kc, "payments", `{"status":{"apiServerURL":"`+apiServerURL+`","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-11-01T00:00:00Z"}]}}`, "status")
	bk := a.dyn.Resource(bucketGVR)
	merge(bk, "fleet-logs", `{"metadata":{"annotations":{"crossplane.io/external-name":"fleet-logs-7f3a9c"}}}`)
	merge(bk, "fleet-logs", `{"status":{"atProvider":{"arn":"arn:aws:s3:::fleet-logs-7f3a9c"}}}`, "status")
	// A bucket composed at run time, under the Kustomization's prefix.
	composed := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket",
		"metadata": map[string]any{"name": "fleet-composed-1", "annotations": map[string]any{"crossplane.io/external-name": "composed-1-4b2e"}},
		"spec":     map[string]any{"forProvider": map[string]any{"region": "eu-west-1"}},
	}}
	if _, err := bk.Create(ctx, composed, metav1.CreateOptions{FieldManager: "crossplane"}); err != nil {
		t.Fatal(err)
	}
}

// proposedKustomization cuts the kustomization.yaml out of driftback's error.
func proposedKustomization(t *testing.T, msg string) string {
	t.Helper()
	i := strings.Index(msg, "apiVersion: kustomize.config.k8s.io/v1beta1")
	if i < 0 {
		t.Fatalf("no kustomization.yaml in %q", msg)
	}
	var lines []string
	for _, l := range strings.Split(msg[i:], "\n") {
		if l == "" {
			break
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n") + "\n"
}

// generatedFor is the kustomization.yaml Flux's generator writes for a
// Kustomization on path with no other setting.
func generatedFor(t *testing.T, src, path string) string {
	t.Helper()
	ks := parseKustomization(t, "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: x, namespace: default}\nspec: {path: "+path+"}\n")
	b, _, _, err := generator.NewGenerator(src, *ks).GenerateManifest(filepath.Join(src, path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func resourcesOf(t *testing.T, k string) []string {
	t.Helper()
	var v struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal([]byte(k), &v); err != nil {
		t.Fatal(err)
	}
	return v.Resources
}

func byName(t *testing.T, objs []*unstructured.Unstructured, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s among the Kustomizations", name)
	return nil
}

// commitFile commits one file on branch, as a person pushing to the fleet.
func commitFile(t *testing.T, repoDir, branch, p, content string) {
	t.Helper()
	work := filepath.Join(t.TempDir(), "work")
	run(t, root, "git", "clone", "-q", "--branch", branch, repoDir, work)
	if err := os.WriteFile(filepath.Join(work, filepath.FromSlash(p)), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, work, "git", "add", "-A")
	run(t, work, "git", "-c", "user.name=test", "-c", "user.email=test@localhost", "commit", "-q", "-m", "add "+p)
	run(t, work, "git", "push", "-q", "origin", branch)
}

func requireFile(t *testing.T, dir, p string, want, lack []string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, p))
	if err != nil {
		t.Errorf("overlay lacks %s: %v", p, err)
		return
	}
	for _, w := range want {
		if !strings.Contains(string(b), w) {
			t.Errorf("%s lacks %q:\n%s", p, w, b)
		}
	}
	for _, l := range lack {
		if strings.Contains(string(b), l) {
			t.Errorf("%s holds %q:\n%s", p, l, b)
		}
	}
}
