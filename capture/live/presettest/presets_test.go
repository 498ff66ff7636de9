package presettest

import (
	"bytes"
	"context"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftback/driftback/capture/live"
	"github.com/driftback/driftback/config"
	"github.com/driftback/driftback/render"
)

var update = flag.Bool("update", false, "rewrite testdata/presets/*/golden")

// overlayDir is where the overlay stands inside a fixture directory, next
// to base/ (config.yaml says overlay.resources: [../base]).
const overlayDir = "driftback"

func TestPresets(t *testing.T) {
	tests := []struct {
		preset string
		// mustHave and mustLack are checked in the rendered files on top of
		// the golden comparison, to say what each fixture is about.
		mustHave []string
		mustLack []string
	}{
		{preset: "crossplane",
			mustHave: []string{
				"patches/_cluster/s3.aws.upbound.io_Bucket/crossplane-logs.yaml",
				"restored-2f9c1", // applied by Argo CD from the overlay, not in the base: kept
				"patches/cp-team/database.example.org_PostgreSQLInstance/db.yaml",
				"resources/_cluster/database.example.org_XPostgreSQLInstance/db-x7k2p.yaml",
				"resources/_cluster/rds.aws.upbound.io_Instance/db-x7k2p-5mzqd.yaml",
			},
			mustLack: []string{"crossplane-assets", "ownerReferences", "uid:", "resourceVersion", "managedFields"}},
		{preset: "ack", mustHave: []string{"status/ack-team/s3.services.k8s.aws_Bucket/logs.yaml", "arn:aws:s3:::ack-team-logs", "status/ack-team/ec2.services.k8s.aws_VPC/main.yaml", "vpcID: vpc-0a1b2c3d4e5f67890"}, mustLack: []string{"ACK.ResourceSynced", "state: available"}},
		{preset: "config-connector", mustHave: []string{"patches/cc-team/storage.cnrm.cloud.google.com_StorageBucket/logs.yaml"}, mustLack: []string{"pinned"}},
		{preset: "pvc-binding",
			mustHave: []string{
				"patches/pvc-team/core_PersistentVolumeClaim/data.yaml",
				"resources/_cluster/core_PersistentVolume/pvc-ec0cc2c3-d41a-4fa8-87e5-48b2f3ffbf07.yaml",
				"resources/pvc-team/core_PersistentVolumeClaim/www-web-0.yaml",
			},
			mustLack: []string{"uid:", "resourceVersion", "phase: Bound", "bind-completed", "bound-by-controller", "storage-provisioner"}},
		{preset: "service-loadbalancer", mustHave: []string{"status/svc-team/core_Service/argocd-server.yaml", "172.18.0.7"}, mustLack: []string{"internal", "pending", "loadBalancer: {}"}},
		{preset: "status", mustHave: []string{"status/status-team/infra.example.com_KubernetesCluster/my-custom-cluster-for-backup.yaml", "apiServerURL"}, mustLack: []string{"lastTransitionTime", "observedGeneration"}},
	}
	a := newApplier(t)
	cl, err := live.NewCluster(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.preset, func(t *testing.T) {
			ctx := context.Background()
			dir := filepath.Join(root, "testdata", "presets", tt.preset)
			repo := os.DirFS(dir)
			base, err := render.Build(repo, "base", render.Tree{})
			if err != nil {
				t.Fatal(err)
			}
			objs, err := decodeAll(base)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.applyAll(ctx, objs, gitopsManager); err != nil {
				t.Fatal(err)
			}
			if err := a.applyFile(ctx, filepath.Join(dir, "live.yaml"), ""); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(filepath.Join(dir, "config.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			res, err := cl.Resources(cfg.Rules)
			if err != nil {
				t.Fatal(err)
			}
			caps, err := cl.List(ctx, cfg.Rules, res)
			if err != nil {
				t.Fatal(err)
			}
			idx, err := render.IndexBase(repo, overlayDir, cfg.Overlay.Resources)
			if err != nil {
				t.Fatal(err)
			}
			tree, err := render.Render(caps, render.Layout{Cluster: cfg.Cluster, ClusterUID: "fixture-cluster-uid", Resources: cfg.Overlay.Resources, Base: idx})
			if err != nil {
				t.Fatal(err)
			}
			if err := render.Verify(repo, overlayDir, tree); err != nil {
				t.Fatalf("overlay does not build over the base: %v", err)
			}
			compareGolden(t, filepath.Join(dir, "golden"), tree)
			all := dump(tree)
			for _, s := range tt.mustHave {
				if !strings.Contains(all, s) {
					t.Errorf("overlay lacks %q:\n%s", s, all)
				}
			}
			for _, s := range tt.mustLack {
				if strings.Contains(all, s) {
					t.Errorf("overlay holds %q:\n%s", s, all)
				}
			}
		})
	}
}

// dump is the tree as one text: each path, then its content.
func dump(t render.Tree) string {
	var b strings.Builder
	for _, p := range t.Paths() {
		b.WriteString("=== " + p + "\n")
		b.Write(t[p])
	}
	return b.String()
}

func compareGolden(t *testing.T, dir string, tree render.Tree) {
	t.Helper()
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		for p, b := range tree {
			f := filepath.Join(dir, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(f, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	want := render.Tree{}
	err := fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		want[p] = b
		return err
	})
	if err != nil {
		t.Fatalf("read golden overlay (run with -update to write it): %v", err)
	}
	for _, p := range want.Paths() {
		if got, ok := tree[p]; !ok {
			t.Errorf("missing %s", p)
		} else if !bytes.Equal(got, want[p]) {
			t.Errorf("%s differs:\n--- got\n%s--- want\n%s", p, got, want[p])
		}
	}
	for _, p := range tree.Paths() {
		if _, ok := want[p]; !ok {
			t.Errorf("unexpected %s:\n%s", p, tree[p])
		}
	}
}
