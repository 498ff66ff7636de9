package restore

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/driftback/driftback/overlay"
)

func TestDrillReportOK(t *testing.T) {
	tests := []struct {
		name string
		r    DrillReport
		ok   bool
	}{
		{"fields verified", DrillReport{Verify: Verification{Objects: 1, Fields: 3}}, true},
		{"nothing verified", DrillReport{Verify: Verification{}}, false},
		{"claim not bound", DrillReport{Verify: Verification{Objects: 1, Fields: 3}, Outcomes: Outcomes{Claims: []ClaimOutcome{{Claim: "a/b", Volume: "pv", Problem: "claim is Lost"}}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.OK(); got != tt.ok {
				t.Errorf("OK() = %v, want %v", got, tt.ok)
			}
		})
	}
}

func obj(y string) *unstructured.Unstructured {
	u, err := overlay.DecodeObject([]byte(y))
	if err != nil {
		panic(err)
	}
	return u
}

// TestClaimOutcomes: a claim counts as restored only when it is Bound to the
// recorded volume and the volume's claimRef names it by its UID — what the
// PV binder does, and not what the drill's own applies do.
func TestClaimOutcomes(t *testing.T) {
	ctx := context.Background()
	c, err := NewCluster(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	ns := obj("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: outcomes\n")
	pv := obj(`apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv-outcomes
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: manual
  hostPath: {path: /tmp/outcomes}
  claimRef: {apiVersion: v1, kind: PersistentVolumeClaim, namespace: outcomes, name: data}
`)
	pvc := obj(`apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
  namespace: outcomes
spec:
  storageClassName: manual
  accessModes: [ReadWriteOnce]
  volumeName: pv-outcomes
  resources: {requests: {storage: 1Gi}}
`)
	if _, err := Apply(ctx, c, []*unstructured.Unstructured{ns, pv, pvc}, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	ov := &overlay.Overlay{Resources: []overlay.File{
		{Path: "resources/outcomes/core_PersistentVolumeClaim/3a/data.yaml", Object: pvc},
		{Path: "resources/_cluster/core_PersistentVolume/a7/pv-outcomes.yaml", Object: pv},
	}}

	// No binder runs here: the claim stays Pending.
	o := WaitOutcomes(ctx, c, ov, 0, 0)
	if len(o.Claims) != 1 || o.Failed() != 1 || !strings.Contains(o.Claims[0].Problem, "not Bound") {
		t.Fatalf("unbound claim: got %+v, want one claim not Bound", o)
	}

	// Play the binder: claim Bound, volume's claimRef with the claim's UID.
	live, err := c.Dyn.Resource(pvcGVR).Namespace("outcomes").Get(ctx, "data", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = unstructured.SetNestedField(live.Object, "Bound", "status", "phase")
	if _, err := c.Dyn.Resource(pvcGVR).Namespace("outcomes").UpdateStatus(ctx, live, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	o = WaitOutcomes(ctx, c, ov, 0, 0)
	if o.Failed() != 1 || !strings.Contains(o.Claims[0].Problem, "claimRef.uid") {
		t.Fatalf("volume without the claim's UID: got %+v, want a claimRef.uid problem", o)
	}
	lpv, err := c.Dyn.Resource(pvGVR).Get(ctx, "pv-outcomes", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = unstructured.SetNestedField(lpv.Object, string(live.GetUID()), "spec", "claimRef", "uid")
	lpv, err = c.Dyn.Resource(pvGVR).Update(ctx, lpv, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = unstructured.SetNestedField(lpv.Object, "Bound", "status", "phase")
	if _, err := c.Dyn.Resource(pvGVR).UpdateStatus(ctx, lpv, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if o = WaitOutcomes(ctx, c, ov, 0, 0); o.Failed() != 0 {
		t.Fatalf("bound claim: got %+v, want no problem", o)
	}
}
