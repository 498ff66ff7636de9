package restore

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/driftback/driftback/overlay"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var xpgGVR = schema.GroupVersionResource{Group: "database.example.org", Version: "v1alpha1", Resource: "xpostgresqlinstances"}

// recreateRepo is an overlay recording a composite X and its managed
// resource M (both runtime-only, under resources/).
func recreateRepo(x, m string) fstest.MapFS {
	xp := "resources/_cluster/database.example.org_XPostgreSQLInstance/" + overlay.Bucket(x) + "/" + x + ".yaml"
	mp := "resources/_cluster/rds.aws.upbound.io_Instance/" + m + ".yaml"
	return fstest.MapFS{
		"o/kustomization.yaml": {Data: []byte("resources: [" + xp + ", " + mp + "]\n")},
		"o/.driftback.yaml":    {Data: []byte("apiVersion: driftback.dev/v1alpha1\nkind: Overlay\nformatVersion: 1\ncluster: lost\nclusterUID: uid-a\n")},
		"o/" + xp:              {Data: []byte("apiVersion: database.example.org/v1alpha1\nkind: XPostgreSQLInstance\nmetadata:\n  name: " + x + "\nspec:\n  storageGB: 20\n")},
		"o/" + mp:              {Data: []byte("apiVersion: rds.aws.upbound.io/v1beta1\nkind: Instance\nmetadata:\n  name: " + m + "\n  annotations:\n    crossplane.io/external-name: db-123\nspec:\n  forProvider: {region: eu-west-1}\n")},
	}
}

// TestDrillFindsRecreated: a managed resource owned by a recorded composite
// but not recorded itself (a composition on the rebuilt cluster that did not
// find its resource and composed a second one) fails the drill by name; the
// recorded one, owned by the same composite, does not.
func TestDrillFindsRecreated(t *testing.T) {
	c, err := NewCluster(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		name   string
		second bool
		ok     bool
	}{
		{"second managed resource", true, false},
		{"only the recorded one", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, m := "x-"+strings.ReplaceAll(tt.name, " ", "-"), "m-"+strings.ReplaceAll(tt.name, " ", "-")
			// Play the composition on the target: X, and M (and M2) owned by X.
			live, err := Apply(ctx, c, []*unstructured.Unstructured{obj("apiVersion: database.example.org/v1alpha1\nkind: XPostgreSQLInstance\nmetadata:\n  name: " + x + "\nspec:\n  storageGB: 20\n")}, ApplyOptions{})
			if err != nil || len(live) != 1 {
				t.Fatal(live, err)
			}
			xl, err := c.Dyn.Resource(xpgGVR).Get(ctx, x, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			owned := []string{m}
			if tt.second {
				owned = append(owned, m+"-2")
			}
			for _, n := range owned {
				mo := obj("apiVersion: rds.aws.upbound.io/v1beta1\nkind: Instance\nmetadata:\n  name: " + n + "\nspec:\n  forProvider: {region: eu-west-1}\n")
				mo.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "database.example.org/v1alpha1", Kind: "XPostgreSQLInstance", Name: x, UID: xl.GetUID()}})
				if _, err := Apply(ctx, c, []*unstructured.Unstructured{mo}, ApplyOptions{}); err != nil {
					t.Fatal(err)
				}
			}

			r := Drill(ctx, c, recreateRepo(x, m), "o", DrillOptions{Restore: Options{Rules: everyStatus, Wait: time.Second}})
			var out strings.Builder
			r.Print(&out)
			if r.OK() != tt.ok {
				t.Fatalf("OK() = %v, want %v:\n%s", r.OK(), tt.ok, out.String())
			}
			want := []string{"re-created: 0 object(s)", "drill:     PASS"}
			if tt.second {
				want = []string{
					"RE-CREATED under a new identity: Instance.rds.aws.upbound.io/" + m + "-2 owned by XPostgreSQLInstance.database.example.org/" + x + ", not recorded on the branch",
					"re-created: 1 object(s)", "drill:     FAIL",
				}
			}
			for _, w := range want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("report lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}
