package e2e

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

var pgGVR = schema.GroupVersionResource{Group: "postgresql.cnpg.io", Version: "v1", Resource: "clusters"}

const (
	healthy   = "Cluster in healthy state"
	unhealthy = "Unhealthy"
)

// cnpg simulates CloudNativePG (seed 000): a Cluster owns the Services it
// creates and refuses to reconcile when a Service of that name exists that
// it does not own, which is what a restore of owned children causes.
type cnpg struct {
	dyn  dynamic.Interface
	seen *counter
}

func (c *cnpg) controller() controller {
	return controller{name: "cnpg", gvr: pgGVR, reconcile: func(ctx context.Context, cl *unstructured.Unstructured) error {
		phase, reason := healthy, ""
		for _, role := range []string{"rw", "ro", "r"} {
			name := cl.GetName() + "-" + role
			svc, err := c.dyn.Resource(svcGVR).Namespace(cl.GetNamespace()).Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				svc = &unstructured.Unstructured{Object: map[string]any{
					"apiVersion": "v1", "kind": "Service",
					"metadata": map[string]any{"name": name, "namespace": cl.GetNamespace()},
					"spec": map[string]any{"selector": map[string]any{"cnpg.io/cluster": cl.GetName(), "role": role},
						"ports": []any{map[string]any{"name": "postgres", "port": int64(5432)}}},
				}}
				svc.SetOwnerReferences([]metav1.OwnerReference{controllerRef(cl)})
				if _, err := c.dyn.Resource(svcGVR).Namespace(cl.GetNamespace()).Create(ctx, svc, metav1.CreateOptions{FieldManager: "cnpg"}); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return err
			}
			if !ownedBy(svc, cl) {
				phase, reason = unhealthy, fmt.Sprintf("refusing to reconcile service %s, not owned by the cluster", name)
				break
			}
		}
		if cur, _, _ := unstructured.NestedString(cl.Object, "status", "phase"); cur != phase {
			cl.Object["status"] = map[string]any{"phase": phase, "phaseReason": reason}
			if _, err := c.dyn.Resource(pgGVR).Namespace(cl.GetNamespace()).UpdateStatus(ctx, cl, metav1.UpdateOptions{FieldManager: "cnpg"}); err != nil {
				return err
			}
		}
		c.seen.firstSight(cl)
		return nil
	}}
}

// cnpgRules capture every Service of the namespace whole. The owned ones
// are left out unless the rule opts in (includeOwned), which is the Velero
// behaviour of seed 000. clusterIP is excluded: B allocates its own. They
// also keep the Cluster's status, as a team keeps an operator's CR status:
// a drill that verifies no field fails, so the default case needs one too.
func cnpgRules(ns string, includeOwned bool) string {
	return fmt.Sprintf(`rules:
- name: db-status
  match: {apiGroups: [postgresql.cnpg.io], kinds: [Cluster], namespaces: [%[1]s]}
  fields: [status]
- name: db-services
  match: {apiGroups: [""], kinds: [Service], namespaces: [%[1]s]}
  mode: object
  includeOwned: %[2]v
  exclude: [spec.clusterIP, spec.clusterIPs]
`, ns, includeOwned)
}

func cnpgBase(ns string) map[string]string {
	return map[string]string{
		"kustomization.yaml": "resources: [namespace.yaml, cluster.yaml]\n",
		"namespace.yaml":     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + ns + "\n",
		"cluster.yaml":       "apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata:\n  name: pg\n  namespace: " + ns + "\nspec:\n  instances: 1\n",
	}
}

func pgPhase(p *plane, ns string) (string, error) {
	u, err := p.dyn.Resource(pgGVR).Namespace(ns).Get(context.Background(), "pg", metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	ph, _, _ := unstructured.NestedString(u.Object, "status", "phase")
	return ph, nil
}

// TestCNPGAfterRebuild: with driftback's default (owned children are not
// captured) CNPG is healthy in B; the control case restores the Services
// it owned, as a Velero restore does, and reproduces seed 000's refusal.
func TestCNPGAfterRebuild(t *testing.T) {
	tests := []struct {
		ns           string
		includeOwned bool
		wantPhase    string
	}{
		{ns: "db", includeOwned: false, wantPhase: healthy},
		{ns: "db-velero-like", includeOwned: true, wantPhase: unhealthy},
	}
	for _, tt := range tests {
		t.Run(tt.ns, func(t *testing.T) {
			ca := &cnpg{dyn: a.dyn, seen: newCounter()}
			stopA := run(a.dyn, ca.controller())
			applyBase(t, a, tt.ns, cnpgBase(tt.ns))
			eventually(t, 30*time.Second, "A: CNPG healthy", func() error {
				if ph, err := pgPhase(a, tt.ns); err != nil || ph != healthy {
					return fmt.Errorf("phase %q, %v", ph, err)
				}
				return nil
			})
			stopA()

			rec := rebuild(t, tt.ns, cnpgBase(tt.ns), cnpgRules(tt.ns, tt.includeOwned))
			if restored := regexp.MustCompile(`core_Service/[0-9a-f]{2}/pg-`).MatchString(rec.files); restored != tt.includeOwned {
				t.Errorf("the overlay holds CNPG's Services: %v, want %v:\n%s", restored, tt.includeOwned, rec.files)
			}

			cb := &cnpg{dyn: b.dyn, seen: newCounter()}
			stopB := run(b.dyn, cb.controller())
			defer stopB()
			eventually(t, 30*time.Second, "B: CNPG reconciled the rebuilt cluster", func() error {
				ph, err := pgPhase(b, tt.ns)
				if err != nil || !cb.seen.hasSeen(tt.ns, "pg") || ph == "" {
					return fmt.Errorf("phase %q, %v", ph, err)
				}
				return nil
			})
			rec.settled(t)
			if ph, _ := pgPhase(b, tt.ns); ph != tt.wantPhase {
				t.Errorf("CNPG in B: phase %q, want %q", ph, tt.wantPhase)
			}
			if tt.includeOwned {
				return
			}
			rec.adoptAndCompare(t)
			pg, err := b.dyn.Resource(pgGVR).Namespace(tt.ns).Get(context.Background(), "pg", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, role := range []string{"rw", "ro", "r"} {
				svc, err := b.dyn.Resource(svcGVR).Namespace(tt.ns).Get(context.Background(), "pg-"+role, metav1.GetOptions{})
				if err != nil || !ownedBy(svc, pg) {
					t.Errorf("Service %s/pg-%s in B should be created and owned by B's Cluster: %v", tt.ns, role, err)
				}
			}
		})
	}
}
