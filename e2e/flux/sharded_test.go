package flux

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/driftback/driftback/internal/gitserver"
	"github.com/driftback/driftback/overlay"
)

// A cluster sharded across two configurations (docs/sharding.md): shard
// "buckets" records the Bucket's external name in its directory over the
// base, shard "clusters" records the KubernetesCluster's status in a
// directory whose only resource is the first shard's, on one branch. Cluster
// A is lost; one Flux Kustomization on the LAST shard's directory (built and
// applied with fluxcd/pkg/kustomize and fluxcd/pkg/ssa) rebuilds both kinds
// on B, and `driftback restore` with each shard's configuration writes each
// shard's status back: B holds every field both shards captured.
func TestFluxAppliesTheLastShard(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const (
		ns      = "sharded"
		bucket  = "shard-logs"
		kc      = "shard-payments"
		extName = "shard-logs-4e1d"
		apiURL  = "https://shard.k8s.internal:6443"
		dirA    = "clusters/sharded/driftback-buckets"
		dirB    = "clusters/sharded/driftback-clusters"
	)
	srv := gitserver.New(t, gitserver.Options{})
	_, repoDir := srv.CreateRepo(t, "sharded")
	gitserver.Seed(t, repoDir, "main", map[string]string{
		"base/kustomization.yaml": "resources: [namespace.yaml, bucket.yaml, cluster.yaml]\n",
		"base/namespace.yaml":     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + ns + "\n",
		"base/bucket.yaml":        "apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata:\n  name: " + bucket + "\nspec:\n  forProvider:\n    region: eu-west-1\n",
		"base/cluster.yaml":       "apiVersion: infra.example.com/v1alpha1\nkind: KubernetesCluster\nmetadata:\n  name: " + kc + "\n  namespace: " + ns + "\nspec:\n  version: \"1.28\"\n",
	})
	cfgDir := t.TempDir()
	shardConfig := func(shard, resource, rule string) string {
		p := filepath.Join(cfgDir, shard+".yaml")
		body := "apiVersion: driftback.dev/v1alpha1\nkind: Config\ncluster: sharded\nshard: " + shard +
			"\ngit:\n  branch: driftback/sharded\noverlay:\n  resources: [" + resource + "]\nrules:\n" + rule
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfgA := shardConfig("buckets", "../../../base", `- name: external-names
  match: {apiGroups: ["*.aws.upbound.io"], kinds: ["*"], names: [shard-*]}
  fields: ['metadata.annotations["crossplane.io/external-name"]', status.atProvider]
`)
	cfgB := shardConfig("clusters", "../driftback-buckets", `- name: cluster-status
  match: {apiGroups: [infra.example.com], kinds: [KubernetesCluster], namespaces: [`+ns+`]}
  fields: [status]
  exclude: ['status.conditions[*].lastTransitionTime']
`)
	out := run(t, root, driftback, "shards", "--config", cfgA, "--config", cfgB)
	if !strings.Contains(out, "apply "+dirB) {
		t.Fatalf("driftback shards does not name %s as the directory to apply:\n%s", dirB, out)
	}

	// Cluster A: Flux applies main's base/, the controllers write state,
	// each shard records its own.
	onA := newKustomizeController(t, a, map[string]string{"fleet": clone(t, repoDir, "main")})
	if _, err := onA.reconcile(ctx, parseKustomization(t, `
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: sharded-apps, namespace: default}
spec:
  sourceRef: {kind: GitRepository, name: fleet}
  path: ./base
  prune: true
`)); err != nil {
		t.Fatal(err)
	}
	patch := []byte(`{"metadata":{"annotations":{"crossplane.io/external-name":"` + extName + `"}}}`)
	if _, err := a.dyn.Resource(bucketGVR).Patch(ctx, bucket, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "provider-aws"}); err != nil {
		t.Fatal(err)
	}
	status := []byte(`{"status":{"atProvider":{"arn":"arn:aws:s3:::` + extName + `"}}}`)
	if _, err := a.dyn.Resource(bucketGVR).Patch(ctx, bucket, types.MergePatchType, status, metav1.PatchOptions{FieldManager: "provider-aws"}, "status"); err != nil {
		t.Fatal(err)
	}
	status = []byte(`{"status":{"apiServerURL":"` + apiURL + `","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-11-01T00:00:00Z"}]}}`)
	if _, err := a.dyn.Resource(clusterGVR).Namespace(ns).Patch(ctx, kc, types.MergePatchType, status, metav1.PatchOptions{FieldManager: "cluster-operator"}, "status"); err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []string{cfgA, cfgB} {
		run(t, root, driftback, "snapshot", "--kubeconfig", a.kubeconfig, "--config", cfg, "--repo", repoDir)
	}

	// A is lost. One Flux Kustomization on the last shard's directory.
	side := clone(t, repoDir, "driftback/sharded")
	var ovs []*overlay.Overlay
	for _, d := range []string{dirA, dirB} {
		ov, err := overlay.Read(os.DirFS(side), d)
		if err != nil {
			t.Fatal(err)
		}
		if len(ov.Status) != 1 {
			t.Fatalf("%s holds %d status files, want its shard's one", d, len(ov.Status))
		}
		ovs = append(ovs, ov)
	}
	onB := newKustomizeController(t, b, map[string]string{"fleet-driftback": side})
	cs, err := onB.reconcile(ctx, parseKustomization(t, `
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: sharded-apps, namespace: default}
spec:
  sourceRef: {kind: GitRepository, name: fleet-driftback}
  path: ./`+dirB+`
  prune: false
  wait: true
`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Flux applied the last shard's directory:\n%s", changes(cs))
	got, err := b.dyn.Resource(bucketGVR).Get(ctx, bucket, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v := got.GetAnnotations()["crossplane.io/external-name"]; v != extName {
		t.Errorf("Flux rebuilt the bucket from the last shard with external name %q, want the first shard's %q", v, extName)
	}
	for _, cfg := range []string{cfgA, cfgB} {
		out := run(t, root, driftback, "restore", "--kubeconfig", b.kubeconfig, "--config", cfg, "--repo", repoDir, "--wait", "30s")
		if !strings.Contains(out, "1 restored") {
			t.Errorf("restore --config %s: want its shard's status restored:\n%s", filepath.Base(cfg), out)
		}
	}
	for _, ov := range ovs {
		requireAllFields(ctx, t, b, ov)
	}
	k, err := b.dyn.Resource(clusterGVR).Namespace(ns).Get(ctx, kc, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v, _, _ := unstructured.NestedString(k.Object, "status", "apiServerURL"); v != apiURL {
		t.Errorf("status.apiServerURL after the sharded rebuild = %q, want %q", v, apiURL)
	}
}
