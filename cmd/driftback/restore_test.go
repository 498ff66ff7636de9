package main

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/driftback/driftback/internal/gitserver"
)

// TestRestoreFromBranch: snapshot records a Bucket's status, the status is
// lost, `driftback restore` writes it back from the branch; a second run and
// a dry run change nothing.
func TestRestoreFromBranch(t *testing.T) {
	dyn := dynamic.NewForConfigOrDie(cp.Config)
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "restore")
	gitserver.Seed(t, repoDir, "main", map[string]string{
		"base/kustomization.yaml": "resources: [bucket.yaml]\n",
		"base/bucket.yaml":        strings.ReplaceAll(bucketBase, "%s", "rest-logs"),
	})
	applyBucket(t, dyn, "rest-logs", "logs-r1", "arn:aws:s3:::logs-r1")
	cfg := snapshotConfig(t, "rest")
	if _, err := runCLI(t, "snapshot", "--config", cfg, "--repo", url); err != nil {
		t.Fatalf("snapshot: %v", err)
	}

	// The status is lost (as in a rebuilt cluster: created without it).
	ctx := context.Background()
	u, err := dyn.Resource(bucketGVR).Get(ctx, "rest-logs", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u.Object["status"] = map[string]any{}
	if _, err := dyn.Resource(bucketGVR).UpdateStatus(ctx, u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		args  []string
		want  string
		arn   string
		fails bool
	}{
		{name: "dry run writes nothing", args: []string{"--dry-run"}, want: "1 would restore", arn: ""},
		{name: "restore", want: "1 restored", arn: "arn:aws:s3:::logs-r1"},
		{name: "again: already equal", want: "0 restored, 0 would restore, 1 already equal", arn: "arn:aws:s3:::logs-r1"},
		{name: "another branch fails", args: []string{"--branch", "nope"}, fails: true, arn: "arn:aws:s3:::logs-r1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runCLI(t, append([]string{"restore", "--config", cfg, "--repo", url, "--wait", "0"}, tt.args...)...)
			if (err != nil) != tt.fails {
				t.Fatalf("restore: err = %v, output:\n%s", err, out)
			}
			if !strings.Contains(out, tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, out)
			}
			live, err := dyn.Resource(bucketGVR).Get(ctx, "rest-logs", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			arn, _, _ := unstructured.NestedString(live.Object, "status", "atProvider", "arn")
			if arn != tt.arn {
				t.Errorf("live ARN = %q, want %q", arn, tt.arn)
			}
		})
	}
}
