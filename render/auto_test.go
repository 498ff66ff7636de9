package render

import (
	"testing"

	"github.com/driftback/driftback/capture"
)

// An auto capture becomes a patch when the base defines the object and a
// whole resource when it does not.
func TestRenderAuto(t *testing.T) {
	auto := func(name string) capture.Capture {
		ann := map[string]any{"crossplane.io/external-name": name + "-ext"}
		return capture.Capture{
			Ref:  capture.ObjectRef{Group: "s3.aws.upbound.io", Version: "v1beta1", Kind: "Bucket", Name: name},
			Mode: capture.ModeAuto,
			Object: map[string]any{"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket",
				"metadata": map[string]any{"name": name, "annotations": ann}},
			Whole: map[string]any{"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket",
				"metadata": map[string]any{"name": name, "annotations": ann},
				"spec":     map[string]any{"forProvider": map[string]any{"region": "eu-west-1"}}},
		}
	}
	dir := "clusters/prod-eu1/driftback"
	idx, err := IndexBase(base(), dir, sampleLayout.Resources)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		base  *BaseIndex
		want  []string
		avoid []string
	}{
		{name: "with a base index", base: idx,
			want:  []string{"patches/_cluster/s3.aws.upbound.io_Bucket/98/logs.yaml", "resources/_cluster/s3.aws.upbound.io_Bucket/89/composed-1.yaml"},
			avoid: []string{"resources/_cluster/s3.aws.upbound.io_Bucket/98/logs.yaml", "unmatched/_cluster/s3.aws.upbound.io_Bucket/89/composed-1.yaml"}},
		{name: "without an index every object is taken to be in the base", base: nil,
			want:  []string{"patches/_cluster/s3.aws.upbound.io_Bucket/98/logs.yaml", "patches/_cluster/s3.aws.upbound.io_Bucket/89/composed-1.yaml"},
			avoid: []string{"resources/_cluster/s3.aws.upbound.io_Bucket/89/composed-1.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := sampleLayout
			l.Base = tt.base
			tree, err := Render([]capture.Capture{auto("logs"), auto("composed-1")}, l)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tt.want {
				if _, ok := tree[p]; !ok {
					t.Errorf("missing %s; files: %v", p, tree.Paths())
				}
			}
			for _, p := range tt.avoid {
				if _, ok := tree[p]; ok {
					t.Errorf("unexpected %s", p)
				}
			}
			if tt.base != nil {
				if err := Verify(base(), dir, tree); err != nil {
					t.Errorf("overlay does not build: %v", err)
				}
			}
		})
	}
}
