package capture

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPresetKinds checks which kinds each preset reaches: the presets over
// "all kinds" must never reach the core group (Secrets) nor the churning
// Kubernetes groups.
func TestPresetKinds(t *testing.T) {
	tests := []struct {
		preset string
		group  string
		kind   string
		want   bool
	}{
		{PresetCrossplane, "s3.aws.upbound.io", "Bucket", true},
		{PresetCrossplane, "database.example.org", "XPostgreSQLInstance", true},
		{PresetCrossplane, "", "Secret", false},
		{PresetCrossplane, "", "ConfigMap", false},
		{PresetCrossplane, "apps", "Deployment", false},
		{PresetCrossplane, "coordination.k8s.io", "Lease", false},
		{PresetCrossplane, "events.k8s.io", "Event", false},
		{PresetCrossplane, "apiextensions.k8s.io", "CustomResourceDefinition", false},
		{PresetACK, "s3.services.k8s.aws", "Bucket", true},
		{PresetACK, "s3.aws.upbound.io", "Bucket", false},
		{PresetConfigConnector, "storage.cnrm.cloud.google.com", "StorageBucket", true},
		{PresetPVCBinding, "", "PersistentVolumeClaim", true},
		{PresetPVCBinding, "", "PersistentVolume", true},
		{PresetPVCBinding, "", "Secret", false},
		{PresetServiceLoadBalancer, "", "Service", true},
		{PresetServiceLoadBalancer, "serving.knative.dev", "Service", false},
		{PresetStatus, "infra.example.com", "KubernetesCluster", true},
		{PresetStatus, "infra.example.com", "Other", false},
	}
	for _, tt := range tests {
		rules, err := PresetRules(tt.preset, []GroupKind{{Group: "infra.example.com", Kind: "KubernetesCluster"}})
		if err != nil {
			t.Fatal(err)
		}
		got := false
		for _, r := range rules {
			got = got || r.Match.MatchesKind(tt.group, tt.kind)
		}
		if got != tt.want {
			t.Errorf("%s reaches %s/%s = %v, want %v", tt.preset, tt.group, tt.kind, got, tt.want)
		}
	}
	if _, err := PresetRules("velero", nil); err == nil {
		t.Error("unknown preset accepted")
	}
	if _, err := PresetRules(PresetStatus, nil); err == nil {
		t.Error("status preset without kinds accepted")
	}
}

// TestPresetsDocTable: docs/presets.md's table is the presets' Doc lines,
// in order, so adding a preset cannot leave the documentation behind.
func TestPresetsDocTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "presets.md"))
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- presets table:", "<!-- end of presets table -->"
	doc := string(b)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("docs/presets.md: no table between %q and %q", begin, end)
	}
	got := doc[strings.Index(doc[i:], "\n")+i+1 : j]
	want := "| preset | keeps |\n|---|---|\n"
	for _, p := range PresetTable() {
		want += fmt.Sprintf("| `%s` | %s |\n", p.Name, p.Doc)
	}
	if got != want {
		t.Errorf("docs/presets.md's table differs from capture/presets.go; want:\n%s\ngot:\n%s", want, got)
	}
}
