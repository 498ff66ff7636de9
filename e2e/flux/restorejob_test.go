package flux

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
)

var jobGVR = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}

// The runbook's ordering with Flux (docs/restore.md, "With Flux"): the
// restore Job's Kustomization dependsOn the overlays and waits for the Job;
// the operators' Kustomization dependsOn it.
var restoreFiles = map[string]string{
	"clusters/demo/restore/job.yaml": `apiVersion: batch/v1
kind: Job
metadata:
  name: driftback-restore
  namespace: default
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: payments
        image: ghcr.io/driftback/driftback:v1
        args: [restore, --config=/etc/driftback/payments.yaml, --wait=30s]
      - name: storage
        image: ghcr.io/driftback/driftback:v1
        args: [restore, --config=/etc/driftback/storage.yaml, --wait=30s]
`,
	"clusters/demo/operators/operator.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: cluster-operator
  namespace: default
data:
  role: stands in for the operators that must not see empty status
`,
}

func restoreKustomizations(t *testing.T, force bool) (restoreKS, operators *unstructured.Unstructured) {
	return parseKustomization(t, fmt.Sprintf(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: driftback-restore, namespace: default}
spec:
  dependsOn: [{name: payments}, {name: storage}]
  sourceRef: {kind: GitRepository, name: fleet}
  path: ./clusters/demo/restore
  prune: false
  wait: true
  force: %v
`, force)), parseKustomization(t, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: operators, namespace: default}
spec:
  dependsOn: [{name: driftback-restore}]
  sourceRef: {kind: GitRepository, name: fleet}
  path: ./clusters/demo/operators
  prune: true
`)
}

// runJobs stands in for the Job controller and the kubelet, which this
// control plane does not run: each Job that appears runs its containers' args
// with the driftback binary (the in-cluster config and credentials become
// the test's kubeconfig, repository and configuration directory), then is
// marked Complete, as the Job controller would. It returns the outputs.
func runJobs(ctx context.Context, t *testing.T, p *plane, repoDir, configDir string) <-chan []string {
	done := make(chan []string, 1)
	go func() {
		var outs []string
		defer func() { done <- outs }()
		var job *unstructured.Unstructured
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			j, err := p.dyn.Resource(jobGVR).Namespace("default").Get(ctx, "driftback-restore", metav1.GetOptions{})
			job = j
			return err == nil, nil
		})
		if err != nil {
			outs = append(outs, "no Job appeared: "+err.Error())
			return
		}
		cs, _, _ := unstructured.NestedSlice(job.Object, "spec", "template", "spec", "containers")
		for _, c := range cs {
			cm, _ := c.(map[string]any)
			var args []string
			for _, a := range cm["args"].([]any) {
				args = append(args, strings.Replace(a.(string), "/etc/driftback/", configDir+"/", 1))
			}
			args = append(args, "--kubeconfig", p.kubeconfig, "--repo", repoDir)
			out, err := tryRun(root, driftback, args...)
			if err != nil {
				outs = append(outs, "FAILED: "+err.Error())
				return
			}
			outs = append(outs, fmt.Sprintf("container %s: driftback %s\n%s", cm["name"], strings.Join(args[:2], " "), out))
		}
		now := time.Now().UTC().Format(time.RFC3339)
		conds := []any{
			map[string]any{"type": "SuccessCriteriaMet", "status": "True", "lastProbeTime": now, "lastTransitionTime": now},
			map[string]any{"type": "Complete", "status": "True", "lastProbeTime": now, "lastTransitionTime": now},
		}
		_ = unstructured.SetNestedSlice(job.Object, conds, "status", "conditions")
		_ = unstructured.SetNestedField(job.Object, now, "status", "startTime")
		_ = unstructured.SetNestedField(job.Object, now, "status", "completionTime")
		_ = unstructured.SetNestedField(job.Object, int64(1), "status", "succeeded")
		if _, err := p.dyn.Resource(jobGVR).Namespace("default").UpdateStatus(ctx, job, metav1.UpdateOptions{FieldManager: "job-controller"}); err != nil {
			outs = append(outs, "FAILED: mark the Job complete: "+err.Error())
		}
	}()
	return done
}

// restoreWithFlux runs the restore the Flux way on B and checks the order:
// the restore Kustomization waits for the Job, the operators come after it,
// and a changed Job (immutable) needs force.
func restoreWithFlux(ctx context.Context, t *testing.T, kc *kustomizeController, repoDir, configDir string) {
	t.Helper()
	restoreKS, operators := restoreKustomizations(t, true)
	// Before the restore is Ready, the operators wait.
	if _, err := kc.reconcile(ctx, operators); err == nil || !strings.Contains(err.Error(), "dependency 'default/driftback-restore' is not ready") {
		t.Fatalf("operators before the restore: err = %v, want a dependency that is not ready", err)
	}
	jobs := runJobs(ctx, t, kc.p, repoDir, configDir)
	order, err := kc.reconcileAll(ctx, []*unstructured.Unstructured{operators, restoreKS})
	outs := <-jobs
	for _, o := range outs {
		t.Logf("restore Job (Flux waited for it):\n%s", o)
		if strings.HasPrefix(o, "FAILED") || strings.HasPrefix(o, "no Job") {
			t.Error(o)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(order, []string{"driftback-restore", "operators"}) {
		t.Errorf("reconciled %v, want the restore before the operators", order)
	}

	// A changed Job: its pod template is immutable. Without force the
	// apply fails; with force Flux recreates it.
	kc.sources["fleet"] = withJobImage(t, kc.sources["fleet"], "ghcr.io/driftback/driftback:v2")
	noForce, _ := restoreKustomizations(t, false)
	noForce.Object["spec"].(map[string]any)["wait"] = false
	if _, err := kc.reconcile(ctx, noForce); err == nil || !strings.Contains(err.Error(), "immutable") {
		t.Errorf("a changed Job without force: err = %v, want the immutable-field error", err)
	}
	withForce, _ := restoreKustomizations(t, true)
	withForce.Object["spec"].(map[string]any)["wait"] = false
	if _, err := kc.reconcile(ctx, withForce); err != nil {
		t.Errorf("a changed Job with force: %v", err)
	}
}

// withJobImage returns a copy of the checkout whose restore Job runs image.
func withJobImage(t *testing.T, src, image string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "src")
	run(t, root, "cp", "-r", src, dir)
	p := filepath.Join(dir, "clusters", "demo", "restore", "job.yaml")
	run(t, root, "sed", "-i", "s|ghcr.io/driftback/driftback:v1|"+image+"|", p)
	return dir
}
