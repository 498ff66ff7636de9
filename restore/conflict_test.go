package restore

import (
	"context"
	"testing"
	"testing/fstest"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/driftback/driftback/overlay"
)

// staticMapper is a RESTMapper that knows one kind; Reset does nothing.
type staticMapper struct{ meta.RESTMapper }

func (staticMapper) Reset() {}

// TestRestoreRetriesConflicts: a status write that loses a race with
// another writer (409 Conflict) is retried on a fresh read. A pure unit
// test: the conflict is injected, which a real apiserver cannot be made to
// produce on cue.
func TestRestoreRetriesConflicts(t *testing.T) {
	gvk := schema.GroupVersionKind{Group: "infra.example.com", Version: "v1alpha1", Kind: "KubernetesCluster"}
	gvr := schema.GroupVersionResource{Group: "infra.example.com", Version: "v1alpha1", Resource: "kubernetesclusters"}
	m := meta.NewDefaultRESTMapper([]schema.GroupVersion{gvk.GroupVersion()})
	m.Add(gvk, meta.RESTScopeNamespace)
	live := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "infra.example.com/v1alpha1", "kind": "KubernetesCluster",
		"metadata": map[string]any{"name": "payments", "namespace": "default"},
	}}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{gvr: "KubernetesClusterList"}, live)
	conflicts := 0
	dyn.PrependReactor("update", "kubernetesclusters", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() == "status" && conflicts < 2 {
			conflicts++
			return true, nil, apierrors.NewConflict(gvr.GroupResource(), "payments", nil)
		}
		return false, nil, nil
	})
	ov, err := overlay.Read(fstest.MapFS{
		"o/kustomization.yaml": {Data: []byte("resources: []\n")},
		"o/status/default/infra.example.com_KubernetesCluster/df/payments.yaml": {Data: []byte(
			"apiVersion: infra.example.com/v1alpha1\nkind: KubernetesCluster\nmetadata:\n  name: payments\n  namespace: default\nstatus:\n  apiServerURL: https://p\n")},
	}, "o")
	if err != nil {
		t.Fatal(err)
	}
	sum := Restore(context.Background(), &Cluster{Dyn: dyn, Mapper: staticMapper{m}}, ov.Status, Options{Rules: everyStatus})
	if conflicts != 2 || sum.Count(Restored) != 1 || !sum.OK() {
		t.Fatalf("after %d conflicts: %+v", conflicts, sum)
	}
}
