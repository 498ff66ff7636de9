package argocd

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
	"github.com/driftback/driftback/render"
	"github.com/driftback/driftback/restore"
)

// A cluster sharded across two configurations (docs/sharding.md): shard
// "buckets" records the Bucket's external name over the base, shard
// "clusters" records the KubernetesCluster's status in a directory whose only
// resource is the first shard's. A is lost; Argo CD's engine syncs the LAST
// shard's directory into one scratch cluster and `driftback restore` runs
// per shard; `driftback drill` runs per shard, first to last, into another.
// Both hold every field of both shards.
func TestArgoCDSyncsTheLastShard(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const (
		ns      = "sharded"
		bucket  = "shard-logs"
		kc      = "shard-payments"
		extName = "shard-logs-9b2c"
		apiURL  = "https://shard.k8s.internal:6443"
		dirA    = "clusters/sharded/driftback-buckets"
		dirB    = "clusters/sharded/driftback-clusters"
	)
	base := map[string]string{
		"base/kustomization.yaml": "resources: [namespace.yaml, bucket.yaml, cluster.yaml]\n",
		"base/namespace.yaml":     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + ns + "\n",
		"base/bucket.yaml":        "apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata:\n  name: " + bucket + "\nspec:\n  forProvider:\n    region: eu-west-1\n",
		"base/cluster.yaml":       "apiVersion: infra.example.com/v1alpha1\nkind: KubernetesCluster\nmetadata:\n  name: " + kc + "\n  namespace: " + ns + "\nspec:\n  kubeVersion: \"1.28\"\n",
	}
	srv := gitserver.New(t, gitserver.Options{})
	_, repoDir := srv.CreateRepo(t, "sharded")
	gitserver.Seed(t, repoDir, "main", base)
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
	run(t, root, driftback, "shards", "--config", cfgA, "--config", cfgB)

	// Cluster A: Argo CD applied the base, the controllers wrote runtime
	// state; each shard records its own.
	baseDir := t.TempDir()
	for p, c := range base {
		if err := os.MkdirAll(filepath.Join(baseDir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(baseDir, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	built, err := render.Build(os.DirFS(baseDir), "base", render.Tree{})
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

	// A is lost. Only the branch is left.
	clone := filepath.Join(t.TempDir(), "clone")
	run(t, root, "git", "clone", "-q", "--branch", "driftback/sharded", repoDir, clone)
	var ovs []*overlay.Overlay
	for _, d := range []string{dirA, dirB} {
		ov, err := overlay.Read(os.DirFS(clone), d)
		if err != nil {
			t.Fatal(err)
		}
		ovs = append(ovs, ov)
	}

	// Rebuild 1: Argo CD's engine syncs the last shard's directory, then
	// driftback restore with each shard's configuration.
	manifests, err := render.Build(os.DirFS(clone), dirB, render.Tree{})
	if err != nil {
		t.Fatal(err)
	}
	target, err := restore.SplitYAML(manifests)
	if err != nil {
		t.Fatal(err)
	}
	argoSync(ctx, t, target)
	for _, cfg := range []string{cfgA, cfgB} {
		if out := run(t, root, driftback, "restore", "--kubeconfig", argo.kubeconfig, "--config", cfg, "--repo", repoDir, "--wait", "30s"); !strings.Contains(out, "1 restored") {
			t.Errorf("restore --config %s after the Argo CD sync: want its shard's status restored:\n%s", filepath.Base(cfg), out)
		}
	}

	// Rebuild 2: driftback drill per shard, first to last.
	for _, cfg := range []string{cfgA, cfgB} {
		out := run(t, root, driftback, "drill", "--yes", "--kubeconfig", drill.kubeconfig, "--config", cfg, "--repo", repoDir, "--wait", "30s")
		if !strings.Contains(out, "drill:     PASS") {
			t.Errorf("drill --config %s:\n%s", filepath.Base(cfg), out)
		}
	}

	for name, p := range map[string]*plane{"Argo CD sync + restore": argo, "drill": drill} {
		for i, ov := range ovs {
			v := restore.Verify(ctx, p.cl, ov)
			for _, m := range v.Mismatches {
				t.Errorf("%s, shard %d: %s %s: want %v, got %v", name, i+1, m.Object, m.Path, m.Want, m.Got)
			}
			if v.Fields == 0 {
				t.Errorf("%s, shard %d: no captured field verified", name, i+1)
			}
		}
		b, err := p.dyn.Resource(bucketGVR).Get(ctx, bucket, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := b.GetAnnotations()["crossplane.io/external-name"]; got != extName {
			t.Errorf("%s: bucket external name %q, want the first shard's %q", name, got, extName)
		}
		k, err := p.dyn.Resource(clusterGVR).Namespace(ns).Get(ctx, kc, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got, _, _ := unstructured.NestedString(k.Object, "status", "apiServerURL"); got != apiURL {
			t.Errorf("%s: status.apiServerURL = %q, want the last shard's %q", name, got, apiURL)
		}
	}
}
