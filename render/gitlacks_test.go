package render

import (
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/driftback/driftback/capture"
)

// TestOnlyWhatGitLacks: a field the GitOps tool applied is left out of the
// patch only when the base holds the same value; one it applied from
// driftback's own overlay (the base lacks it) stays.
func TestOnlyWhatGitLacks(t *testing.T) {
	dir := "clusters/prod-eu1/driftback"
	idx, err := IndexBase(base(), dir, sampleLayout.Resources)
	if err != nil {
		t.Fatal(err)
	}
	ref := capture.ObjectRef{Group: "s3.aws.upbound.io", Version: "v1beta1", Kind: "Bucket", Name: "logs"}
	obj := func(region string) map[string]any {
		return map[string]any{"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket",
			"metadata": map[string]any{"name": "logs", "annotations": map[string]any{"crossplane.io/external-name": "logs-7f3a"}},
			"spec":     map[string]any{"forProvider": map[string]any{"region": region}}}
	}
	xn := map[string]any{"metadata": map[string]any{"annotations": map[string]any{"crossplane.io/external-name": "logs-7f3a"}}}
	region := map[string]any{"spec": map[string]any{"forProvider": map[string]any{"region": "eu-west-1"}}}
	both := map[string]any{"metadata": xn["metadata"], "spec": region["spec"]}
	tests := []struct {
		name    string
		base    *BaseIndex
		object  map[string]any
		applied map[string]any
		want    []string // in the patch
		lack    []string // not in the patch
		noPatch bool
	}{
		{name: "applied and in the base: dropped", base: idx, object: obj("eu-west-1"), applied: region,
			want: []string{"logs-7f3a"}, lack: []string{"region"}},
		{name: "applied from the overlay, not in the base: kept", base: idx, object: obj("eu-west-1"), applied: xn,
			want: []string{"logs-7f3a", "region"}},
		{name: "applied but the base says otherwise: kept", base: idx, object: obj("eu-central-1"), applied: map[string]any{"spec": map[string]any{"forProvider": map[string]any{"region": "eu-central-1"}}},
			want: []string{"logs-7f3a", "eu-central-1"}},
		{name: "not applied: kept even when the base agrees", base: idx, object: obj("eu-west-1"), applied: nil,
			want: []string{"logs-7f3a", "region"}},
		{name: "no base index: kept", base: nil, object: obj("eu-west-1"), applied: both,
			want: []string{"logs-7f3a", "region"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := capture.Capture{Ref: ref, Mode: capture.ModePatch, Object: tt.object, Applied: tt.applied}
			before := runtime.DeepCopyJSON(c.Object)
			l := sampleLayout
			l.Base = tt.base
			tree, err := Render([]capture.Capture{c}, l)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(before, c.Object) {
				t.Error("Render modified the capture")
			}
			p, ok := tree["patches/_cluster/s3.aws.upbound.io_Bucket/98/logs.yaml"]
			if !ok {
				t.Fatalf("no patch; files %v", tree.Paths())
			}
			for _, w := range tt.want {
				if !strings.Contains(string(p), w) {
					t.Errorf("patch lacks %q:\n%s", w, p)
				}
			}
			for _, w := range tt.lack {
				if strings.Contains(string(p), w) {
					t.Errorf("patch holds %q:\n%s", w, p)
				}
			}
		})
	}
	t.Run("everything in the base: no patch", func(t *testing.T) {
		o := obj("eu-west-1")
		delete(o["metadata"].(map[string]any), "annotations")
		l := sampleLayout
		l.Base = idx
		tree, err := Render([]capture.Capture{{Ref: ref, Mode: capture.ModePatch, Object: o, Applied: region}}, l)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range tree.Paths() {
			if strings.Contains(p, "Bucket") || strings.Contains(string(tree[p]), "Bucket") {
				t.Errorf("unexpected %s:\n%s", p, tree[p])
			}
		}
	})
}
