package render

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/kyaml/resid"
	"sigs.k8s.io/yaml"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/overlay"
)

// BaseIndex records which objects the base (overlay.resources) defines, so a
// patch is written only for an object kustomize can find: a patch without a
// target fails the whole build.
type BaseIndex struct {
	// objects maps each base object, under the name and namespace it has in
	// the cluster, to its entry.
	objects map[baseKey]baseEntry
	// templates are the entries whose name or namespace holds a Flux
	// postBuild variable (${var}): the cluster sees the substituted value.
	templates []template
	// targetNamespace is Flux's: kustomize also sets it on cluster-scoped
	// custom resources, whose namespace the apiserver then drops.
	targetNamespace string
	// built is every object of the base as the overlay's kustomize build
	// sees it (before Flux's renaming), in build order: what Merged copies.
	built []builtObject
	// builtByID indexes built by idKeyOf: where Merged finds a patch's target.
	builtByID map[idKey][]int
}

// builtObject is one object of the base's build: its kustomize id and YAML,
// and what Merged writes for it (kept with the index, which is cached while
// the base is unchanged).
type builtObject struct {
	id   resid.ResId
	yaml []byte
	// sum is the YAML's SHA-256, name its file below merged/ and file
	// that file as Merged writes it when nothing patches the object.
	sum  [sha256.Size]byte
	name string
	file []byte
}

type baseKey struct{ group, kind, namespace, name string }

type baseEntry struct {
	// obj is the object's content, which says which applied fields Git
	// holds (see withoutBase).
	obj map[string]any
	// name and namespace address the object in the overlay's patches: as
	// kustomize sees it in the overlay, before the GitOps tool's own
	// transformations (Flux's namePrefix, targetNamespace, postBuild).
	name, namespace string
}

type template struct {
	group, kind string
	namespace   *regexp.Regexp
	name        *regexp.Regexp
	entry       baseEntry
}

// IndexBase builds overlay.resources as they would stand at dir in the
// repository base and indexes the objects they define.
func IndexBase(base fs.FS, dir string, resources []string) (*BaseIndex, error) {
	return IndexBaseFor(base, dir, resources, FluxTransform{})
}

// IndexBaseFor is IndexBase for an overlay applied by a Flux Kustomization
// that renames objects (targetNamespace, namePrefix, nameSuffix): objects are
// indexed under the names the cluster sees and patches address them under the
// names the overlay's kustomize build sees, because Flux's generator adds
// these settings to the overlay's own kustomization.yaml, where kustomize
// runs patches before the namespace and prefix transformers
// (fluxcd/pkg/kustomize, kustomize_generator.go, Generator.GenerateManifest).
func IndexBaseFor(base fs.FS, dir string, resources []string, t FluxTransform) (*BaseIndex, error) {
	idx := &BaseIndex{objects: map[baseKey]baseEntry{}, targetNamespace: t.TargetNamespace}
	if len(resources) == 0 {
		return idx, nil
	}
	if err := checkPlainDirs(base, dir, resources); err != nil {
		return nil, err
	}
	plain, err := buildBase(base, dir, kustomization{Resources: resources})
	if err != nil {
		return nil, err
	}
	seen := plain
	if !t.empty() {
		if seen, err = buildBase(base, dir, kustomization{Resources: resources, Namespace: t.TargetNamespace, NamePrefix: t.NamePrefix, NameSuffix: t.NameSuffix}); err != nil {
			return nil, err
		}
		// krusty keeps the order of resources (no reorder by default) and
		// transformers rename in place: the i-th object of one build is
		// the i-th of the other.
		if len(seen) != len(plain) {
			return nil, fmt.Errorf("index the base: %d objects with overlay.flux, %d without", len(seen), len(plain))
		}
	}
	for i, r := range seen {
		gvk := r.GetGvk()
		obj, err := r.Map()
		if err != nil {
			return nil, fmt.Errorf("index the base: %s %s: %w", gvk.Kind, r.GetName(), err)
		}
		// The overlay's view: the object as the patches must address it.
		a := plain[i]
		if a.GetGvk() != gvk {
			return nil, fmt.Errorf("index the base: object %d is %s with overlay.flux, %s without", i, gvk, a.GetGvk())
		}
		y, err := a.AsYAML()
		if err != nil {
			return nil, fmt.Errorf("index the base: %s %s: %w", gvk.Kind, a.GetName(), err)
		}
		if idx.builtByID == nil {
			idx.builtByID = map[idKey][]int{}
		}
		ik := idKeyOf(a.CurId())
		idx.builtByID[ik] = append(idx.builtByID[ik], len(idx.built))
		idx.built = append(idx.built, newBuiltObject(a.CurId(), y))
		e := baseEntry{obj: obj, name: a.GetName(), namespace: a.GetNamespace()}
		k := baseKey{gvk.Group, gvk.Kind, r.GetNamespace(), r.GetName()}
		idx.objects[k] = e
		if hasVar(k.name) || hasVar(k.namespace) {
			idx.templates = append(idx.templates, template{group: k.group, kind: k.kind,
				namespace: varPattern(k.namespace), name: varPattern(k.name), entry: e})
		}
	}
	return idx, nil
}

