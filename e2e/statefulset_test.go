package e2e

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
)

// externalProvisioner plays a CSI external-provisioner, after
// kubernetes-sigs/sig-storage-lib-external-provisioner controller/controller.go
// (shouldProvision, provisionClaimOperation): it provisions a claim whose
// volume.kubernetes.io/storage-provisioner annotation (set by the PV binder,
// pv_controller.go provisionClaim, for a class with an external provisioner)
// names it and that has no volume yet, by creating a PV whose claimRef
// carries the claim's UID. It never sets the claim's spec.volumeName: the
// real PV binder completes the binding (syncUnboundClaim finds the
// pre-bound volume).
type externalProvisioner struct {
	name  string
	dyn   dynamic.Interface
	cloud *cloud
}

func (p *externalProvisioner) controller() controller {
	return controller{name: "external-provisioner", gvr: pvcGVR, reconcile: func(ctx context.Context, pvc *unstructured.Unstructured) error {
		ann := pvc.GetAnnotations()
		if ann["volume.kubernetes.io/storage-provisioner"] != p.name && ann["volume.beta.kubernetes.io/storage-provisioner"] != p.name {
			return nil
		}
		if v, _, _ := unstructured.NestedString(pvc.Object, "spec", "volumeName"); v != "" {
			return nil
		}
		name := "pvc-" + string(pvc.GetUID())
		if _, err := p.dyn.Resource(pvGVR).Get(ctx, name, metav1.GetOptions{}); err == nil {
			return nil // provisioned, waiting for the binder
		}
		sc, _, _ := unstructured.NestedString(pvc.Object, "spec", "storageClassName")
		pv := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "PersistentVolume",
			"metadata": map[string]any{"name": name, "annotations": map[string]any{"pv.kubernetes.io/provisioned-by": p.name}},
			"spec": map[string]any{
				"capacity":                      map[string]any{"storage": "1Gi"},
				"accessModes":                   []any{"ReadWriteOnce"},
				"persistentVolumeReclaimPolicy": "Retain",
				"storageClassName":              sc,
				"csi":                           map[string]any{"driver": p.name, "volumeHandle": p.cloud.create("ebs-volume", "vol"), "fsType": "ext4"},
				"claimRef": map[string]any{"apiVersion": "v1", "kind": "PersistentVolumeClaim",
					"namespace": pvc.GetNamespace(), "name": pvc.GetName(), "uid": string(pvc.GetUID())},
			},
		}}
		_, err := p.dyn.Resource(pvGVR).Create(ctx, pv, metav1.CreateOptions{FieldManager: "csi-provisioner"})
		return err
	}}
}

var stsBase = map[string]string{
	"kustomization.yaml": "resources: [namespace.yaml, storageclass.yaml, statefulset.yaml]\n",
	"namespace.yaml":     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n",
	"storageclass.yaml": `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: ebs-sts
provisioner: ebs.csi.aws.com
reclaimPolicy: Retain
volumeBindingMode: Immediate
`,
	"statefulset.yaml": `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
  namespace: web
spec:
  serviceName: web
  replicas: 2
  # No kubelet runs the pods: Parallel lets the controller create both
  # pods (and their claims) without waiting for web-0 to be Ready.
  podManagementPolicy: Parallel
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: registry.k8s.io/nginx-slim:0.8
        volumeMounts:
        - {name: www, mountPath: /usr/share/nginx/html}
  volumeClaimTemplates:
  - metadata:
      name: www
    spec:
      storageClassName: ebs-sts
      accessModes: [ReadWriteOnce]
      resources:
        requests:
          storage: 1Gi
`,
}

// TestStatefulSetFindsItsVolumes: the StatefulSet controller and the PV
// binder of the real kube-controller-manager run on both clusters. In A they
// create and bind the claims (with the binder's bookkeeping annotations);
// in B, rebuilt from the branch, the claims must come back Bound to the
// recorded volumes: no new claim, no new volume, no volume left Available.
var claimsLine = regexp.MustCompile(`(?m)^claims:\s+(\d+) of (\d+) bound to their recorded volume$`)

