package main

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/driftback/driftback/internal/gitserver"
)

// The cluster that wrote the overlay is never a drill target: drill refuses
// before applying anything, and leaves no field manager behind.
func TestDrillRefusesTheRecordedCluster(t *testing.T) {
	dyn := dynamic.NewForConfigOrDie(cp.Config)
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "fleet")
	gitserver.Seed(t, repoDir, "main", map[string]string{
		"base/kustomization.yaml": "resources: [bucket.yaml]\n",
		"base/bucket.yaml":        strings.ReplaceAll(bucketBase, "%s", "snap-drill"),
	})
	applyBucket(t, dyn, "snap-drill", "drill-ext", "arn:drill")
	cfg := snapshotConfig(t, "drillguard")
	if _, err := runCLI(t, "snapshot", "--config", cfg, "--repo", url); err != nil {
		t.Fatal(err)
	}
	// The server as the kubeconfig names it, which drill prints.
	host := strings.TrimSuffix(strings.TrimPrefix(cp.Config.Host, "https://"), "/")
	// A manager of its own, so that any write the refused drill made shows
	// in managedFields (by default it applies as argocd-controller).
	out, err := runCLI(t, "drill", "--config", cfg, "--repo", url, "--field-manager", "driftback-drill")
	if err == nil || !strings.Contains(err.Error(), "refusing to drill into https://"+host) || !strings.Contains(err.Error(), "drillguard") {
		t.Fatalf("drill into the recorded cluster: err = %v, out %q; want a refusal naming the server and the cluster", err, out)
	}
	if !strings.Contains(out, "into https://"+host) {
		t.Errorf("drill did not print the target server first: %q", out)
	}
	u, err := dyn.Resource(bucketGVR).Get(context.Background(), "snap-drill", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range u.GetManagedFields() {
		if mf.Manager == "driftback-drill" {
			t.Fatalf("the refused drill applied to the recorded cluster: %+v", mf)
		}
	}
	// --verify-only writes nothing and stays allowed: the last step of a recovery.
	if _, err := runCLI(t, "drill", "--config", cfg, "--repo", url, "--verify-only"); err != nil && strings.Contains(err.Error(), "refusing") {
		t.Errorf("--verify-only refused: %v", err)
	}
}
