package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/driftback/driftback/internal/gitserver"
)

var bucketGVR = schema.GroupVersionResource{Group: "s3.aws.upbound.io", Version: "v1beta1", Resource: "buckets"}

const bucketBase = `apiVersion: s3.aws.upbound.io/v1beta1
kind: Bucket
metadata:
  name: %s
spec:
  forProvider:
    region: eu-west-1
`

func snapshotConfig(t *testing.T, cluster string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "driftback.yaml")
	cfg := `apiVersion: driftback.dev/v1alpha1
kind: Config
cluster: ` + cluster + `
git:
  branch: driftback/` + cluster + `
  path: clusters/` + cluster + `/driftback
overlay:
  resources: [../../../base]
rules:
- name: crossplane-external-name
  match:
    apiGroups: ["*.aws.upbound.io"]
    kinds: ["*"]
    names: ["` + cluster + `-*"]
  fields:
  - metadata.annotations["crossplane.io/external-name"]
  - status.atProvider
  exclude:
  - status.atProvider.lastSeen
`
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// applyBucket creates a Bucket as Argo CD would, then plays the provider:
// writes the external name and the observed status.
func applyBucket(t testing.TB, dyn dynamic.Interface, name, externalName, arn string) {
	t.Helper()
	ctx := context.Background()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(strings.ReplaceAll(bucketBase, "%s", name)), &u.Object); err != nil {
		t.Fatal(err)
	}
	created, err := dyn.Resource(bucketGVR).Create(ctx, u, metav1.CreateOptions{FieldManager: "argocd-controller"})
	if err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	created.SetAnnotations(map[string]string{"crossplane.io/external-name": externalName})
	updated, err := dyn.Resource(bucketGVR).Update(ctx, created, metav1.UpdateOptions{FieldManager: "provider-aws"})
	if err != nil {
		t.Fatalf("write external name: %v", err)
	}
	setBucketStatus(t, dyn, updated, arn)
}

func setBucketStatus(t testing.TB, dyn dynamic.Interface, u *unstructured.Unstructured, arn string) *unstructured.Unstructured {
	t.Helper()
	_ = unstructured.SetNestedMap(u.Object, map[string]any{"arn": arn, "lastSeen": "volatile"}, "status", "atProvider")
	out, err := dyn.Resource(bucketGVR).UpdateStatus(context.Background(), u, metav1.UpdateOptions{FieldManager: "provider-aws"})
	if err != nil {
		t.Fatalf("write status: %v", err)
	}
	return out
}

// branchFiles reads every file of branch in the bare repository at dir.
func branchFiles(t *testing.T, dir, branch string) (map[string]string, plumbing.Hash) {
	t.Helper()
	files, c, ok := gitserver.BranchFiles(t, dir, branch)
	if !ok {
		t.Fatalf("branch %s not found", branch)
	}
	return files, c.Hash
}

