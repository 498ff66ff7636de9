package flux

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	generator "github.com/fluxcd/pkg/kustomize"
	"github.com/fluxcd/pkg/ssa"
	"github.com/fluxcd/pkg/ssa/normalize"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/yaml"
)

// The owner kustomize-controller applies as: its field manager and the
// group of its labels (kustomize.toolkit.fluxcd.io/name, …/namespace).
var fluxOwner = ssa.Owner{Field: "kustomize-controller", Group: "kustomize.toolkit.fluxcd.io"}

var ksGVR = schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}

// kustomizeController reconciles Flux Kustomizations into one cluster the way
// fluxcd/kustomize-controller does (internal/controller/
// kustomization_controller.go: reconcile, generate, build, apply and
// checkHealth), with the same libraries; what it leaves out is named where it
// would act. Sources are local checkouts, by GitRepository name.
type kustomizeController struct {
	p       *plane
	client  client.Client
	manager *ssa.ResourceManager
	sources map[string]string
	// applied is every object applied, deleted by the test's cleanup so
	// that tests sharing the control planes do not see each other's.
	applied []*unstructured.Unstructured
}

func newKustomizeController(t *testing.T, p *plane, sources map[string]string) *kustomizeController {
	t.Helper()
	httpClient, err := rest.HTTPClientFor(p.cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	mapper, err := apiutil.NewDynamicRESTMapper(p.cp.Config, httpClient)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(p.cp.Config, client.Options{Mapper: mapper, HTTPClient: httpClient})
	if err != nil {
		t.Fatal(err)
	}
	poller := polling.NewStatusPoller(c, mapper, polling.Options{})
	kc := &kustomizeController{p: p, client: c, manager: ssa.NewResourceManager(c, poller, fluxOwner), sources: sources}
	t.Cleanup(func() { kc.deleteApplied(t) })
	return kc
}

// deleteApplied deletes what the controller applied, Namespaces excepted
// (without a namespace controller they would stay Terminating).
func (kc *kustomizeController) deleteApplied(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, u := range kc.applied {
		if u.GetKind() == "Namespace" {
			continue
		}
		if err := kc.client.Delete(ctx, u); client.IgnoreNotFound(err) != nil {
			t.Errorf("clean up %s %s/%s: %v", u.GetKind(), u.GetNamespace(), u.GetName(), err)
		}
	}
}

// track records an object for deleteApplied.
func (kc *kustomizeController) track(apiVersion, kind, namespace, name string) {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(namespace)
	u.SetName(name)
	kc.applied = append(kc.applied, u)
}

// parseKustomization reads a Flux Kustomization from YAML.
func parseKustomization(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: obj}
}

