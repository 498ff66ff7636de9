package render

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/resid"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/overlay"
)

// Merged renders the merged/ directory of an overlay (overlay.MergedDir):
// every object the overlay's kustomize build yields, one file each, and a
// kustomization.yaml listing only those files. Argo CD and Flux build it at
// the cost of reading its files, while the overlay itself costs kustomize
// a scan of the whole base per patch (BenchmarkOverlayShape).
//
// It is computed object by object, never by building the overlay whole:
// base is the index of the overlay's resources (its built objects), t the
// overlay as rendered (only kustomization.yaml and the files it lists are
// read). An object the overlay patches is built alone with its patches by
// krusty, the same strategic merge kustomize runs in the full build (a
// patch changes only its target); every other object is copied as the base
// built it, and resources/ files as they are.
// TestMergedBuildsLikeTheOverlay holds the two builds equal.
//
// cache may be nil; a writer keeps one across publishes, so an object whose
// base and patches did not change is not built or parsed again and a
// publish that changes one object costs one krusty build.
func Merged(base *BaseIndex, t Tree, cache *MergeCache) (Tree, error) {
	k, err := readKustomization(t)
	if err != nil {
		return nil, fmt.Errorf("merged: %w", err)
	}
	var built []builtObject
	if base != nil {
		built = base.built
	}
	patches := make([][]string, len(built)) // by index into built
	for _, p := range k.Patches {
		id, err := cache.fileId(t, p.Path)
		if err != nil {
			return nil, fmt.Errorf("merged: %w", err)
		}
		var targets []int
		if base != nil {
			targets = base.builtByID[idKeyOf(id)]
		}
		switch len(targets) {
		case 0:
			return nil, fmt.Errorf("merged: patch %s: the base defines no %s", p.Path, id)
		case 1:
			patches[targets[0]] = append(patches[targets[0]], p.Path)
		default:
			return nil, fmt.Errorf("merged: patch %s matches more than one object of the base (%s)", p.Path, id)
		}
	}
	out := make(Tree, len(built)+len(k.Resources)+1)
	files := make([]string, 0, len(built)+len(k.Resources))
	put := func(name string, file []byte, id resid.ResId) error {
		p := path.Join(overlay.MergedDir, name)
		if _, dup := out[p]; dup {
			return fmt.Errorf("merged: two objects of the build are written to %s (%s); kustomize tells them apart by version, driftback's file names do not", p, id)
		}
		out[p] = file
		files = append(files, name)
		return nil
	}
	for i := range built {
		o := &built[i]
		file := o.file
		if len(patches[i]) > 0 {
			if file, err = cache.merge(o, patches[i], t); err != nil {
				return nil, fmt.Errorf("merged: %s: %w", o.id, err)
			}
		}
		if err := put(o.name, file, o.id); err != nil {
			return nil, err
		}
	}
	for _, r := range k.Resources {
		if !isObjectFile(r) {
			continue // a base: its objects came from the index
		}
		o, err := cache.resource(t, r)
		if err != nil {
			return nil, fmt.Errorf("merged: %w", err)
		}
		if err := put(o.name, o.file, o.id); err != nil {
			return nil, err
		}
	}
	cache.rotate()
	sort.Strings(files)
	kb, err := yaml.Marshal(kustomization{APIVersion: "kustomize.config.k8s.io/v1beta1", Kind: "Kustomization", Resources: files})
	if err != nil {
		return nil, fmt.Errorf("merged: %w", err)
	}
	out[path.Join(overlay.MergedDir, overlay.KustomizationFile)] = append([]byte(header), kb...)
	return out, nil
}

// idKey holds what resid.ResId.Equals compares (group, version, kind,
// name and the effective namespace), so a patch finds its target in a map
// instead of kustomize's scan of every object.
type idKey struct{ group, version, kind, name, namespace string }

func idKeyOf(id resid.ResId) idKey {
	return idKey{id.Group, id.Version, id.Kind, id.Name, id.EffectiveNamespace()}
}

// newBuiltObject is an object of a build as Merged copies it.
func newBuiltObject(id resid.ResId, y []byte) builtObject {
	name := overlay.FileName(capture.ObjectRef{Group: id.Group, Version: id.Version, Kind: id.Kind, Namespace: id.Namespace, Name: id.Name})
	return builtObject{id: id, yaml: y, sum: sha256.Sum256(y), name: name, file: append([]byte(header), y...)}
}

// MergeCache keeps what Merged built and parsed, by the bytes it came from,
// for the next call; entries the next call does not use are dropped. Its
// zero value is ready; a nil cache keeps nothing.
type MergeCache struct {
	prev, cur mergeMaps
	// builds counts the objects built, for tests.
	builds int
}

type mergeMaps struct {
	merged    map[[sha256.Size]byte][]byte
	ids       map[string]resid.ResId
	resources map[string]builtObject
}

// lookup finds a key in cur, else in prev (moving it to cur).
func lookup[K comparable, V any](c *MergeCache, pick func(*mergeMaps) *map[K]V, k K) (V, bool) {
	cur, prev := pick(&c.cur), pick(&c.prev)
	if *cur == nil {
		*cur = map[K]V{}
	}
	if v, ok := (*cur)[k]; ok {
		return v, true
	}
	if v, ok := (*prev)[k]; ok {
		(*cur)[k] = v
		return v, true
	}
	var zero V
	return zero, false
}

