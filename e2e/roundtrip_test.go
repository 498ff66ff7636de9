package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/driftback/driftback/restore"
)

// TestRoundTripEveryPresetFixture is the fidelity property, for every preset
// fixture (testdata/presets/*, the ones capture/live/presettest renders):
// record cluster A (the fixture's base applied as Argo CD, its live.yaml as
// the controllers), rebuild B by `driftback drill`, adopt B, record B. The
// two overlays must be identical but for .driftback.yaml, and B must hold no
// object of the fixture's kinds that A did not (nothing re-created under a
// new identity; a claim the binder could not re-bind fails the drill).
func TestRoundTripEveryPresetFixture(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(root, "testdata", "presets", "*", "config.yaml"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no preset fixtures found: %v", err)
	}
	for _, cfg := range dirs {
		dir := filepath.Dir(cfg)
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			base := readDir(t, filepath.Join(dir, "base"))
			live := filepath.Join(dir, "live.yaml")
			// The fixtures' bases name their namespaces without creating
			// them (presettest creates them); a rebuild needs them in Git.
			base = withNamespaces(t, base)
			// The fixture's objects leave both planes when the case ends:
			// a Service still waiting for its load balancer would be served
			// by another test's cloud controller.
			t.Cleanup(func() { removeObjects(t, append(baseObjects(t, base), liveObjects(t, live)...)) })
			applyBase(t, a, "rt-"+name, base)
			objs := applyLive(t, a, live)

			rec := rebuild(t, "rt-"+name, base, captureSection(t, cfg))
			if !strings.Contains(rec.out, "drill:     PASS") {
				t.Fatalf("the drill of %s failed:\n%s", name, rec.out)
			}
			rec.adoptAndCompare(t)
			if extra := newIdentities(t, objs); len(extra) > 0 {
				t.Errorf("B holds %d object(s) of the fixture's kinds that A did not (re-created under a new identity): %v", len(extra), extra)
			} else {
				t.Logf("FIDELITY rt-%s: 0 objects re-created under a new identity in B", name)
			}
		})
	}
}

// baseObjects are the objects of a fixture base, Namespaces left out (they
// stay: nothing runs the namespace controller that would empty them).
func baseObjects(t *testing.T, base map[string]string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for f, c := range base {
		if f == "kustomization.yaml" {
			continue
		}
		objs, err := restore.SplitYAML([]byte(c))
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range objs {
			if u.GetKind() != "Namespace" {
				out = append(out, u)
			}
		}
	}
	return out
}

// liveObjects are the fixture's runtime writes.
func liveObjects(t *testing.T, file string) []*unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := restore.SplitYAML(b)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// removeObjects deletes objs from both planes, finalizers first (no
// controller runs to remove them); absent ones are fine.
func removeObjects(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	ctx := context.Background()
	for _, p := range []*plane{a, b} {
		for _, u := range objs {
			m, err := p.cl.Mapper.RESTMapping(u.GroupVersionKind().GroupKind(), u.GroupVersionKind().Version)
			if err != nil {
				continue // the kind was never served here
			}
			var ri dynamic.ResourceInterface = p.dyn.Resource(m.Resource)
			if m.Scope.Name() == meta.RESTScopeNameNamespace {
				ri = p.dyn.Resource(m.Resource).Namespace(u.GetNamespace())
			}
			if _, err := ri.Patch(ctx, u.GetName(), types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil && !apierrors.IsNotFound(err) {
				t.Errorf("clean up %s %s/%s in %s: %v", u.GetKind(), u.GetNamespace(), u.GetName(), p.name, err)
				continue
			}
			if err := ri.Delete(ctx, u.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				t.Errorf("clean up %s %s/%s in %s: %v", u.GetKind(), u.GetNamespace(), u.GetName(), p.name, err)
			}
		}
	}
}

// readDir reads a fixture's base into the map applyBase and rebuild take.
func readDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			t.Fatalf("%s: sub-directories are not supported in a fixture base", filepath.Join(dir, e.Name()))
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

// captureSection is the fixture config's presets:, rules: and
// gitopsManagers: sections, as rebuild takes them.
func captureSection(t *testing.T, cfg string) string {
	t.Helper()
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	keep := map[string]any{}
	for _, k := range []string{"presets", "rules", "gitopsManagers"} {
		if v, ok := m[k]; ok {
			keep[k] = v
		}
	}
	out, err := yaml.Marshal(keep)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// applyLive writes the fixture's runtime writes into p as the controllers
// named by their driftback.test/manager annotation, status through /status
// (the convention of testdata/presets/README.md), and returns them.
func applyLive(t *testing.T, p *plane, file string) []*unstructured.Unstructured {
	t.Helper()
	ctx := context.Background()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := restore.SplitYAML(b)
	if err != nil {
		t.Fatal(err)
	}
	core := kubernetes.NewForConfigOrDie(p.cp.Config)
	for _, u := range objs {
		ann := u.GetAnnotations()
		manager := ann["driftback.test/manager"]
		if manager == "" {
			manager = "fixture-controller"
		}
		delete(ann, "driftback.test/manager")
		u.SetAnnotations(ann)
		ri, namespaced := resourceFor(t, p, u)
		if namespaced {
			_, err := core.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: u.GetNamespace()}}, metav1.CreateOptions{})
			if err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatal(err)
			}
		}
		opts := metav1.ApplyOptions{FieldManager: manager, Force: true}
		status, hasStatus := u.Object["status"]
		main := u.DeepCopy()
		delete(main.Object, "status")
		if len(main.Object) > 3 || len(main.GetAnnotations()) > 0 || len(main.GetLabels()) > 0 || len(main.GetOwnerReferences()) > 0 {
			if _, err := ri.Apply(ctx, u.GetName(), main, opts); err != nil {
				t.Fatalf("apply %s %s as %s: %v", u.GetKind(), u.GetName(), manager, err)
			}
		}
		if hasStatus {
			st := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": u.GetAPIVersion(), "kind": u.GetKind(),
				"metadata": map[string]any{"name": u.GetName(), "namespace": u.GetNamespace()},
				"status":   status,
			}}
			if _, err := ri.ApplyStatus(ctx, u.GetName(), st, opts); err != nil {
				t.Fatalf("apply status of %s %s as %s: %v", u.GetKind(), u.GetName(), manager, err)
			}
		}
	}
	return objs
}

