package main

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/driftback/driftback/internal/gitserver"
)

// TestRunOnARebuiltClusterRestoresThenWaitsForAdoption: `run` starts in a
// cluster that the branch does not record (the lost cluster's UID is
// there). It checks the branch's provenance (the record is signed with an
// SSH key; --verify-signatures), writes the recorded status into this
// cluster, captures and commits nothing, and starts capturing only once the
// branch is adopted.
func TestRunOnARebuiltClusterRestoresThenWaitsForAdoption(t *testing.T) {
	ctx := context.Background()
	dyn := dynamic.NewForConfigOrDie(cp.Config)
	key := filepath.Join(t.TempDir(), "signing")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "lost-cluster", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "rebuilt")
	const branch, dir = "driftback/reb", "clusters/reb/driftback/"
	gitserver.Seed(t, repoDir, branch, map[string]string{
		"base/kustomization.yaml":  "resources: [bucket.yaml]\n",
		"base/bucket.yaml":         strings.ReplaceAll(bucketBase, "%s", "reb-logs"),
		dir + "kustomization.yaml": "resources: [../../../base]\npatches:\n- path: patches/_cluster/s3.aws.upbound.io_Bucket/0d/reb-logs.yaml\n",
		dir + ".driftback.yaml":    "apiVersion: driftback.dev/v1alpha1\nkind: Overlay\nformatVersion: 1\ncluster: reb\nclusterUID: 00000000-lost-cluster\n",
		dir + "patches/_cluster/s3.aws.upbound.io_Bucket/0d/reb-logs.yaml": "apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata:\n  name: reb-logs\n  annotations:\n    crossplane.io/external-name: logs-lost\n",
		dir + "status/_cluster/s3.aws.upbound.io_Bucket/0d/reb-logs.yaml":  "apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata:\n  name: reb-logs\nstatus:\n  atProvider:\n    arn: arn:aws:s3:::logs-lost\n",
	}, "gpg.format=ssh", "user.signingkey="+key, "commit.gpgsign=true")
	_, seeded, _ := tip(t, repoDir, branch)

	// The GitOps tool applied the overlay: external name, no status.
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(strings.ReplaceAll(bucketBase, "%s", "reb-logs")), &u.Object); err != nil {
		t.Fatal(err)
	}
	u.SetAnnotations(map[string]string{"crossplane.io/external-name": "logs-lost"})
	if _, err := dyn.Resource(bucketGVR).Create(ctx, u, metav1.CreateOptions{FieldManager: "argocd-controller"}); err != nil {
		t.Fatal(err)
	}
	liveARN := func() string {
		got, err := dyn.Resource(bucketGVR).Get(ctx, "reb-logs", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		arn, _, _ := unstructured.NestedString(got.Object, "status", "atProvider", "arn")
		return arn
	}

	cfg := snapshotConfig(t, "reb")
	run := startRun(t, "--config", cfg, "--repo", url, "--debounce", "300ms", "--adoption-poll", "200ms", "--verify-signatures", key+".pub")
	eventually(t, waitTime, "the recorded status is restored", func() (bool, string) {
		arn := liveARN()
		return arn == "arn:aws:s3:::logs-lost", arn
	})
	if !strings.Contains(run.logs.String(), "provenance is verified") {
		t.Errorf("the start-up restore did not check the branch's provenance:\n%s", run.logs.String())
	}
	eventually(t, waitTime, "run waits for adoption", func() (bool, string) {
		return strings.Contains(run.logs.String(), "waiting for adoption"), run.logs.String()
	})
	run.running(t)
	if c := httpStatus(t, run.url+"/readyz"); c == http.StatusOK {
		t.Errorf("/readyz = 200 while waiting for adoption; it must not be ready before capturing")
	}
	if _, h, _ := tip(t, repoDir, branch); h != seeded {
		t.Fatalf("run wrote the lost cluster's branch before adoption (%s -> %s)", seeded, h)
	}

	// Explicit adoption, from outside: run notices and starts capturing.
	if _, err := runCLI(t, "snapshot", "--config", cfg, "--repo", url, "--adopt"); err != nil {
		t.Fatalf("snapshot --adopt: %v", err)
	}
	files, _, _ := tip(t, repoDir, branch)
	if !strings.Contains(files[dir+"status/_cluster/s3.aws.upbound.io_Bucket/0d/reb-logs.yaml"], "logs-lost") {
		t.Errorf("adoption lost the recorded status:\n%v", files)
	}
	// The external name came back through the overlay, applied by the
	// GitOps tool: only the overlay holds it, so it must stay in Git.
	if !strings.Contains(files[dir+"patches/_cluster/s3.aws.upbound.io_Bucket/0d/reb-logs.yaml"], "crossplane.io/external-name: logs-lost") {
		t.Errorf("adoption dropped the external name the overlay holds:\n%v", files)
	}
	eventually(t, waitTime, "run captures once adopted (ready)", func() (bool, string) {
		c := httpStatus(t, run.url+"/readyz")
		return c == http.StatusOK, fmt.Sprint(c)
	})
	got, err := dyn.Resource(bucketGVR).Get(ctx, "reb-logs", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	setBucketStatus(t, dyn, got, "arn:aws:s3:::logs-new")
	waitForFiles(t, repoDir, branch, "a change after adoption is committed", func(f map[string]string) bool {
		return strings.Contains(f[dir+"status/_cluster/s3.aws.upbound.io_Bucket/0d/reb-logs.yaml"], "logs-new")
	})
}
