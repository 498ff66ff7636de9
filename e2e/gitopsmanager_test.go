package e2e

import (
	"context"
	"fmt"
	"strings"
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

// xnetBase is a team's Git: a namespace and a v2 XR whose composition
// reference Git holds.
func xnetBase(ns string) map[string]string {
	return map[string]string{
		"kustomization.yaml": "resources: [namespace.yaml, network.yaml]\n",
		"namespace.yaml":     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + ns + "\n",
		"network.yaml": `apiVersion: platform.example.org/v1alpha1
kind: XNetwork
metadata:
  name: edge
  namespace: ` + ns + `
spec:
  crossplane:
    compositionRef:
      name: network-aws
  parameters:
    region: eu-west-1
`,
	}
}

// TestDrilledClusterAdoptsWithOneFile: the drill applies as a GitOps
// manager, so the rebuilt cluster's capture tells the composition reference
// (Git's) from the resource references (runtime state) as A's did, and the
// adoption commit changes only the cluster record. The control case drills
// as driftback-drill (the manager before issue 12, outside the GitOps
// managers): B's capture then takes the Git-held compositionRef for runtime
// state and the adoption commit changes more than the cluster record.
func TestDrilledClusterAdoptsWithOneFile(t *testing.T) {
	tests := []struct {
		name      string
		drillArgs []string
		oneFile   bool
	}{
		{name: "xnet", oneFile: true},
		{name: "xnet-drill-manager", drillArgs: []string{"--field-manager", "driftback-drill"}, oneFile: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := tt.name
			stopA := run(a.dyn, (&crossplaneV2{dyn: a.dyn}).controller())
			applyBase(t, a, tt.name, xnetBase(ns))
			eventually(t, 30*time.Second, "A: the XR is composed", func() error {
				u, err := a.dyn.Resource(xnetGVR).Namespace(ns).Get(context.Background(), "edge", metav1.GetOptions{})
				if err != nil {
					return err
				}
				if refs, _, _ := unstructured.NestedSlice(u.Object, "spec", "crossplane", "resourceRefs"); len(refs) == 0 {
					return fmt.Errorf("no resourceRefs yet")
				}
				return nil
			})
			stopA()
			rec := rebuild(t, tt.name, xnetBase(ns), "presets:\n- name: crossplane\n", tt.drillArgs...)
			// B's Crossplane finds the references restored and has nothing to do.
			if tt.oneFile {
				rec.adoptAndCompare(t)
				return
			}
			changed, diff := rec.adopt(t)
			if len(changed) < 2 || !strings.Contains(diff, "compositionRef") {
				t.Errorf("drilled as driftback-drill, B's adoption commit changed %v; want the Git-held compositionRef pinned too (the failure this test guards against):\n%s", changed, diff)
			}
		})
	}
}
