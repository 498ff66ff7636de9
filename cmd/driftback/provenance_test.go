package main

import (
	"context"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/driftback/driftback/internal/gitserver"
)

// TestRestoreVerifiesSignatures is issue 11's provenance: snapshot signs its
// commits with an SSH key; restore --verify-signatures restores from that
// branch; a commit pushed by someone else without a trusted signature (here
// one that changes a field the rules do select: the ARN) makes restore
// refuse, naming the commit, and nothing is written.
func TestRestoreVerifiesSignatures(t *testing.T) {
	ctx := context.Background()
	dyn := dynamic.NewForConfigOrDie(cp.Config)
	keyDir := t.TempDir()
	key := filepath.Join(keyDir, "signing")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "driftback", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	trusted := key + ".pub"

	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "provenance")
	gitserver.Seed(t, repoDir, "main", map[string]string{
		"base/kustomization.yaml": "resources: [bucket.yaml]\n",
		"base/bucket.yaml":        strings.ReplaceAll(bucketBase, "%s", "prov-logs"),
	})
	applyBucket(t, dyn, "prov-logs", "logs-p1", "arn:aws:s3:::logs-p1")
	cfg := snapshotConfig(t, "prov")
	if _, err := runCLI(t, "snapshot", "--config", cfg, "--repo", url, "--git-sign-key-file", key); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	loseStatus := func() {
		t.Helper()
		u, err := dyn.Resource(bucketGVR).Get(ctx, "prov-logs", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		u.Object["status"] = map[string]any{}
		if _, err := dyn.Resource(bucketGVR).UpdateStatus(ctx, u, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	liveARN := func() string {
		t.Helper()
		u, err := dyn.Resource(bucketGVR).Get(ctx, "prov-logs", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		arn, _, _ := unstructured.NestedString(u.Object, "status", "atProvider", "arn")
		return arn
	}

	loseStatus()
	out, err := runCLI(t, "restore", "--config", cfg, "--repo", url, "--wait", "0", "--verify-signatures", trusted)
	if err != nil {
		t.Fatalf("restore of driftback's signed branch: %v\n%s", err, out)
	}
	if !strings.Contains(out, "provenance: verified, 1 commit(s)") || !strings.Contains(out, "signed by SSH SHA256:") || liveARN() != "arn:aws:s3:::logs-p1" {
		t.Fatalf("restore did not verify and restore (ARN %q):\n%s", liveARN(), out)
	}

	// Someone else pushes an unsigned commit changing the recorded ARN.
	statusFile := path.Join("clusters/prov/driftback/status/_cluster/s3.aws.upbound.io_Bucket/31/prov-logs.yaml")
	files, _ := branchFiles(t, repoDir, "driftback/prov")
	forged := strings.ReplaceAll(files[statusFile], "logs-p1", "someone-elses-bucket")
	if forged == files[statusFile] {
		t.Fatalf("%s does not hold the ARN:\n%s", statusFile, files[statusFile])
	}
	h := gitserver.Commit(t, repoDir, "driftback/prov", "status: fix the ARN", map[string]string{statusFile: forged})

	loseStatus()
	out, err = runCLI(t, "restore", "--config", cfg, "--repo", url, "--wait", "0", "--verify-signatures", trusted)
	if err == nil {
		t.Fatalf("restore accepted an unsigned commit:\n%s", out)
	}
	for _, want := range []string{"provenance not verified", "commit " + h, "carries no signature", "someone <someone@localhost>"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal lacks %q: %v", want, err)
		}
	}
	if arn := liveARN(); arn != "" {
		t.Errorf("a refused restore wrote the status: ARN %q", arn)
	}
}
