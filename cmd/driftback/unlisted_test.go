package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/driftback/driftback/internal/gitserver"
)

// gadgetCRD serves v1 (storage) and v2; with webhook conversion, listing v2
// (the preferred version, which driftback watches) needs the webhook.
const gadgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.stall.example.com
spec:
  group: stall.example.com
  names: {kind: Gadget, listKind: GadgetList, plural: gadgets, singular: gadget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
  - name: v2
    served: true
    storage: false
    subresources: {status: {}}
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`

// A kind that cannot be listed (a CRD whose conversion webhook is down)
// must not stall every commit silently: it is named at WARN within seconds,
// counted, shown in /readyz, and after --sync-timeout the other kinds are
// published without it while its recorded files stay as they are.
func TestRunPublishesPastAKindThatCannotBeListed(t *testing.T) {
	ctx := context.Background()
	dyn := dynamic.NewForConfigOrDie(cp.Config)
	crd := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(gadgetCRD), &crd.Object); err != nil {
		t.Fatal(err)
	}
	if _, err := dyn.Resource(crdGVR).Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dyn.Resource(crdGVR).Delete(context.Background(), crd.GetName(), metav1.DeleteOptions{}) })
	gadgets := schema.GroupVersionResource{Group: "stall.example.com", Version: "v1", Resource: "gadgets"}
	g := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "stall.example.com/v1", "kind": "Gadget",
		"metadata": map[string]any{"name": "g1", "namespace": "default"}}}
	eventually(t, waitTime, "the gadget kind is served", func() (bool, string) {
		created, err := dyn.Resource(gadgets).Namespace("default").Create(ctx, g, metav1.CreateOptions{})
		if err != nil {
			return false, err.Error()
		}
		_ = unstructured.SetNestedField(created.Object, "gadget-id-1", "status", "id")
		if _, err := dyn.Resource(gadgets).Namespace("default").UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		return true, ""
	})
	applyBucket(t, dyn, "unl-a", "unl-a-ext", "arn:unl-a")

	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "fleet")
	gitserver.Seed(t, repoDir, "main", map[string]string{
		"base/kustomization.yaml": "resources: [unl-a.yaml]\n",
		"base/unl-a.yaml":         strings.ReplaceAll(bucketBase, "%s", "unl-a"),
	})
	cfg := runConfig(t, `cluster: unl
git:
  branch: driftback/unl
  path: clusters/unl/driftback
overlay:
  resources: [../../../base]
rules:
- name: crossplane-external-name
  match:
    apiGroups: ["*.aws.upbound.io"]
    kinds: ["*"]
    names: ["unl-*"]
  fields:
  - metadata.annotations["crossplane.io/external-name"]
- name: gadget-ids
  match:
    apiGroups: [stall.example.com]
    kinds: [Gadget]
  fields: [status.id]
`)
	const branch = "driftback/unl"
	dir := "clusters/unl/driftback/"
	gadgetFile := dir + "status/default/stall.example.com_Gadget/71/g1.yaml"
	bucketFile := dir + "patches/_cluster/s3.aws.upbound.io_Bucket/48/unl-a.yaml"
	args := []string{"--config", cfg, "--repo", url, "--debounce", "200ms", "--sync-timeout", "3s"}

	// 1. Healthy: the gadget's status is recorded.
	first := startRun(t, args...)
	recorded, _ := waitForFiles(t, repoDir, branch, "the gadget and the bucket are recorded", func(f map[string]string) bool {
		return strings.Contains(f[gadgetFile], "gadget-id-1") && strings.Contains(f[bucketFile], "unl-a-ext")
	})
	first.stop(t)

	// 2. The conversion webhook is down: listing v2 fails.
	cur, err := dyn.Resource(crdGVR).Get(ctx, crd.GetName(), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = unstructured.SetNestedMap(cur.Object, map[string]any{
		"strategy": "Webhook",
		"webhook": map[string]any{
			"conversionReviewVersions": []any{"v1"},
			"clientConfig":             map[string]any{"url": "https://127.0.0.1:1/convert"},
		},
	}, "spec", "conversion")
	if _, err := dyn.Resource(crdGVR).Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	v2 := schema.GroupVersionResource{Group: "stall.example.com", Version: "v2", Resource: "gadgets"}
	eventually(t, waitTime, "listing v2 fails (the webhook is down)", func() (bool, string) {
		_, err := dyn.Resource(v2).List(ctx, metav1.ListOptions{})
		return err != nil, fmt.Sprint(err)
	})

	started := time.Now()
	run := startRun(t, args...)
	eventually(t, 15*time.Second, "a WARN names the resource that cannot be listed", func() (bool, string) {
		logs := run.logs.String()
		return strings.Contains(logs, "level=WARN") && strings.Contains(logs, "cannot be listed") && strings.Contains(logs, "gadgets"), ""
	})
	if d := time.Since(started); d > 15*time.Second {
		t.Errorf("the WARN came after %s", d)
	}
	eventually(t, waitTime, "driftback_unlisted_resources counts it", func() (bool, string) {
		got := run.metric(t, "driftback_unlisted_resources")
		return got == 1, fmt.Sprint(got)
	})
	eventually(t, waitTime, "/readyz names it", func() (bool, string) {
		resp, err := http.Get(run.url + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return strings.Contains(string(b), "gadgets.stall.example.com") && strings.Contains(string(b), "unlisted"), string(b)
	})

	// 3. The other kinds still publish; the gadget's file is kept as it was.
	b, err := dyn.Resource(bucketGVR).Get(ctx, "unl-a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b.SetAnnotations(map[string]string{"crossplane.io/external-name": "unl-a-ext-2"})
	if _, err := dyn.Resource(bucketGVR).Update(ctx, b, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	files, _ := waitForFiles(t, repoDir, branch, "the bucket's change is committed despite the unlistable kind", func(f map[string]string) bool {
		return strings.Contains(f[bucketFile], "unl-a-ext-2")
	})
	if files[gadgetFile] != recorded[gadgetFile] {
		t.Errorf("the unlistable kind's recorded file changed:\nwas %q\nnow %q", recorded[gadgetFile], files[gadgetFile])
	}
	if strings.Contains(run.logs.String(), "COMMIT REFUSED") {
		t.Errorf("a commit was refused:\n%s", run.logs.String())
	}
	run.running(t)
}
