package manifests

import (
	"path/filepath"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/driftback/driftback/config"
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
		{"base", []string{"Namespace/driftback", "ServiceAccount/driftback", "ClusterRole/driftback-reader", "Deployment/driftback"}},
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
