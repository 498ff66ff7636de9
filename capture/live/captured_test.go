package live

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

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
			if c.GetName() != tt.wantName || c.GetResourceVersion() == "" {
				t.Errorf("key = %s rv %q", c.GetName(), c.GetResourceVersion())
			}
			if (c.Packed == nil) != tt.wantNil {
				t.Fatalf("capture = %+v, want nil: %v", c.Packed, tt.wantNil)
			}
			if c.Packed == nil {
				return
			}
			cp := c.Packed.Unpack()
			if cp.Ref.Kind != "Bucket" || cp.Ref.Group != "s3.aws.upbound.io" {
				t.Errorf("ref = %+v", cp.Ref)
			}
			md := cp.Object["metadata"].(map[string]any)
			if ann := md["annotations"].(map[string]any); len(ann) != 1 || ann["crossplane.io/external-name"] != tt.wantName+"-ext" {
				t.Errorf("annotations = %v, want the external name only", ann)
			}
			if (cp.Status != nil) != tt.wantStatus {
				t.Errorf("status = %v", cp.Status)
			}
			if ap, _ := cp.Status["atProvider"].(map[string]any); ap["lastSeen"] != nil {
				t.Errorf("an excluded field was kept: %v", cp.Status)
			}
			again, err := tf(c)
			if err != nil || again != c {
				t.Errorf("transform is not idempotent: %v, %v", again, err)
			}
		})
	}
}

// The informer keys and resumes its cache through meta.Accessor: a Captured
// must answer with the object's namespace, name and resourceVersion.
func TestCapturedKeysTheCache(t *testing.T) {
	res := Resource{GVR: schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, Kind: "ConfigMap"}
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "cm", "namespace": "apps", "resourceVersion": "42"}}}
	out, err := transform(nil, res)(u)
	if err != nil {
		t.Fatal(err)
	}
	key, err := cache.MetaNamespaceKeyFunc(out)
	if err != nil || key != "apps/cm" {
		t.Errorf("key = %q, %v; want apps/cm", key, err)
	}
	m, err := meta.Accessor(out)
	if err != nil || m.GetResourceVersion() != "42" {
		t.Errorf("resourceVersion = %v, %v; want 42", m, err)
	}
	store := cache.NewStore(cache.DeletionHandlingMetaNamespaceKeyFunc)
	if err := store.Add(out); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := store.GetByKey("apps/cm"); !ok {
		t.Error("the store does not find the capture by its key")
	}
}