func buildBase(base fs.FS, dir string, k kustomization) ([]*resource.Resource, error) {
	k.APIVersion, k.Kind = "kustomize.config.k8s.io/v1beta1", "Kustomization"
	b, err := yaml.Marshal(k)
	if err != nil {
		return nil, err
	}
	ofs, err := newOverlayFS(base, dir, Tree{overlay.KustomizationFile: b})
	if err != nil {
		return nil, err
	}
	if err := onlyLocal(ofs, "/"+dir); err != nil {
		return nil, fmt.Errorf("kustomize build of overlay.resources %v at %s: %w", k.Resources, dir, err)
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(ofs, "/"+dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build of overlay.resources %v at %s: %w", k.Resources, dir, err)
	}
	return m.Resources(), nil
}

// lookup says whether the base defines ref's object and how a patch
// addresses it: bases often leave the namespace out and let the GitOps tool
// set it, and the patch must then leave it out too.
func (b *BaseIndex) lookup(r capture.ObjectRef) (name, namespace string, ok bool) {
	e, ok := b.find(r)
	return e.name, e.namespace, ok
}

// find returns the base's entry for ref's object.
func (b *BaseIndex) find(r capture.ObjectRef) (baseEntry, bool) {
	if e, ok := b.objects[baseKey{r.Group, r.Kind, r.Namespace, r.Name}]; ok {
		return e, true
	}
	if r.Namespace != "" {
		if e, ok := b.objects[baseKey{r.Group, r.Kind, "", r.Name}]; ok {
			return e, true
		}
	} else if b.targetNamespace != "" {
		if e, ok := b.objects[baseKey{r.Group, r.Kind, b.targetNamespace, r.Name}]; ok {
			return e, true
		}
	}
	// A name or namespace made of Flux variables matches the substituted
	// value; only a single match is taken.
	var found []baseEntry
	for _, t := range b.templates {
		nsOK := t.namespace.MatchString(r.Namespace) || t.namespace.MatchString("") ||
			r.Namespace == "" && b.targetNamespace != "" && t.namespace.MatchString(b.targetNamespace)
		if t.group == r.Group && t.kind == r.Kind && t.name.MatchString(r.Name) && nsOK {
			found = append(found, t.entry)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return baseEntry{}, false
}

// varRef is a Flux postBuild variable reference: ${name}, ${name:=default},
// ${name:-default} (fluxcd/pkg/envsubst, the parser behind
// fluxcd/pkg/kustomize's SubstituteVariables).
var varRef = regexp.MustCompile(`\$\{[_[:alpha:]][_[:alnum:]]*(?:[:]?[-=][^}]*)?\}`)

func hasVar(s string) bool { return varRef.MatchString(s) }

// varPattern turns a string holding variables into a pattern that the
// substituted string matches.
func varPattern(s string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	last := 0
	for _, loc := range varRef.FindAllStringIndex(s, -1) {
		b.WriteString(regexp.QuoteMeta(s[last:loc[0]]))
		b.WriteString(".*")
		last = loc[1]
	}
	b.WriteString(regexp.QuoteMeta(s[last:]))
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}
