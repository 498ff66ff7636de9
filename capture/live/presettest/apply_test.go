package presettest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
)

// managerAnnotation names, in a fixture, the field manager of a write.
const managerAnnotation = "driftback.test/manager"

// gitopsManager applies the base, as Argo CD does with server-side apply.
const gitopsManager = "argocd-controller"

// applier writes fixture objects with server-side apply.
type applier struct {
	dyn    dynamic.Interface
	core   kubernetes.Interface
	mapper meta.RESTMapper
}

func newApplier(t *testing.T) *applier {
	t.Helper()
	dyn, err := dynamic.NewForConfig(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	core, err := kubernetes.NewForConfig(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	return &applier{dyn: dyn, core: core, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))}
}

// decodeAll reads a multi-document YAML stream into objects.
func decodeAll(b []byte) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	d := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := d.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}

func (a *applier) applyFile(ctx context.Context, name, defaultManager string) error {
	b, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	objs, err := decodeAll(b)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return a.applyAll(ctx, objs, defaultManager)
}

// applyAll applies each object as its fixture manager (or defaultManager);
// status goes through the /status subresource, as controllers write it.
func (a *applier) applyAll(ctx context.Context, objs []*unstructured.Unstructured, defaultManager string) error {
	for _, u := range objs {
		manager := defaultManager
		if ann := u.GetAnnotations(); ann[managerAnnotation] != "" {
			manager = ann[managerAnnotation]
			delete(ann, managerAnnotation)
			u.SetAnnotations(ann)
		}
		if err := a.apply(ctx, u, manager); err != nil {
			return fmt.Errorf("apply %s %s/%s as %s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), manager, err)
		}
	}
	return nil
}

func (a *applier) apply(ctx context.Context, u *unstructured.Unstructured, manager string) error {
	gvk := u.GroupVersionKind()
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return err
	}
	var ri dynamic.ResourceInterface = a.dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if err := a.ensureNamespace(ctx, u.GetNamespace()); err != nil {
			return err
		}
		ri = a.dyn.Resource(m.Resource).Namespace(u.GetNamespace())
	}
	opts := metav1.ApplyOptions{FieldManager: manager, Force: true}
	status, hasStatus := u.Object["status"]
	main := u.DeepCopy()
	delete(main.Object, "status")
	if hasMoreThanIdentity(main) {
		if _, err := ri.Apply(ctx, u.GetName(), main, opts); err != nil {
			return err
		}
	}
	if hasStatus {
		st := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": u.GetAPIVersion(), "kind": u.GetKind(),
			"metadata": map[string]any{"name": u.GetName(), "namespace": u.GetNamespace()},
			"status":   status,
		}}
		if _, err := ri.ApplyStatus(ctx, u.GetName(), st, opts); err != nil {
			return fmt.Errorf("status: %w", err)
		}
	}
	return nil
}

func hasMoreThanIdentity(u *unstructured.Unstructured) bool {
	if len(u.GetAnnotations()) > 0 || len(u.GetLabels()) > 0 || len(u.GetOwnerReferences()) > 0 {
		return true
	}
	for k := range u.Object {
		if k != "apiVersion" && k != "kind" && k != "metadata" {
			return true
		}
	}
	return false
}

func (a *applier) ensureNamespace(ctx context.Context, name string) error {
	_, err := a.core.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}
