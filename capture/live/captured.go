package live

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	"github.com/driftback/driftback/capture"
)

// Captured is what the watch cache holds for one object: its key and its
// capture, never the object itself. The informer's transform builds it as
// each object arrives, so memory follows what is kept in Git rather than the
// size of the objects watched, and every rule (presets, managedFields
// pruning) sees the whole object once.
//
// It keeps only name, namespace and resourceVersion, what the informer
// needs to key and resume, behind metav1.Object (meta_object.go): an
// embedded metav1.ObjectMeta and TypeMeta cost about 270 bytes per object,
// more than many captures.
type Captured struct {
	name, namespace, resourceVersion string
	// Packed is the object's capture in the cache's compact form
	// (capture.Packed); nil when the rules keep nothing of the object (no
	// rule matches, a controller-owned child, nothing at the selected
	// paths).
	Packed *capture.Packed
	// orderGen and orderPos are where the last snapshot placed it
	// (order.go); written and read only by Snapshot, under the Watcher's
	// mu, while the informer reads the other fields.
	orderGen uint64
	orderPos int32
}

// GetObjectKind is empty: the kind is the informer's.
func (c *Captured) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// DeepCopyObject copies the key; the capture is shared because nothing
// changes a packed capture.
func (c *Captured) DeepCopyObject() runtime.Object {
	out := *c
	return &out
}

// transform turns what an informer receives into a *Captured. It must be
// idempotent: objects already in the cache may pass through it again.
func transform(rules []capture.Rule, res Resource) cache.TransformFunc {
	gvk := res.GVR.GroupVersion().WithKind(res.Kind)
	// One string for every object of the resource: each capture keeps its
	// apiVersion, and a string made per object would be a copy each.
	apiVersion := gvk.GroupVersion().String()
	return func(obj any) (any, error) {
		switch o := obj.(type) {
		case *Captured:
			return o, nil
		case *unstructured.Unstructured:
			// The dynamic client fills apiVersion and kind; set them anyway
			// so a capture is always named after the resource watched.
			o.Object["apiVersion"], o.Object["kind"] = apiVersion, gvk.Kind
			return newCaptured(rules, o), nil
		case *metav1.PartialObjectMetadata:
			md, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&o.ObjectMeta)
			if err != nil {
				return nil, fmt.Errorf("convert metadata of %s %s/%s: %w", res.GVR, o.Namespace, o.Name, err)
			}
			u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": gvk.Kind, "metadata": md}}
			return newCaptured(rules, u), nil
		default:
			return nil, fmt.Errorf("watch %s: unexpected object %T", res.GVR, obj)
		}
	}
}

func newCaptured(rules []capture.Rule, u *unstructured.Unstructured) *Captured {
	c := &Captured{name: u.GetName(), namespace: u.GetNamespace(), resourceVersion: u.GetResourceVersion()}
	if cp, ok := capture.Build(rules, u); ok {
		c.Packed = capture.Pack(cp)
	}
	return c
}

// capturedOf unwraps what an event handler receives, tombstones included.
func capturedOf(obj any) *Captured {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	c, _ := obj.(*Captured)
	return c
}
