package live

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/driftback/driftback/capture"
)

func TestTransformKeepsOnlyTheCapture(t *testing.T) {
	rules := []capture.Rule{{
		Name: "ext", Mode: capture.ModePatch,
		Match:   capture.Match{APIGroups: []string{"s3.aws.upbound.io"}, Kinds: []string{"Bucket"}},
		Fields:  []capture.Path{capture.MustParsePath(`metadata.annotations["crossplane.io/external-name"]`), capture.MustParsePath("status.atProvider")},
		Exclude: []capture.Path{capture.MustParsePath("status.atProvider.lastSeen")},
	}}
	res := Resource{GVR: schema.GroupVersionResource{Group: "s3.aws.upbound.io", Version: "v1beta1", Resource: "buckets"}, Kind: "Bucket"}
	yes := true
	full := func(name string, owned bool) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket",
			"metadata": map[string]any{"name": name, "resourceVersion": "7", "annotations": map[string]any{
				"crossplane.io/external-name": name + "-ext", "kubectl.kubernetes.io/last-applied-configuration": "{...}"}},
			"spec":   map[string]any{"forProvider": map[string]any{"region": "eu-west-1"}},
			"status": map[string]any{"atProvider": map[string]any{"arn": "arn:" + name, "lastSeen": "now"}},
		}}
		if owned {
			u.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "v1", Kind: "X", Name: "o", UID: "u", Controller: &yes}})
		}
		return u
	}
	meta := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "m", ResourceVersion: "8",
		Annotations: map[string]string{"crossplane.io/external-name": "m-ext"}}}
	tests := []struct {
		name       string
		in         any
		wantName   string
		wantStatus bool
		wantNil    bool
	}{
		{name: "whole object", in: full("a", false), wantName: "a", wantStatus: true},
		{name: "controller-owned child", in: full("child", true), wantName: "child", wantNil: true},
		{name: "metadata only", in: meta, wantName: "m"},
	}
	tf := transform(rules, res)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tf(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			c, ok := out.(*Captured)
			if !ok {
				t.Fatalf("transform returned %T", out)
			}
			if c.Name != tt.wantName || c.ResourceVersion == "" {
				t.Errorf("key = %s rv %q", c.Name, c.ResourceVersion)
			}
			if (c.Capture == nil) != tt.wantNil {
				t.Fatalf("capture = %+v, want nil: %v", c.Capture, tt.wantNil)
			}
			if c.Capture == nil {
				return
			}
			if c.Capture.Ref.Kind != "Bucket" || c.Capture.Ref.Group != "s3.aws.upbound.io" {
				t.Errorf("ref = %+v", c.Capture.Ref)
			}
			md := c.Capture.Object["metadata"].(map[string]any)
			if ann := md["annotations"].(map[string]any); len(ann) != 1 || ann["crossplane.io/external-name"] != tt.wantName+"-ext" {
				t.Errorf("annotations = %v, want the external name only", ann)
			}
			if (c.Capture.Status != nil) != tt.wantStatus {
				t.Errorf("status = %v", c.Capture.Status)
			}
			if ap, _ := c.Capture.Status["atProvider"].(map[string]any); ap["lastSeen"] != nil {
				t.Errorf("an excluded field was kept: %v", c.Capture.Status)
			}
			again, err := tf(c)
			if err != nil || again != c {
				t.Errorf("transform is not idempotent: %v, %v", again, err)
			}
		})
	}
}