func TestStatefulSetFindsItsVolumes(t *testing.T) {
	ctx := context.Background()
	cl := newCloud()
	stopA := run(a.dyn, (&externalProvisioner{name: "ebs.csi.aws.com", dyn: a.dyn, cloud: cl}).controller())
	applyBase(t, a, "sts", stsBase)
	claims := []string{"www-web-0", "www-web-1"}
	volumes := map[string]string{}
	eventually(t, 90*time.Second, "A: the StatefulSet's claims are Bound", func() error {
		for _, c := range claims {
			u, err := a.dyn.Resource(pvcGVR).Namespace("web").Get(ctx, c, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if ph, _, _ := unstructured.NestedString(u.Object, "status", "phase"); ph != "Bound" {
				return fmt.Errorf("%s: phase %q", c, ph)
			}
			volumes[c], _, _ = unstructured.NestedString(u.Object, "spec", "volumeName")
		}
		return nil
	})
	stopA()
	// The binder's bookkeeping is there in A: what made the restore fail.
	u, err := a.dyn.Resource(pvcGVR).Namespace("web").Get(ctx, claims[0], metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := u.GetAnnotations()["pv.kubernetes.io/bind-completed"]; !ok {
		t.Fatalf("A's claim lacks the binder's bind-completed annotation; the scenario is not the real one: %v", u.GetAnnotations())
	}
	createdInA := cl.creations()

	rec := rebuild(t, "sts", stsBase, "presets:\n- name: pvc-binding\n")

	stopB := run(b.dyn, (&externalProvisioner{name: "ebs.csi.aws.com", dyn: b.dyn, cloud: cl}).controller())
	defer stopB()
	eventually(t, 90*time.Second, "B: the claims are Bound to A's volumes", func() error {
		for _, c := range claims {
			pvc, err := b.dyn.Resource(pvcGVR).Namespace("web").Get(ctx, c, metav1.GetOptions{})
			if err != nil {
				return err
			}
			ph, _, _ := unstructured.NestedString(pvc.Object, "status", "phase")
			v, _, _ := unstructured.NestedString(pvc.Object, "spec", "volumeName")
			if ph != "Bound" || v != volumes[c] {
				return fmt.Errorf("%s: phase %q, volume %q, want Bound to %q", c, ph, v, volumes[c])
			}
			pv, err := b.dyn.Resource(pvGVR).Get(ctx, v, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if uid, _, _ := unstructured.NestedString(pv.Object, "spec", "claimRef", "uid"); uid != string(pvc.GetUID()) {
				return fmt.Errorf("volume %s: claimRef.uid %q, want the claim's %q", v, uid, pvc.GetUID())
			}
			if ph, _, _ := unstructured.NestedString(pv.Object, "status", "phase"); ph != "Bound" {
				return fmt.Errorf("volume %s: phase %q", v, ph)
			}
		}
		return nil
	})
	rec.settled(t)
	// The preset keeps every bound claim of the shared plane A; all of
	// them must be bound again, ours among them (checked above).
	if m := claimsLine.FindStringSubmatch(rec.out); m == nil || m[1] != m[2] {
		t.Errorf("the drill did not report both claims bound:\n%s", rec.out)
	}
	l, err := b.dyn.Resource(pvcGVR).Namespace("web").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != len(claims) {
		t.Errorf("B holds %d claims in namespace web, want %d (no new claim)", len(l.Items), len(claims))
	}
	t.Logf("FIDELITY sts: %d volume(s) provisioned by the rebuilt cluster; %d of %d claims Bound to their recorded volume", cl.creations()-createdInA, len(claims), len(claims))
	if n := cl.creations() - createdInA; n != 0 {
		t.Errorf("the rebuild provisioned %d new volume(s), want 0", n)
	}
	pvs, err := b.dyn.Resource(pvGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pv := range pvs.Items {
		if sc, _, _ := unstructured.NestedString(pv.Object, "spec", "storageClassName"); sc != "ebs-sts" {
			continue
		}
		if ph, _, _ := unstructured.NestedString(pv.Object, "status", "phase"); ph != "Bound" {
			t.Errorf("volume %s in B is %s, want Bound", pv.GetName(), ph)
		}
	}
	rec.adoptAndCompare(t)
}