// reconcile builds and applies one Kustomization and returns what it applied.
func (kc *kustomizeController) reconcile(ctx context.Context, ks *unstructured.Unstructured) (*ssa.ChangeSet, error) {
	name := ks.GetNamespace() + "/" + ks.GetName()
	if err := kc.checkDependencies(ctx, ks); err != nil {
		return nil, fmt.Errorf("kustomization %s: %w", name, err)
	}
	src, _, _ := unstructured.NestedString(ks.Object, "spec", "sourceRef", "name")
	checkout, ok := kc.sources[src]
	if !ok {
		return nil, fmt.Errorf("kustomization %s: source %q not found", name, src)
	}
	// The controller extracts the source artifact into a temporary
	// directory: the work dir, the root of the secure file system.
	workDir, err := os.MkdirTemp("", "kustomization-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(workDir)
	if err := os.CopyFS(workDir, os.DirFS(checkout)); err != nil {
		return nil, err
	}
	spath, _, _ := unstructured.NestedString(ks.Object, "spec", "path")
	dirPath := filepath.Join(workDir, filepath.FromSlash(spath))

	// generate: write a kustomization.yaml for a plain directory, and add
	// targetNamespace, namePrefix, patches, … to it.
	if _, err := generator.NewGenerator(workDir, *ks).WriteFile(dirPath); err != nil {
		return nil, fmt.Errorf("kustomization %s: generate: %w", name, err)
	}
	// build: LoadRestrictionsNone inside the secure file system; remote
	// bases off (--no-remote-bases). SOPS decryption is not exercised here.
	m, err := generator.SecureBuild(workDir, dirPath, false)
	if err != nil {
		return nil, fmt.Errorf("kustomization %s: kustomize build failed: %w", name, err)
	}
	if _, ok, _ := unstructured.NestedMap(ks.Object, "spec", "postBuild"); ok {
		for _, res := range m.Resources() {
			out, err := generator.SubstituteVariables(ctx, kc.client, *ks, res, generator.SubstituteWithStrict(false))
			if err != nil {
				return nil, fmt.Errorf("kustomization %s: post build failed for '%s/%s': %w", name, res.GetGvk(), res.GetName(), err)
			}
			if out != nil {
				if _, err := m.Replace(res); err != nil {
					return nil, err
				}
			}
		}
	}
	built, err := m.AsYaml()
	if err != nil {
		return nil, err
	}
	objects, err := ssautil.ReadObjects(bytes.NewReader(built))
	if err != nil {
		return nil, err
	}

	// apply: server-side, in stages (CRDs, Namespaces and ClusterRoles
	// first, waited for), forced when spec.force.
	if err := normalize.UnstructuredList(objects); err != nil {
		return nil, err
	}
	kc.manager.SetOwnerLabels(objects, ks.GetName(), ks.GetNamespace())
	opts := ssa.DefaultApplyOptions()
	opts.Force, _, _ = unstructured.NestedBool(ks.Object, "spec", "force")
	opts.WaitTimeout = time.Minute
	cs, err := kc.manager.ApplyAllStaged(ctx, objects, opts)
	if cs != nil {
		for _, e := range cs.Entries {
			// GroupVersion holds the version only.
			gv := schema.GroupVersion{Group: e.ObjMetadata.GroupKind.Group, Version: e.GroupVersion}
			kc.track(gv.String(), e.ObjMetadata.GroupKind.Kind, e.ObjMetadata.Namespace, e.ObjMetadata.Name)
		}
	}
	if err != nil {
		return cs, fmt.Errorf("kustomization %s: apply: %w", name, err)
	}

	// checkHealth: with spec.wait, every applied object must become
	// Current (kstatus). The controller polls every 5s; 200ms here.
	if wait, _, _ := unstructured.NestedBool(ks.Object, "spec", "wait"); wait {
		if err := kc.manager.WaitForSetWithContext(ctx, cs.ToObjMetadataSet(), ssa.WaitOptions{Interval: 200 * time.Millisecond, Timeout: time.Minute}); err != nil {
			return cs, fmt.Errorf("kustomization %s: health check failed: %w", name, err)
		}
	}
	return cs, kc.markReady(ctx, ks)
}

// checkDependencies refuses to reconcile before every spec.dependsOn
// Kustomization is Ready, as kustomize-controller's checkDependencies does.
func (kc *kustomizeController) checkDependencies(ctx context.Context, ks *unstructured.Unstructured) error {
	deps, _, _ := unstructured.NestedSlice(ks.Object, "spec", "dependsOn")
	for _, d := range deps {
		dm, _ := d.(map[string]any)
		name, _ := dm["name"].(string)
		ns, _ := dm["namespace"].(string)
		if ns == "" {
			ns = ks.GetNamespace()
		}
		dep, err := kc.p.dyn.Resource(ksGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("dependency '%s/%s' is not ready: %w", ns, name, err)
		}
		conds, _, _ := unstructured.NestedSlice(dep.Object, "status", "conditions")
		ready := false
		for _, c := range conds {
			cm, _ := c.(map[string]any)
			ready = ready || cm["type"] == "Ready" && cm["status"] == "True"
		}
		if !ready {
			return fmt.Errorf("dependency '%s/%s' is not ready", ns, name)
		}
	}
	return nil
}

// markReady records the Kustomization as Ready in the cluster, where
// dependents read it; a Kustomization given only as YAML is created first.
func (kc *kustomizeController) markReady(ctx context.Context, ks *unstructured.Unstructured) error {
	res := kc.p.dyn.Resource(ksGVR).Namespace(ks.GetNamespace())
	live, err := res.Get(ctx, ks.GetName(), metav1.GetOptions{})
	if err != nil {
		obj := ks.DeepCopy()
		obj.SetResourceVersion("")
		if live, err = res.Create(ctx, obj, metav1.CreateOptions{FieldManager: "test"}); err != nil {
			return err
		}
		kc.track(ksGVR.GroupVersion().String(), "Kustomization", live.GetNamespace(), live.GetName())
	}
	conds := []any{map[string]any{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded",
		"message": "Applied revision", "lastTransitionTime": time.Now().UTC().Format(time.RFC3339)}}
	if err := unstructured.SetNestedSlice(live.Object, conds, "status", "conditions"); err != nil {
		return err
	}
	_ = unstructured.SetNestedField(live.Object, live.GetGeneration(), "status", "observedGeneration")
	_, err = res.UpdateStatus(ctx, live, metav1.UpdateOptions{FieldManager: "kustomize-controller"})
	return err
}

// kustomizationsIn returns the Flux Kustomizations a change set applied, read
// back from the cluster.
func (kc *kustomizeController) kustomizationsIn(ctx context.Context, cs *ssa.ChangeSet) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, e := range cs.Entries {
		if e.ObjMetadata.GroupKind.Group != ksGVR.Group || e.ObjMetadata.GroupKind.Kind != "Kustomization" {
			continue
		}
		obj, err := kc.p.dyn.Resource(ksGVR).Namespace(e.ObjMetadata.Namespace).Get(ctx, e.ObjMetadata.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		out = append(out, obj)
	}
	return out, nil
}

// reconcileAll reconciles Kustomizations until all are applied, each only
// once its dependencies are Ready, as the controller's requeues do; it fails
// when a round makes no progress.
func (kc *kustomizeController) reconcileAll(ctx context.Context, pending []*unstructured.Unstructured) ([]string, error) {
	var order []string
	for len(pending) > 0 {
		var next []*unstructured.Unstructured
		var lastErr error
		for _, ks := range pending {
			if err := kc.checkDependencies(ctx, ks); err != nil {
				next, lastErr = append(next, ks), err
				continue
			}
			if _, err := kc.reconcile(ctx, ks); err != nil {
				return order, err
			}
			order = append(order, ks.GetName())
		}
		if len(next) == len(pending) {
			return order, lastErr
		}
		pending = next
	}
	return order, nil
}

// changes prints a change set as the controller logs it.
func changes(cs *ssa.ChangeSet) string {
	var b bytes.Buffer
	for _, e := range cs.Entries {
		b.WriteString(e.String() + "\n")
	}
	return b.String()
}
