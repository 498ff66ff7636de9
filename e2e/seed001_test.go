package e2e

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

var (
	kcGVR  = schema.GroupVersionResource{Group: "infra.example.com", Version: "v1alpha1", Resource: "kubernetesclusters"}
	svcGVR = schema.GroupVersionResource{Version: "v1", Resource: "services"}
)

// infraOperator is seed 001's in-house operator: on first sight of a
// KubernetesCluster whose status holds no apiServerURL it provisions a new
// cluster (the old one's endpoint is unrecoverable) and records it in status.
type infraOperator struct {
	dyn        dynamic.Interface
	provisions *counter
	seen       *counter
}

func (o *infraOperator) controller() controller {
	return controller{name: "infra-operator", gvr: kcGVR, reconcile: func(ctx context.Context, u *unstructured.Unstructured) error {
		if o.seen.hasSeen(u.GetNamespace(), u.GetName()) {
			return nil
		}
		if url, _, _ := unstructured.NestedString(u.Object, "status", "apiServerURL"); url == "" {
			u.Object["status"] = map[string]any{
				"apiServerURL":  fmt.Sprintf("https://%s-%s.k8s.internal:6443", u.GetName(), suffix()),
				"masterVersion": "1.28.23",
				"conditions":    readyCondition(),
			}
			if _, err := o.dyn.Resource(kcGVR).Namespace(u.GetNamespace()).UpdateStatus(ctx, u, metav1.UpdateOptions{FieldManager: "infra-operator"}); err != nil {
				return err
			}
			o.provisions.inc()
		}
		o.seen.firstSight(u)
		return nil
	}}
}

// loadBalancers plays the cloud controller: a LoadBalancer Service without
// an address gets a new one; one that has an address keeps it.
type loadBalancers struct {
	dyn         dynamic.Interface
	allocations *counter
	seen        *counter
}

func (l *loadBalancers) controller() controller {
	return controller{name: "cloud-controller", gvr: svcGVR, reconcile: func(ctx context.Context, u *unstructured.Unstructured) error {
		if typ, _, _ := unstructured.NestedString(u.Object, "spec", "type"); typ != "LoadBalancer" {
			return nil
		}
		if ing, _, _ := unstructured.NestedSlice(u.Object, "status", "loadBalancer", "ingress"); len(ing) == 0 {
			l.allocations.inc()
			n := l.allocations.count()
			_ = unstructured.SetNestedSlice(u.Object, []any{map[string]any{
				"ip": fmt.Sprintf("203.0.113.%d", 10+n), "hostname": fmt.Sprintf("a%d-%s.elb.eu-west-1.amazonaws.com", n, suffix()), "ipMode": "VIP",
			}}, "status", "loadBalancer", "ingress")
			if _, err := l.dyn.Resource(svcGVR).Namespace(u.GetNamespace()).UpdateStatus(ctx, u, metav1.UpdateOptions{FieldManager: "cloud-controller"}); err != nil {
				return err
			}
		}
		l.seen.firstSight(u)
		return nil
	}}
}

const seed001Rules = `rules:
- name: kubernetescluster-status
  match: {apiGroups: [infra.example.com], kinds: [KubernetesCluster], namespaces: [infra]}
  fields: [status]
  exclude: ["status.conditions[*].lastTransitionTime"]
- name: service-loadbalancer
  match: {apiGroups: [""], kinds: [Service], namespaces: [infra]}
  fields: [status.loadBalancer]
`

var seed001Base = map[string]string{
	"kustomization.yaml": "resources: [namespace.yaml, cluster.yaml, service.yaml]\n",
	"namespace.yaml":     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: infra\n",
	"cluster.yaml": `apiVersion: infra.example.com/v1alpha1
kind: KubernetesCluster
metadata:
  name: payments
  namespace: infra
spec:
  type: iks
  kubeVersion: "1.28"
`,
	"service.yaml": `apiVersion: v1
kind: Service
metadata:
  name: ingress
  namespace: infra
spec:
  type: LoadBalancer
  selector: {app: ingress}
  ports:
  - {name: https, port: 443, targetPort: 8443}
`,
}

func getStatus(t *testing.T, dyn dynamic.Interface, gvr schema.GroupVersionResource, ns, name string) map[string]any {
	t.Helper()
	u, err := dyn.Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, _, _ := unstructured.NestedMap(u.Object, "status")
	return s
}

// TestSeed001StatusSurvivesRebuild: the unrecoverable status.apiServerURL and
// the load balancer's address come back from Git; nothing is re-provisioned.
// The operators of B start after the drill, as they would when the restore
// runs before operators (a sync wave, or an operator that pauses while
// status is empty; see docs/restore.md).
func TestSeed001StatusSurvivesRebuild(t *testing.T) {
	opA := &infraOperator{dyn: a.dyn, provisions: newCounter(), seen: newCounter()}
	lbA := &loadBalancers{dyn: a.dyn, allocations: newCounter(), seen: newCounter()}
	stopA := run(a.dyn, opA.controller(), lbA.controller())
	applyBase(t, a, "seed001", seed001Base)
	eventually(t, 30*time.Second, "A: cluster provisioned and load balancer allocated", func() error {
		if !opA.seen.hasSeen("infra", "payments") || !lbA.seen.hasSeen("infra", "ingress") {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	stopA()
	kcA := getStatus(t, a.dyn, kcGVR, "infra", "payments")
	lbA2 := getStatus(t, a.dyn, svcGVR, "infra", "ingress")["loadBalancer"]

	rec := rebuild(t, "seed001", seed001Base, seed001Rules)

	opB := &infraOperator{dyn: b.dyn, provisions: newCounter(), seen: newCounter()}
	lbB := &loadBalancers{dyn: b.dyn, allocations: newCounter(), seen: newCounter()}
	stopB := run(b.dyn, opB.controller(), lbB.controller())
	defer stopB()
	eventually(t, 30*time.Second, "B: operators saw the rebuilt objects", func() error {
		if !opB.seen.hasSeen("infra", "payments") || !lbB.seen.hasSeen("infra", "ingress") {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	rec.settled(t)
	defer rec.adoptAndCompare(t)
	if n := opB.provisions.count(); n != 0 {
		t.Errorf("the operator in B re-provisioned %d cluster(s), want 0", n)
	}
	if n := lbB.allocations.count(); n != 0 {
		t.Errorf("the cloud controller in B allocated %d new load balancer address(es), want 0", n)
	}
	kcB := getStatus(t, b.dyn, kcGVR, "infra", "payments")
	for _, f := range []string{"apiServerURL", "masterVersion"} {
		if kcB[f] != kcA[f] || kcA[f] == nil {
			t.Errorf("status.%s in B = %v, want A's %v", f, kcB[f], kcA[f])
		}
	}
	if lbB2 := getStatus(t, b.dyn, svcGVR, "infra", "ingress")["loadBalancer"]; !reflect.DeepEqual(lbB2, lbA2) {
		t.Errorf("Service status.loadBalancer in B = %v, want A's %v", lbB2, lbA2)
	}
}
