package render

import (
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/driftback/driftback/capture"
)

// Cheap checks of one object's files, for a writer that changed a few
// files of an overlay that built (writeback/incremental.go): each builds
// with krusty only the object at hand, not the overlay. They are exact only
// under conditions the caller holds (see writeback's docs): the rest of
// the overlay and the base unchanged, no Flux renaming, one patch per
// target object.

// PatchTarget names the base object a patch for ref addresses (group,
// kind, namespace and name as the overlay's kustomize sees them): two
// patches with the same target patch the same object, in order.
func (b *BaseIndex) PatchTarget(ref capture.ObjectRef) (string, bool) {
	name, ns, ok := b.lookup(ref)
	if !ok {
		return "", false
	}
	return ref.Group + "\x00" + ref.Kind + "\x00" + ns + "\x00" + name, true
}

// CheckPatch builds the patch (a file's bytes) against the base object it
// targets alone: krusty must apply it and give one object with the
// target's id. Kustomize applies a patch to its one target only (found by
// id), so for a target no other patch touches this is what the whole
// overlay's build does to it. It needs an index without Flux renaming.
func (b *BaseIndex) CheckPatch(ref capture.ObjectRef, patch []byte) error {
	if b.targetNamespace != "" || len(b.templates) > 0 {
		return fmt.Errorf("check %s alone: the base is renamed for Flux or names objects with variables", ref)
	}
	e, ok := b.find(ref)
	if !ok {
		return fmt.Errorf("check %s alone: the base does not define it", ref)
	}
	target, err := yaml.Marshal(e.obj)
	if err != nil {
		return fmt.Errorf("check %s alone: %w", ref, err)
	}
	want, err := buildAlone(map[string][]byte{"target.yaml": target}, "resources:\n- target.yaml\n")
	if err != nil || len(want) != 1 {
		return fmt.Errorf("check %s alone: the base object does not build alone (%v)", ref, err)
	}
	got, err := buildAlone(map[string][]byte{"target.yaml": target, "patch.yaml": patch}, "resources:\n- target.yaml\npatches:\n- path: patch.yaml\n")
	if err != nil {
		return fmt.Errorf("check %s alone: %w", ref, err)
	}
	if len(got) != 1 || got[0].CurId() != want[0].CurId() {
		return fmt.Errorf("check %s alone: the patch does not leave one object with the target's id", ref)
	}
	return nil
}

// CheckResource builds a changed resources/ file alone: it must give one
// object with the id the file had before (old), so what the overlay holds
// under that id changed and nothing else did.
func CheckResource(file, old []byte) error {
	want, err := buildAlone(map[string][]byte{"r.yaml": old}, "resources:\n- r.yaml\n")
	if err != nil || len(want) != 1 {
		return fmt.Errorf("check a resource alone: the recorded file does not build alone (%v)", err)
	}
	got, err := buildAlone(map[string][]byte{"r.yaml": file}, "resources:\n- r.yaml\n")
	if err != nil {
		return fmt.Errorf("check a resource alone: %w", err)
	}
	if len(got) != 1 || got[0].CurId() != want[0].CurId() {
		return fmt.Errorf("check a resource alone: it does not give one object with the id it had")
	}
	return nil
}

// buildAlone runs krusty on a kustomization and files held in memory. A
// panic in krusty (kyaml panics on some ill-shaped patches, annotations
// given as a list) is an error here, like any other build failure.
func buildAlone(files map[string][]byte, kustomization string) (_ []*resource.Resource, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("kustomize failed: %v", p)
		}
	}()
	mem := filesys.MakeFsInMemory()
	for p, b := range files {
		if strings.Contains(p, "/") {
			return nil, fmt.Errorf("flat files only: %q", p)
		}
		if err := mem.WriteFile("/o/"+p, b); err != nil {
			return nil, err
		}
	}
	if err := mem.WriteFile("/o/kustomization.yaml", []byte(kustomization)); err != nil {
		return nil, err
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(mem, "/o")
	if err != nil {
		return nil, err
	}
	return m.Resources(), nil
}
