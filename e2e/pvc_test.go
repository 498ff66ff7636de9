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

var (
	pvcGVR = schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}
	pvGVR  = schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumes"}
)

// provisioner plays the CSI external-provisioner in A: a claim of class gp2
// without a volume gets a new cloud disk, a PV for it, and is pre-bound to
// it. In B it must find nothing to do: the claim comes back bound by name.
type provisioner struct {
	dyn   dynamic.Interface
	cloud *cloud
}

func (p *provisioner) controller() controller {
	return controller{name: "provisioner", gvr: pvcGVR, reconcile: func(ctx context.Context, pvc *unstructured.Unstructured) error {
		if v, _, _ := unstructured.NestedString(pvc.Object, "spec", "volumeName"); v != "" {
			return nil
		}
		if sc, _, _ := unstructured.NestedString(pvc.Object, "spec", "storageClassName"); sc != "gp2" {
			return nil
		}
		name := "pvc-" + string(pvc.GetUID())
		handle := p.cloud.create("ebs-volume", "vol")
		pv := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "PersistentVolume",
			"metadata": map[string]any{"name": name, "annotations": map[string]any{"pv.kubernetes.io/provisioned-by": "ebs.csi.aws.com"}},
			"spec": map[string]any{
				"capacity":                      map[string]any{"storage": "1Gi"},
				"accessModes":                   []any{"ReadWriteOnce"},
				"persistentVolumeReclaimPolicy": "Retain",
				"storageClassName":              "gp2",
				"csi":                           map[string]any{"driver": "ebs.csi.aws.com", "volumeHandle": handle, "fsType": "ext4"},
				"claimRef": map[string]any{"apiVersion": "v1", "kind": "PersistentVolumeClaim",
					"namespace": pvc.GetNamespace(), "name": pvc.GetName(), "uid": string(pvc.GetUID())},
			},
		}}
		if _, err := p.dyn.Resource(pvGVR).Create(ctx, pv, metav1.CreateOptions{FieldManager: "csi-provisioner"}); err != nil {
			return err
		}
		_ = unstructured.SetNestedField(pvc.Object, name, "spec", "volumeName")
		_, err := p.dyn.Resource(pvcGVR).Namespace(pvc.GetNamespace()).Update(ctx, pvc, metav1.UpdateOptions{FieldManager: "csi-provisioner"})
		return err
	}}
}

// pvcRules is the pvc-binding preset: the claim's spec.volumeName as a
// patch, the bound PV whole with claimRef reduced to kind, namespace and
// name (B's claim has another UID; the binder fills it in).
const pvcRules = `presets:
- name: pvc-binding
`

var pvcBase = map[string]string{
	"kustomization.yaml": "resources: [namespace.yaml, claim.yaml]\n",
	"namespace.yaml":     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: data\n",
	"claim.yaml": `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: pg-data
  namespace: data
spec:
  storageClassName: gp2
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
`,
}

func TestPVCBindsToTheSameVolume(t *testing.T) {
	cl := newCloud()
	pa := &provisioner{dyn: a.dyn, cloud: cl}
	stopA := run(a.dyn, pa.controller())
	applyBase(t, a, "pvc", pvcBase)
	var pvName string
	eventually(t, 30*time.Second, "A: the claim has a volume", func() error {
		u, err := a.dyn.Resource(pvcGVR).Namespace("data").Get(context.Background(), "pg-data", metav1.GetOptions{})
		if err != nil {
			return err
		}
		pvName, _, _ = unstructured.NestedString(u.Object, "spec", "volumeName")
		if pvName == "" {
			return fmt.Errorf("no volume yet")
		}
		return nil
	})
	stopA()
	handleA := volumeHandle(t, a, pvName)
	createdInA := cl.creations()

	rec := rebuild(t, "pvc", pvcBase, pvcRules)

	pb := &provisioner{dyn: b.dyn, cloud: cl}
	stopB := run(b.dyn, pb.controller())
	defer stopB()
	// The real PV binder (kube-controller-manager) completes the binding.
	eventually(t, 60*time.Second, "B: the claim is Bound", func() error {
		u, err := b.dyn.Resource(pvcGVR).Namespace("data").Get(context.Background(), "pg-data", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if ph, _, _ := unstructured.NestedString(u.Object, "status", "phase"); ph != "Bound" {
			return fmt.Errorf("phase %q", ph)
		}
		if v, _, _ := unstructured.NestedString(u.Object, "spec", "volumeName"); v != pvName {
			return fmt.Errorf("bound to %q, want A's %q", v, pvName)
		}
		return nil
	})
	rec.settled(t)
	defer rec.adoptAndCompare(t)
	if h := volumeHandle(t, b, pvName); h != handleA {
		t.Errorf("PV %s in B has volume handle %q, want A's %q", pvName, h, handleA)
	}
	pv, err := b.dyn.Resource(pvGVR).Get(context.Background(), pvName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ph, _, _ := unstructured.NestedString(pv.Object, "status", "phase"); ph != "Bound" {
		t.Errorf("PV %s in B: phase %q, want Bound", pvName, ph)
	}
	t.Logf("FIDELITY pvc: %d volume(s) created by the rebuilt cluster; the claim is Bound to its recorded volume", cl.creations()-createdInA)
	if n := cl.creations() - createdInA; n != 0 {
		t.Errorf("the rebuild created %d new volume(s), want 0", n)
	}
}

func volumeHandle(t *testing.T, p *plane, pv string) string {
	t.Helper()
	u, err := p.dyn.Resource(pvGVR).Get(context.Background(), pv, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h, _, _ := unstructured.NestedString(u.Object, "spec", "csi", "volumeHandle")
	return h
}
