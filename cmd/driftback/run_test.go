package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/driftback/driftback/internal/gitserver"
	"github.com/driftback/driftback/overlay"
)

// waitTime bounds every wait on the apiserver, the watch and Git.
const waitTime = 60 * time.Second

// tip reads branch of the bare repository at dir without failing when it
// does not exist yet.
func tip(t testing.TB, dir, branch string) (map[string]string, plumbing.Hash, bool) {
	t.Helper()
	files, c, ok := gitserver.BranchFiles(t, dir, branch)
	if !ok {
		return nil, plumbing.ZeroHash, false
	}
	return files, c.Hash, true
}

// waitForFiles polls the branch until cond holds for its files.
func waitForFiles(t testing.TB, dir, branch, what string, cond func(map[string]string) bool) (map[string]string, plumbing.Hash) {
	t.Helper()
	var files map[string]string
	var h plumbing.Hash
	eventually(t, waitTime, what, func() (bool, string) {
		var ok bool
		files, h, ok = tip(t, dir, branch)
		return ok && cond(files), fmt.Sprintf("branch %s at %s with %v", branch, h, sortedKeys(files))
	})
	return files, h
}

func sortedKeys(m map[string]string) []string {
	out := keys(m)
	sort.Strings(out)
	return out
}

func runConfig(t testing.TB, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "driftback.yaml")
	if err := os.WriteFile(p, []byte("apiVersion: driftback.dev/v1alpha1\nkind: Config\n"+body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunKeepsTheBranchEqualToTheCluster(t *testing.T) {
	ctx := context.Background()
	dyn := dynamic.NewForConfigOrDie(cp.Config)
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "fleet")
	names := []string{"run-a", "run-b", "run-c", "run-d"}
	seed := map[string]string{"base/kustomization.yaml": "resources: [" + strings.Join(names, ".yaml, ") + ".yaml]\n"}
	for _, n := range names {
		seed["base/"+n+".yaml"] = strings.ReplaceAll(bucketBase, "%s", n)
		applyBucket(t, dyn, n, n+"-ext", "arn:"+n)
	}
	gitserver.Seed(t, repoDir, "main", seed)
	cfg := runConfig(t, `cluster: run
git:
  branch: driftback/run
  path: clusters/run/driftback
overlay:
  resources: [../../../base]
rules:
- name: crossplane-external-name
  match:
    apiGroups: ["*.aws.upbound.io"]
    kinds: ["*"]
    names: ["run-*"]
  fields:
  - metadata.annotations["crossplane.io/external-name"]
  - status.atProvider
  exclude:
  - status.atProvider.lastSeen
`)
	args := []string{"--config", cfg, "--repo", url, "--debounce", "300ms", "--max-delete-share", "0.3"}
	run := startRun(t, args...)
	const branch = "driftback/run"
	dir := "clusters/run/driftback/"
	status := func(n string) string {
		return dir + "status/_cluster/s3.aws.upbound.io_Bucket/" + overlay.Bucket(n) + "/" + n + ".yaml"
	}
	patch := func(n string) string {
		return dir + "patches/_cluster/s3.aws.upbound.io_Bucket/" + overlay.Bucket(n) + "/" + n + ".yaml"
	}

	_, first := waitForFiles(t, repoDir, branch, "the first commit holds every bucket", func(f map[string]string) bool {
		for _, n := range names {
			if !strings.Contains(f[patch(n)], n+"-ext") || !strings.Contains(f[status(n)], "arn:"+n) {
				return false
			}
		}
		return true
	})
	eventually(t, waitTime, "/readyz is 200 after the first publish", func() (bool, string) {
		c := httpStatus(t, run.url+"/readyz")
		return c == http.StatusOK, fmt.Sprint(c)
	})

	// Noise, a controller-owned child, then a real change as a marker: the
	// marker's commit must be the only one and touch only the marker's file.
	a, err := dyn.Resource(bucketGVR).Get(ctx, "run-a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = unstructured.SetNestedField(a.Object, "noise", "status", "atProvider", "lastSeen")
	if _, err := dyn.Resource(bucketGVR).UpdateStatus(ctx, a, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	child := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(strings.ReplaceAll(bucketBase, "%s", "run-child")), &child.Object); err != nil {
		t.Fatal(err)
	}
	child.SetAnnotations(map[string]string{"crossplane.io/external-name": "child-ext"})
	yes := true
	child.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "s3.aws.upbound.io/v1beta1", Kind: "Bucket", Name: "run-a", UID: a.GetUID(), Controller: &yes}})
	if _, err := dyn.Resource(bucketGVR).Create(ctx, child, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := dyn.Resource(bucketGVR).Get(ctx, "run-b", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	setBucketStatus(t, dyn, b, "arn:run-b-2")
	files, second := waitForFiles(t, repoDir, branch, "the marker change is committed", func(f map[string]string) bool {
		return strings.Contains(f[status("run-b")], "arn:run-b-2")
	})
	if n := gitserver.Run(t, repoDir, "git", "rev-list", "--count", first.String()+".."+second.String()); strings.TrimSpace(n) != "1" {
		t.Errorf("%s commits after the first, want 1 (noise must not commit)", strings.TrimSpace(n))
	}
	changed := gitserver.Run(t, repoDir, "git", "diff", "--name-only", first.String(), second.String())
	if strings.TrimSpace(changed) != status("run-b") {
		t.Errorf("the commit changed %q, want only %s", changed, status("run-b"))
	}
	for p := range files {
		if strings.Contains(p, "run-child") {
			t.Errorf("a controller-owned child was captured: %s", p)
		}
	}

	// One deletion (25%, under --max-delete-share 0.3): its files go.
	if err := dyn.Resource(bucketGVR).Delete(ctx, "run-c", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	_, kept := waitForFiles(t, repoDir, branch, "a deleted bucket's files are removed", func(f map[string]string) bool {
		_, p := f[patch("run-c")]
		_, s := f[status("run-c")]
		return !p && !s && f[status("run-a")] != ""
	})

	// A restart re-derives the same overlay: no commit.
	run.stop(t)
	run = startRun(t, args...)
	eventually(t, waitTime, "the restarted run is ready", func() (bool, string) {
		c := httpStatus(t, run.url+"/readyz")
		return c == http.StatusOK, fmt.Sprint(c)
	})
	if c := run.metric(t, "driftback_commits_total"); c != 0 {
		t.Errorf("the restarted run made %v commits, want 0", c)
	}
	if _, h, _ := tip(t, repoDir, branch); h != kept {
		t.Errorf("a restart made a spurious commit %s -> %s", kept, h)
	}

	// Everything vanishes: the guard refuses every step (a third is over
	// 0.3), run keeps going, Git keeps the record.
	before := kept
	for _, n := range []string{"run-a", "run-b", "run-d", "run-child"} {
		if err := dyn.Resource(bucketGVR).Delete(ctx, n, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, waitTime, "the mass-deletion guard fires and blocks publishing", func() (bool, string) {
		r, bl := run.metric(t, `driftback_commits_refused_total{reason="mass-deletion"}`), run.metric(t, "driftback_publish_blocked")
		return r >= 1 && bl == 1, fmt.Sprintf("refused=%v blocked=%v", r, bl)
	})
	run.running(t)
	if _, h, _ := tip(t, repoDir, branch); h != before {
		t.Errorf("a refused publish moved the branch %s -> %s", before, h)
	}
	if !strings.Contains(run.logs.String(), "COMMIT REFUSED") {
		t.Errorf("the refusal was not logged loudly")
	}

	// The operator confirms by restarting with --allow-deletions: one commit
	// drops the records, then the guard is armed again.
	run.stop(t)
	confirmed := startRun(t, append(args, "--allow-deletions")...)
	waitForFiles(t, repoDir, branch, "the confirmed deletions are committed", func(f map[string]string) bool {
		for p := range f {
			if strings.HasPrefix(p, dir+"status/") || strings.HasPrefix(p, dir+"patches/") {
				return false
			}
		}
		return f[dir+"kustomization.yaml"] != ""
	})
	if c := confirmed.metric(t, "driftback_publish_blocked"); c != 0 {
		t.Errorf("driftback_publish_blocked = %v after the confirmed commit, want 0", c)
	}
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

const widgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.late.example.com
spec:
  group: late.example.com
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
`

func TestRunWatchesKindsInstalledLater(t *testing.T) {
	ctx := context.Background()
	dyn := dynamic.NewForConfigOrDie(cp.Config)
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "late")
	// No base: an overlay of status files only must still build.
	cfg := runConfig(t, `cluster: late
rules:
- name: widget-endpoints
  match:
    apiGroups: [late.example.com]
    kinds: ["*"]
  fields: [status.endpoint]
`)
	// A long --rediscover: the CRD watch alone must notice the new kind.
	run := startRun(t, "--config", cfg, "--repo", url, "--debounce", "200ms", "--rediscover", "1h")
	eventually(t, waitTime, "ready with nothing to watch yet", func() (bool, string) {
		c := httpStatus(t, run.url+"/readyz")
		return c == http.StatusOK, fmt.Sprint(c)
	})

	crd := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(widgetCRD), &crd.Object); err != nil {
		t.Fatal(err)
	}
	if _, err := dyn.Resource(crdGVR).Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dyn.Resource(crdGVR).Delete(context.Background(), crd.GetName(), metav1.DeleteOptions{}) })
	widgets := schema.GroupVersionResource{Group: "late.example.com", Version: "v1", Resource: "widgets"}
	w := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "late.example.com/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "w1", "namespace": "default"}}}
	eventually(t, waitTime, "the new kind is served", func() (bool, string) {
		created, err := dyn.Resource(widgets).Namespace("default").Create(ctx, w, metav1.CreateOptions{})
		if err != nil {
			return false, err.Error()
		}
		_ = unstructured.SetNestedField(created.Object, "https://w1.example.com", "status", "endpoint")
		_, err = dyn.Resource(widgets).Namespace("default").UpdateStatus(ctx, created, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return true, ""
	})
	waitForFiles(t, repoDir, "driftback/late", "the widget of a kind installed after start is captured", func(f map[string]string) bool {
		return strings.Contains(f["clusters/late/driftback/status/default/late.example.com_Widget/60/w1.yaml"], "https://w1.example.com")
	})
	if got := run.metric(t, "driftback_watched_resources"); got != 1 {
		t.Errorf("driftback_watched_resources = %v, want 1", got)
	}

	// The kind goes away: it is no longer watched.
	if err := dyn.Resource(crdGVR).Delete(ctx, crd.GetName(), metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, waitTime, "a deleted kind is no longer watched", func() (bool, string) {
		got := run.metric(t, "driftback_watched_resources")
		return got == 0, fmt.Sprint(got)
	})
	run.running(t)
}

func TestRunFlushesPendingChangesOnShutdown(t *testing.T) {
	ctx := context.Background()
	dyn := dynamic.NewForConfigOrDie(cp.Config)
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "flush")
	gitserver.Seed(t, repoDir, "main", map[string]string{
		"base/kustomization.yaml": "resources: [bucket.yaml]\n",
		"base/bucket.yaml":        strings.ReplaceAll(bucketBase, "%s", "flush-a"),
	})
	applyBucket(t, dyn, "flush-a", "flush-a-ext", "arn:flush-a")
	cfg := runConfig(t, `cluster: flush
overlay:
  resources: [../../../base]
rules:
- name: external-name
  match: {apiGroups: ["*.aws.upbound.io"], kinds: ["*"], names: ["flush-*"]}
  fields: ['metadata.annotations["crossplane.io/external-name"]']
`)
	// A debounce window no test waits out: only the shutdown flush can
	// write the change.
	run := startRun(t, "--config", cfg, "--repo", url, "--debounce", "1h")
	patch := "clusters/flush/driftback/patches/_cluster/s3.aws.upbound.io_Bucket/14/flush-a.yaml"
	waitForFiles(t, repoDir, "driftback/flush", "the first commit", func(f map[string]string) bool {
		return strings.Contains(f[patch], "flush-a-ext")
	})
	eventually(t, waitTime, "nothing pending after the first publish", func() (bool, string) {
		p := run.metric(t, "driftback_publish_pending")
		return p == 0, fmt.Sprint(p)
	})
	u, err := dyn.Resource(bucketGVR).Get(ctx, "flush-a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u.SetAnnotations(map[string]string{"crossplane.io/external-name": "flush-a-ext-2"})
	if _, err := dyn.Resource(bucketGVR).Update(ctx, u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, waitTime, "the change is seen and pending", func() (bool, string) {
		p := run.metric(t, "driftback_publish_pending")
		return p == 1, fmt.Sprint(p)
	})
	run.stop(t) // as SIGTERM: returns once the flush is done
	files, _, _ := tip(t, repoDir, "driftback/flush")
	if !strings.Contains(files[patch], "flush-a-ext-2") {
		t.Errorf("the pending change was not flushed on shutdown:\n%s", files[patch])
	}
}