// kustomizeBuild checks out branch with the git CLI and builds dir with
// krusty on disk, independently of driftback's own in-memory build.
func kustomizeBuild(t *testing.T, repoDir, branch, dir string) string {
	t.Helper()
	work := filepath.Join(t.TempDir(), "checkout")
	gitserver.Run(t, "", "git", "clone", "-q", "--branch", branch, repoDir, work)
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), filepath.Join(work, dir))
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	out, err := m.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestSnapshotCommitsExternalNameAndStatus(t *testing.T) {
	dyn := dynamic.NewForConfigOrDie(cp.Config)
	srv := gitserver.New(t, gitserver.Options{User: "bot", Password: "s3cret"})
	_, repoDir := srv.CreateRepo(t, "fleet")
	gitserver.Seed(t, repoDir, "main", map[string]string{
		"base/kustomization.yaml": "resources: [bucket.yaml]\n",
		"base/bucket.yaml":        strings.ReplaceAll(bucketBase, "%s", "snap-logs"),
	})
	applyBucket(t, dyn, "snap-logs", "logs-7f3a", "arn:aws:s3:::logs-7f3a")
	url := strings.Replace(srv.URL, "http://", "http://bot:s3cret@", 1) + "/fleet.git"
	cfg := snapshotConfig(t, "snap")

	out, err := runCLI(t, "snapshot", "--config", cfg, "--repo", url, "--git-allow-insecure-http")
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	if !strings.HasPrefix(out, "committed ") {
		t.Fatalf("snapshot printed %q, want a commit", out)
	}
	files, tip := branchFiles(t, repoDir, "driftback/snap")
	dir := "clusters/snap/driftback/"
	patch := files[dir+"patches/_cluster/s3.aws.upbound.io_Bucket/a1/snap-logs.yaml"]
	if !strings.Contains(patch, "crossplane.io/external-name: logs-7f3a") {
		t.Errorf("patch file lacks the external name:\n%s\nfiles: %v", patch, keys(files))
	}
	if strings.Contains(patch, "uid:") || strings.Contains(patch, "resourceVersion") || strings.Contains(patch, "managedFields") {
		t.Errorf("patch file holds server-side metadata:\n%s", patch)
	}
	status := files[dir+"status/_cluster/s3.aws.upbound.io_Bucket/a1/snap-logs.yaml"]
	if !strings.Contains(status, "arn: arn:aws:s3:::logs-7f3a") || strings.Contains(status, "lastSeen") {
		t.Errorf("status file should hold the ARN and not the excluded lastSeen:\n%s", status)
	}
	if files["base/bucket.yaml"] == "" {
		t.Error("the base branch's files are missing from the side branch")
	}
	if strings.Contains(files[dir+".driftback.yaml"], "s3cret") {
		t.Error("credentials leaked into the overlay")
	}
	built := kustomizeBuild(t, repoDir, "driftback/snap", "clusters/snap/driftback")
	for _, want := range []string{"crossplane.io/external-name: logs-7f3a", "region: eu-west-1", "name: snap-logs"} {
		if !strings.Contains(built, want) {
			t.Errorf("kustomize build lacks %q:\n%s", want, built)
		}
	}

	// No change in the cluster: no new commit.
	out, err = runCLI(t, "snapshot", "--config", cfg, "--repo", url, "--git-allow-insecure-http")
	if err != nil {
		t.Fatalf("second snapshot: %v", err)
	}
	if _, again := branchFiles(t, repoDir, "driftback/snap"); again != tip || !strings.HasPrefix(out, "no change") {
		t.Errorf("second snapshot with no change made a commit (%s -> %s), printed %q", tip, again, out)
	}

	// A volatile excluded field changes: still no commit.
	u, err := dyn.Resource(bucketGVR).Get(context.Background(), "snap-logs", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = unstructured.SetNestedField(u.Object, "changed", "status", "atProvider", "lastSeen")
	if u, err = dyn.Resource(bucketGVR).UpdateStatus(context.Background(), u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, "snapshot", "--config", cfg, "--repo", url, "--git-allow-insecure-http"); err != nil {
		t.Fatal(err)
	}
	if _, again := branchFiles(t, repoDir, "driftback/snap"); again != tip {
		t.Errorf("a change of an excluded field made a commit")
	}

	// The provider records a new ARN: one commit that modifies the status file.
	setBucketStatus(t, dyn, u, "arn:aws:s3:::logs-8b4c")
	if _, err := runCLI(t, "snapshot", "--config", cfg, "--repo", url, "--git-allow-insecure-http"); err != nil {
		t.Fatal(err)
	}
	files, next := branchFiles(t, repoDir, "driftback/snap")
	if next == tip || !strings.Contains(files[dir+"status/_cluster/s3.aws.upbound.io_Bucket/a1/snap-logs.yaml"], "logs-8b4c") {
		t.Errorf("the new ARN was not committed")
	}
	log := gitserver.Run(t, repoDir, "git", "log", "-1", "--format=%s%n%b", "driftback/snap")
	if !strings.Contains(log, "~ status/_cluster/s3.aws.upbound.io_Bucket/a1/snap-logs.yaml") {
		t.Errorf("commit message does not list the changed file:\n%s", log)
	}
}

func TestSnapshotRefusesAnotherClustersBranch(t *testing.T) {
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "other")
	gitserver.Seed(t, repoDir, "driftback/other", map[string]string{
		"base/kustomization.yaml":                          "resources: [bucket.yaml]\n",
		"base/bucket.yaml":                                 strings.ReplaceAll(bucketBase, "%s", "other-b"),
		"clusters/other/driftback/kustomization.yaml":      "resources: [../../../base]\n",
		"clusters/other/driftback/.driftback.yaml":         "apiVersion: driftback.dev/v1alpha1\nkind: Overlay\nformatVersion: 1\ncluster: other\nclusterUID: 00000000-lost-cluster\n",
		"clusters/other/driftback/status/ns/x_K/ca/a.yaml": "kind: K\n",
	})
	dyn := dynamic.NewForConfigOrDie(cp.Config)
	applyBucket(t, dyn, "other-b", "b-1", "arn:b")
	cfg := snapshotConfig(t, "other")
	_, err := runCLI(t, "snapshot", "--config", cfg, "--repo", url, "--git-allow-insecure-http")
	if err == nil || !strings.Contains(err.Error(), "00000000-lost-cluster") || !strings.Contains(err.Error(), "--adopt") {
		t.Fatalf("snapshot over another cluster's branch: err = %v, want a refusal naming the recorded UID and --adopt", err)
	}
	if _, err := runCLI(t, "snapshot", "--config", cfg, "--repo", url, "--adopt", "--allow-deletions"); err != nil {
		t.Fatalf("snapshot --adopt: %v", err)
	}
	files, _ := branchFiles(t, repoDir, "driftback/other")
	if !strings.Contains(files["clusters/other/driftback/.driftback.yaml"], "clusterUID: ") || strings.Contains(files["clusters/other/driftback/.driftback.yaml"], "lost-cluster") {
		t.Errorf("after --adopt the record should name this cluster:\n%s", files["clusters/other/driftback/.driftback.yaml"])
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
