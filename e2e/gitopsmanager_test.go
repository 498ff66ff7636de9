package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

var xnetGVR = schema.GroupVersionResource{Group: "platform.example.org", Version: "v1alpha1", Resource: "xnetworks"}

// crossplaneV2 composes a Crossplane v2 XR kept in Git: it writes the
// composed resources' references under spec.crossplane.resourceRefs (the
// composition reference is Git's), as crossplane's internal/controller/
// apiextensions/composite reconciler does with its own field manager.
type crossplaneV2 struct{ dyn dynamic.Interface }

func (x *crossplaneV2) controller() controller {
	return controller{name: "composite-v2", gvr: xnetGVR, reconcile: func(ctx context.Context, xr *unstructured.Unstructured) error {
		if refs, _, _ := unstructured.NestedSlice(xr.Object, "spec", "crossplane", "resourceRefs"); len(refs) > 0 {
			return nil
		}
		_ = unstructured.SetNestedSlice(xr.Object, []any{map[string]any{
			"apiVersion": "ec2.aws.upbound.io/v1beta1", "kind": "VPC", "name": xr.GetName() + "-" + suffix(),
		}}, "spec", "crossplane", "resourceRefs")
		_, err := x.dyn.Resource(xnetGVR).Namespace(xr.GetNamespace()).Update(ctx, xr, metav1.UpdateOptions{FieldManager: "apiextensions.crossplane.io/composite"})
		return err
	}}
}

var xnetBase = map[string]string{
	"kustomization.yaml": "resources: [namespace.yaml, network.yaml]\n",
	"namespace.yaml":     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: net-team\n",
	"network.yaml": `apiVersion: platform.example.org/v1alpha1
kind: XNetwork
metadata:
  name: edge
  namespace: net-team
spec:
  crossplane:
    compositionRef:
      name: network-aws
  parameters:
    region: eu-west-1
`,
}

// TestDrilledClusterAdoptsWithOneFile: the drill applies as a GitOps
// manager, so the rebuilt cluster's capture tells the composition reference
// (Git's) from the resource references (runtime state) as A's did, and the
// adoption commit changes only the cluster record.
func TestDrilledClusterAdoptsWithOneFile(t *testing.T) {
	stopA := run(a.dyn, (&crossplaneV2{dyn: a.dyn}).controller())
	applyBase(t, a, "xnet", xnetBase)
	eventually(t, 30*time.Second, "A: the XR is composed", func() error {
		u, err := a.dyn.Resource(xnetGVR).Namespace("net-team").Get(context.Background(), "edge", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if refs, _, _ := unstructured.NestedSlice(u.Object, "spec", "crossplane", "resourceRefs"); len(refs) == 0 {
			return fmt.Errorf("no resourceRefs yet")
		}
		return nil
	})
	stopA()
	rec := rebuild(t, "xnet", xnetBase, "presets:\n- name: crossplane\n")
	// B's Crossplane finds the references restored and has nothing to do.
	rec.adoptAndCompare(t)
}