func resourceFor(t *testing.T, p *plane, u *unstructured.Unstructured) (dynamic.ResourceInterface, bool) {
	t.Helper()
	gvr, namespaced := mapping(t, p, u.GroupVersionKind().GroupKind(), u.GroupVersionKind().Version)
	if namespaced {
		return p.dyn.Resource(gvr).Namespace(u.GetNamespace()), true
	}
	return p.dyn.Resource(gvr), false
}

func mapping(t *testing.T, p *plane, gk schema.GroupKind, version string) (schema.GroupVersionResource, bool) {
	t.Helper()
	m, err := p.cl.Mapper.RESTMapping(gk, version)
	if err != nil {
		p.cl.Mapper.Reset()
		if m, err = p.cl.Mapper.RESTMapping(gk, version); err != nil {
			t.Fatal(err)
		}
	}
	return m.Resource, m.Scope.Name() == meta.RESTScopeNameNamespace
}

// newIdentities lists the objects of the fixture's kinds (in its namespaces,
// or cluster-wide for cluster-scoped kinds) that B holds and A does not.
func newIdentities(t *testing.T, fixture []*unstructured.Unstructured) []string {
	t.Helper()
	type kindNS struct {
		gk      schema.GroupKind
		version string
		ns      string
	}
	seen := map[kindNS]bool{}
	var extra []string
	for _, u := range fixture {
		k := kindNS{u.GroupVersionKind().GroupKind(), u.GroupVersionKind().Version, u.GetNamespace()}
		if seen[k] {
			continue
		}
		seen[k] = true
		names := func(p *plane) map[string]bool {
			gvr, namespaced := mapping(t, p, k.gk, k.version)
			var ri dynamic.ResourceInterface = p.dyn.Resource(gvr)
			if namespaced {
				ri = p.dyn.Resource(gvr).Namespace(k.ns)
			}
			l, err := ri.List(context.Background(), metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]bool{}
			for _, o := range l.Items {
				out[o.GetNamespace()+"/"+o.GetName()] = true
			}
			return out
		}
		inA, inB := names(a), names(b)
		for n := range inB {
			if !inA[n] {
				extra = append(extra, fmt.Sprintf("%s %s", k.gk, n))
			}
		}
	}
	sort.Strings(extra)
	return extra
}

// withNamespaces adds to a fixture base a Namespace object for each
// namespace its objects use, as a team's Git would hold them.
func withNamespaces(t *testing.T, base map[string]string) map[string]string {
	t.Helper()
	nss := map[string]bool{}
	for f, c := range base {
		if f == "kustomization.yaml" {
			continue
		}
		objs, err := restore.SplitYAML([]byte(c))
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range objs {
			if u.GetNamespace() != "" {
				nss[u.GetNamespace()] = true
			}
		}
	}
	var docs []string
	for ns := range nss {
		docs = append(docs, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "+ns+"\n")
	}
	sort.Strings(docs)
	out := map[string]string{}
	for f, c := range base {
		out[f] = c
	}
	if len(docs) == 0 {
		return out
	}
	out["zz-namespaces.yaml"] = strings.Join(docs, "---\n")
	out["kustomization.yaml"] = strings.Replace(base["kustomization.yaml"], "resources: [", "resources: [zz-namespaces.yaml, ", 1)
	if out["kustomization.yaml"] == base["kustomization.yaml"] {
		t.Fatalf("fixture kustomization.yaml has no inline resources list: %q", base["kustomization.yaml"])
	}
	return out
}
