package main

import (
	"context"
	"path"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/internal/gitserver"
	"github.com/driftback/driftback/overlay"
)

// TestRestoreRefusesUnselectedStatus is issue 11's item 2: someone with push
// access adds status files the config's rules never select (a Service's
// load-balancer address, a Node condition) and a field the rule excludes to
// a recorded file. restore writes the selected ARN back, refuses the rest by
// file and field, exits non-zero, and the apiserver keeps the real values.
func TestRestoreRefusesUnselectedStatus(t *testing.T) {
	ctx := context.Background()
	dyn := dynamic.NewForConfigOrDie(cp.Config)
	kc := kubernetes.NewForConfigOrDie(cp.Config)
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "trust")
	gitserver.Seed(t, repoDir, "main", map[string]string{
		"base/kustomization.yaml": "resources: [bucket.yaml]\n",
		"base/bucket.yaml":        strings.ReplaceAll(bucketBase, "%s", "trust-logs"),
	})
	applyBucket(t, dyn, "trust-logs", "logs-t1", "arn:aws:s3:::logs-t1")
	cfg := snapshotConfig(t, "trust")
	if _, err := runCLI(t, "snapshot", "--config", cfg, "--repo", url); err != nil {
		t.Fatalf("snapshot: %v", err)
	}

	// The live objects the forged files aim at.
	svc, err := kc.CoreV1().Services("default").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "trust-web"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kc.CoreV1().Services("default").Delete(ctx, svc.Name, metav1.DeleteOptions{}) })
	node, err := kc.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "trust-n1"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kc.CoreV1().Nodes().Delete(ctx, node.Name, metav1.DeleteOptions{}) })

	// The recorded Bucket status loses its ARN (a rebuilt cluster).
	b, err := dyn.Resource(bucketGVR).Get(ctx, "trust-logs", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b.Object["status"] = map[string]any{}
	if _, err := dyn.Resource(bucketGVR).UpdateStatus(ctx, b, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	// Someone else pushes to the side branch.
	dir := "clusters/trust/driftback"
	statusPath := func(group, kind, ns, name string) string {
		return path.Join(overlay.StatusDir, overlay.FileName(capture.ObjectRef{Group: group, Kind: kind, Namespace: ns, Name: name}))
	}
	svcFile := statusPath("", "Service", "default", "trust-web")
	nodeFile := statusPath("", "Node", "", "trust-n1")
	bucketFile := statusPath("s3.aws.upbound.io", "Bucket", "", "trust-logs")
	files, _ := branchFiles(t, repoDir, "driftback/trust")
	recorded := map[string]any{}
	if err := yaml.Unmarshal([]byte(files[path.Join(dir, bucketFile)]), &recorded); err != nil {
		t.Fatalf("the snapshot recorded no %s: %v", bucketFile, err)
	}
	_ = unstructured.SetNestedField(recorded, "forged", "status", "atProvider", "lastSeen")
	forgedBucket, err := yaml.Marshal(recorded)
	if err != nil {
		t.Fatal(err)
	}
	gitserver.Commit(t, repoDir, "driftback/trust", "status: a little help", map[string]string{
		path.Join(dir, svcFile): "apiVersion: v1\nkind: Service\nmetadata:\n  name: trust-web\n  namespace: default\n" +
			"status:\n  loadBalancer:\n    ingress:\n    - ip: 203.0.113.66\n",
		path.Join(dir, nodeFile): "apiVersion: v1\nkind: Node\nmetadata:\n  name: trust-n1\n" +
			"status:\n  conditions:\n  - type: Ready\n    status: \"False\"\n    reason: Forged\n",
		path.Join(dir, bucketFile): string(forgedBucket),
	})

	out, err := runCLI(t, "restore", "--config", cfg, "--repo", url, "--wait", "0")
	if err == nil {
		t.Fatalf("restore succeeded although the branch holds fields no rule selects:\n%s", out)
	}
	for _, want := range []string{
		"refused: " + svcFile + ": status is not selected by any rule",
		"refused: " + nodeFile + ": status is not selected by any rule",
		"refused: " + bucketFile + ": status.atProvider.lastSeen is not selected by any rule",
		"1 restored",
		"3 field(s) refused",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("restore output lacks %q:\n%s", want, out)
		}
	}

	live, err := kc.CoreV1().Services("default").Get(ctx, "trust-web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(live.Status.LoadBalancer.Ingress) != 0 {
		t.Errorf("the Service's status.loadBalancer.ingress was written: %v", live.Status.LoadBalancer.Ingress)
	}
	n, err := kc.CoreV1().Nodes().Get(ctx, "trust-n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range n.Status.Conditions {
		if c.Reason == "Forged" {
			t.Errorf("the Node's forged condition was written: %+v", c)
		}
	}
	lb, err := dyn.Resource(bucketGVR).Get(ctx, "trust-logs", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if arn, _, _ := unstructured.NestedString(lb.Object, "status", "atProvider", "arn"); arn != "arn:aws:s3:::logs-t1" {
		t.Errorf("the selected ARN was not restored: %q", arn)
	}
	if seen, ok, _ := unstructured.NestedString(lb.Object, "status", "atProvider", "lastSeen"); ok {
		t.Errorf("the excluded field was written: lastSeen = %q", seen)
	}
}
