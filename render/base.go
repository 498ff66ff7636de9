package render

import (
	"fmt"
	"io/fs"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/yaml"

	"github.com/driftback/driftback/capture"
)

// BaseIndex records which objects the base (overlay.resources) defines, so a
// patch is written only for an object kustomize can find: a patch without a
// target fails the whole build.
type BaseIndex struct {
	// objects maps each base object to its content, which says which
	// applied fields Git holds (see withoutBase).
	objects map[baseKey]map[string]any
}

type baseKey struct{ group, kind, namespace, name string }

// IndexBase builds overlay.resources as they would stand at dir in the
// repository base and indexes the objects they define.
func IndexBase(base fs.FS, dir string, resources []string) (*BaseIndex, error) {
	idx := &BaseIndex{objects: map[baseKey]map[string]any{}}
	if len(resources) == 0 {
		return idx, nil
	}
	k, err := yaml.Marshal(kustomization{APIVersion: "kustomize.config.k8s.io/v1beta1", Kind: "Kustomization", Resources: resources})
	if err != nil {
		return nil, err
	}
	ofs, err := newOverlayFS(base, dir, Tree{KustomizationFile: k})
	if err != nil {
		return nil, err
	}
	if err := onlyLocal(ofs, "/"+dir); err != nil {
		return nil, fmt.Errorf("kustomize build of overlay.resources %v at %s: %w", resources, dir, err)
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(ofs, "/"+dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build of overlay.resources %v at %s: %w", resources, dir, err)
	}
	for _, r := range m.Resources() {
		gvk := r.GetGvk()
		obj, err := r.Map()
		if err != nil {
			return nil, fmt.Errorf("index the base: %s %s: %w", gvk.Kind, r.GetName(), err)
		}
		idx.objects[baseKey{gvk.Group, gvk.Kind, r.GetNamespace(), r.GetName()}] = obj
	}
	return idx, nil
}

// lookup says whether the base defines ref's object and under which
// namespace: bases often leave it out and let the GitOps tool set it, and the
// patch must then leave it out too.
func (b *BaseIndex) lookup(r capture.ObjectRef) (namespace string, ok bool) {
	ns, _, ok := b.find(r)
	return ns, ok
}

// find returns the base's namespace for ref's object and its content.
func (b *BaseIndex) find(r capture.ObjectRef) (namespace string, obj map[string]any, ok bool) {
	if o, ok := b.objects[baseKey{r.Group, r.Kind, r.Namespace, r.Name}]; ok {
		return r.Namespace, o, true
	}
	if r.Namespace != "" {
		if o, ok := b.objects[baseKey{r.Group, r.Kind, "", r.Name}]; ok {
			return "", o, true
		}
	}
	return "", nil, false
}
