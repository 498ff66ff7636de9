package capture

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestSanitizeDropsControllerBookkeeping(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]any
		want map[string]any // the annotations left
	}{
		{
			name: "bound claim: the binder's and provisioner's marks go, the user's stay",
			in: map[string]any{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": map[string]any{"name": "www-web-0", "annotations": map[string]any{
				"pv.kubernetes.io/bind-completed":               "yes",
				"pv.kubernetes.io/bound-by-controller":          "yes",
				"volume.kubernetes.io/storage-provisioner":      "ebs.csi.aws.com",
				"volume.beta.kubernetes.io/storage-provisioner": "ebs.csi.aws.com",
				"volume.kubernetes.io/selected-node":            "node-1",
				"team.example.com/owner":                        "web",
			}}},
			want: map[string]any{"team.example.com/owner": "web"},
		},
		{
			name: "volume: bound-by-controller goes, provisioned-by stays (the deleter needs it)",
			in: map[string]any{"apiVersion": "v1", "kind": "PersistentVolume", "metadata": map[string]any{"name": "pv", "annotations": map[string]any{
				"pv.kubernetes.io/bound-by-controller": "yes",
				"pv.kubernetes.io/provisioned-by":      "ebs.csi.aws.com",
			}}},
			want: map[string]any{"pv.kubernetes.io/provisioned-by": "ebs.csi.aws.com"},
		},
		{
			name: "other kinds keep annotations of the same name",
			in: map[string]any{"apiVersion": "example.com/v1", "kind": "PersistentVolumeClaim", "metadata": map[string]any{"name": "x", "annotations": map[string]any{
				"pv.kubernetes.io/bind-completed": "yes",
			}}},
			want: map[string]any{"pv.kubernetes.io/bind-completed": "yes"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := Sanitize(tt.in)
			got, _ := out["metadata"].(map[string]any)["annotations"].(map[string]any)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("annotations = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestACKPresetKeepsTheIdentifierSdkFindReads(t *testing.T) {
	rules, err := PresetRules(PresetACK, nil)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "ec2.services.k8s.aws/v1alpha1", "kind": "VPC",
		"metadata": map[string]any{"name": "main", "namespace": "net"},
		"spec":     map[string]any{"cidrBlocks": []any{"10.0.0.0/16"}},
		"status": map[string]any{
			"vpcID":               "vpc-123",
			"state":               "available",
			"ackResourceMetadata": map[string]any{"ownerAccountID": "123456789012", "region": "eu-west-1"},
		},
	}}
	c, ok := Build(rules, u)
	if !ok {
		t.Fatal("the VPC was not captured")
	}
	want := map[string]any{"vpcID": "vpc-123", "ackResourceMetadata": map[string]any{"ownerAccountID": "123456789012", "region": "eu-west-1"}}
	if !reflect.DeepEqual(c.Status, want) {
		t.Errorf("status kept = %v, want %v", c.Status, want)
	}
}