// merge builds the object with its patches through the cache (c may be nil).
func (c *MergeCache) merge(o *builtObject, patches []string, t Tree) ([]byte, error) {
	build := func() ([]byte, error) {
		y, err := mergeOne(o.yaml, patches, t)
		if err != nil {
			return nil, err
		}
		return append([]byte(header), y...), nil
	}
	if c == nil {
		return build()
	}
	h := sha256.New()
	h.Write(o.sum[:])
	for _, p := range patches {
		fmt.Fprintf(h, "%d:", len(t[p]))
		h.Write(t[p])
	}
	var key [sha256.Size]byte
	h.Sum(key[:0])
	pick := func(m *mergeMaps) *map[[sha256.Size]byte][]byte { return &m.merged }
	if b, ok := lookup(c, pick, key); ok {
		return b, nil
	}
	b, err := build()
	c.builds++
	if err == nil {
		c.cur.merged[key] = b
	}
	return b, err
}

// fileId is the kustomize id of the one object file p of the tree holds.
func (c *MergeCache) fileId(t Tree, p string) (resid.ResId, error) {
	b, ok := t[p]
	if !ok {
		return resid.ResId{}, fmt.Errorf("%s is listed but not rendered", p)
	}
	pick := func(m *mergeMaps) *map[string]resid.ResId { return &m.ids }
	if c != nil {
		if id, ok := lookup(c, pick, string(b)); ok {
			return id, nil
		}
	}
	rn, err := kyaml.Parse(string(b))
	if err != nil {
		return resid.ResId{}, fmt.Errorf("read %s: %w", p, err)
	}
	id := resid.FromRNode(rn)
	if c != nil {
		c.cur.ids[string(b)] = id
	}
	return id, nil
}

// resource is the merged copy of the resources/ file p.
func (c *MergeCache) resource(t Tree, p string) (builtObject, error) {
	pick := func(m *mergeMaps) *map[string]builtObject { return &m.resources }
	if c != nil {
		if o, ok := lookup(c, pick, string(t[p])); ok {
			return o, nil
		}
	}
	id, err := c.fileId(t, p)
	if err != nil {
		return builtObject{}, err
	}
	o := newBuiltObject(id, t[p])
	if c != nil {
		c.cur.resources[string(t[p])] = o
	}
	return o, nil
}

func (c *MergeCache) rotate() {
	if c != nil {
		c.prev, c.cur = c.cur, mergeMaps{}
	}
}

// readKustomization reads the overlay's kustomization.yaml from the tree.
func readKustomization(t Tree) (kustomization, error) {
	var k kustomization
	kb, ok := t[overlay.KustomizationFile]
	if !ok {
		return k, fmt.Errorf("the overlay has no %s", overlay.KustomizationFile)
	}
	if err := yaml.Unmarshal(bytes.TrimPrefix(kb, []byte(header)), &k); err != nil {
		return k, fmt.Errorf("read %s: %w", overlay.KustomizationFile, err)
	}
	return k, nil
}

// mergeOne builds one object with its patches, as the overlay's build
// applies them, by running krusty on those files alone.
func mergeOne(obj []byte, patches []string, t Tree) ([]byte, error) {
	fs := filesys.MakeFsInMemory()
	k := kustomization{APIVersion: "kustomize.config.k8s.io/v1beta1", Kind: "Kustomization", Resources: []string{"object.yaml"}}
	if err := fs.WriteFile("/m/object.yaml", obj); err != nil {
		return nil, err
	}
	for i, p := range patches {
		name := fmt.Sprintf("patch-%d.yaml", i)
		if err := fs.WriteFile("/m/"+name, t[p]); err != nil {
			return nil, err
		}
		k.Patches = append(k.Patches, patch{Path: name})
	}
	kb, err := yaml.Marshal(k)
	if err != nil {
		return nil, err
	}
	if err := fs.WriteFile("/m/"+overlay.KustomizationFile, kb); err != nil {
		return nil, err
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, "/m")
	if err != nil {
		return nil, fmt.Errorf("kustomize build with %s: %w", strings.Join(patches, ", "), err)
	}
	if m.Size() != 1 {
		return nil, fmt.Errorf("kustomize build with %s yields %d objects, not 1", strings.Join(patches, ", "), m.Size())
	}
	return m.AsYaml()
}

// Remerge renders merged/ for the overlay t (as the branch holds it, merged/
// included or not) on the base as the repository base holds it now: what
// the side branch's follower writes when the base branch moves, so merged/
// never lags the base it stands for. The overlay's bases are the entries
// of its kustomization.yaml that are not its own object files.
func Remerge(base fs.FS, dir string, t Tree) (Tree, error) {
	k, err := readKustomization(t)
	if err != nil {
		return nil, fmt.Errorf("merged: %w", err)
	}
	var bases []string
	for _, r := range k.Resources {
		if !isObjectFile(r) {
			bases = append(bases, r)
		}
	}
	idx, err := IndexBase(base, dir, bases)
	if err != nil {
		return nil, fmt.Errorf("merged: %w", err)
	}
	return Merged(idx, t, nil)
}
