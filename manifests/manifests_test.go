package manifests

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

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
		{"examples/flux", []string{"GitRepository/fleet-driftback", "Kustomization/my-cluster-apps", "Kustomization/driftback-restore", "Kustomization/my-cluster-operators"}},
		{"examples/monitoring", []string{"Service/driftback-metrics", "ServiceMonitor/driftback", "PrometheusRule/driftback"}},
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

// base/role.yaml is what `driftback rbac` prints for base/driftback.yaml,
// and restore/role.yaml what it prints with --restore --status-only: a
// change of the default config or of the rules' needs must regenerate them.
// The restore component grants status writes on what the rules capture,
// never on every status of the cluster.
func TestRolesAreGenerated(t *testing.T) {
	cfg, err := config.Load(filepath.Join("base", "driftback.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file, flags string
		o           rbac.Options
	}{
		{file: "base/role.yaml", o: rbac.Options{Namespace: "driftback"}},
		{file: "restore/role.yaml", flags: " --restore --status-only", o: rbac.Options{Namespace: "driftback", Restore: true, StatusOnly: true}},
	} {
		roles, err := rbac.Offline(cfg.Rules, tc.o)
		if err != nil {
			t.Fatal(err)
		}
		want, err := roles.YAML(rbac.Header("manifests/base/driftback.yaml", tc.o, ""))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.FromSlash(tc.file))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s drifted from the configuration; regenerate it:\n  go run ./cmd/driftback rbac --config manifests/base/driftback.yaml%s > manifests/%s\nwant:\n%s", tc.file, tc.flags, tc.file, want)
		}
		if strings.Contains(string(got), "*/status") || strings.Contains(string(got), "- '*'") {
			t.Errorf("%s grants a wildcard", tc.file)
		}
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

// The Flux rebuild example orders the restore as the runbook says: after the
// overlay is ready, before the operators, with force for the immutable Job.
func TestFluxExampleOrdersTheRestore(t *testing.T) {
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), "examples/flux")
	if err != nil {
		t.Fatal(err)
	}
	type spec struct {
		DependsOn []struct{ Name string } `json:"dependsOn"`
		Wait      bool                    `json:"wait"`
		Force     bool                    `json:"force"`
		Prune     bool                    `json:"prune"`
	}
	specs := map[string]spec{}
	for _, r := range m.Resources() {
		if r.GetKind() != "Kustomization" {
			continue
		}
		b, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		var obj struct {
			Spec spec `json:"spec"`
		}
		if err := yaml.Unmarshal(b, &obj); err != nil {
			t.Fatal(err)
		}
		specs[r.GetName()] = obj.Spec
	}
	dep := func(name string) string {
		if d := specs[name].DependsOn; len(d) == 1 {
			return d[0].Name
		}
		return ""
	}
	if s := specs["my-cluster-apps"]; !s.Wait || s.Prune {
		t.Errorf("my-cluster-apps: wait %v prune %v, want wait and no prune", s.Wait, s.Prune)
	}
	if s := specs["driftback-restore"]; dep("driftback-restore") != "my-cluster-apps" || !s.Wait || !s.Force {
		t.Errorf("driftback-restore: %+v, want dependsOn my-cluster-apps, wait and force (Jobs are immutable)", s)
	}
	if dep("my-cluster-operators") != "driftback-restore" {
		t.Errorf("my-cluster-operators: %+v, want dependsOn driftback-restore", specs["my-cluster-operators"])
	}
}
