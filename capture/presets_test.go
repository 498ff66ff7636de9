package capture

import "testing"

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
