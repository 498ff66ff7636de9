package manifests

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/driftback/driftback/config"
	"github.com/driftback/driftback/rbac"
)

func build(t *testing.T, dir string) map[string]bool {
	t.Helper()
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	kinds := map[string]bool{}
	for _, r := range m.Resources() {
		kinds[r.GetKind()+"/"+r.GetName()] = true
	}
	return kinds
}

func TestManifestsBuild(t *testing.T) {
	tests := []struct {
		dir  string
		want []string
	}{
		{"base", []string{"Namespace/driftback", "ServiceAccount/driftback", "ClusterRole/driftback-reader", "ClusterRole/driftback-reader-extra", "Role/driftback-leader-election", "RoleBinding/driftback-leader-election", "Deployment/driftback"}},
		{"examples", []string{"Application/my-cluster-apps", "Kustomization/my-cluster-apps", "GitRepository/fleet-driftback"}},
		{"examples/install-with-restore", []string{"Deployment/driftback", "ClusterRole/driftback-reader", "ClusterRole/driftback-status-writer", "Job/driftback-restore"}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			got := build(t, tt.dir)
			for _, w := range tt.want {
				if !got[w] {
					t.Errorf("%s lacks %s; has %v", tt.dir, w, got)
				}
			}
		})
	}
}

// The shipped example configuration must load.
func TestExampleConfigLoads(t *testing.T) {
	if _, err := config.Load(filepath.Join("base", "driftback.yaml")); err != nil {
		t.Fatal(err)
	}
}

// base/role.yaml is what `driftback rbac` prints for base/driftback.yaml: a
// change of the default config or of the rules' needs must regenerate it.
func TestBaseRoleIsGenerated(t *testing.T) {
	cfg, err := config.Load(filepath.Join("base", "driftback.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	roles, err := rbac.Offline(cfg.Rules, rbac.Options{Namespace: "driftback"})
	if err != nil {
		t.Fatal(err)
	}
	want, err := roles.YAML(rbac.Header("manifests/base/driftback.yaml", rbac.Options{Namespace: "driftback"}, ""))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("base", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("base/role.yaml drifted from the configuration; regenerate it:\n  go run ./cmd/driftback rbac --config manifests/base/driftback.yaml > manifests/base/role.yaml\nwant:\n%s", want)
	}
}

// The Deployment runs a pinned release with the mounted Git credentials.
func TestDeploymentPinsTheImageAndPassesTheSecret(t *testing.T) {
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), "base")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range m.Resources() {
		if r.GetKind() != "Deployment" {
			continue
		}
		y, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		s := string(y)
		if !regexp.MustCompile(`image: ghcr.io/driftback/driftback:v\d+\.\d+\.\d+\n`).MatchString(s) {
			t.Errorf("the Deployment's image is not pinned to a release tag:\n%s", s)
		}
		if !strings.Contains(s, "--git-secret-dir=/etc/driftback/git") || !strings.Contains(s, "mountPath: /etc/driftback/git") {
			t.Errorf("the Deployment does not pass the mounted Secret to driftback:\n%s", s)
		}
		return
	}
	t.Fatal("no Deployment in base")
}
