package writeback

import (
	"io/fs"
	"path"
	"strings"

	"github.com/driftback/driftback/render"
)

// outsideKeyer is a parent file system that can name its content outside a
// directory (gitsync's parents do: gitsync.treeFS.OutsideKey).
type outsideKeyer interface {
	OutsideKey(dir string) (string, bool)
}

// baseCache keeps the base index of the last publish. Indexing builds the
// base with krusty, which costs seconds for a few thousand objects, while
// most publishes change only driftback's own directory: the index is kept
// as long as the repository outside the overlay's directory is byte for
// byte the same (issue 15: cost ∝ change). A resource inside the overlay's
// directory, or a parent that cannot name its content, is indexed every
// time.
type baseCache struct {
	key string
	idx *render.BaseIndex
	// builds counts the indexes built, for tests.
	builds int
}

// index returns the base index for parent, and the key it is kept under
// (ok false: the index cannot be keyed and is built every time). An overlay
// with no resources has no base: its key is constant, whatever else the
// repository holds (other clusters' directories on a shared branch).
func (c *baseCache) index(parent fs.FS, dir string, resources []string, flux render.FluxTransform) (idx *render.BaseIndex, key string, ok bool, err error) {
	switch k, isKeyer := parent.(outsideKeyer); {
	case len(resources) == 0:
		key, ok = "no base", true
	case isKeyer && resourcesOutside(dir, resources):
		key, ok = k.OutsideKey(dir)
	}
	if ok && c.idx != nil && key == c.key {
		return c.idx, key, true, nil
	}
	idx, err = render.IndexBaseFor(parent, dir, resources, flux)
	c.builds++
	if err != nil {
		c.key, c.idx = "", nil
		return nil, "", false, err
	}
	if ok {
		c.key, c.idx = key, idx
	}
	return idx, key, ok, nil
}

// resourcesOutside reports whether every resource of the overlay lies
// outside its own directory (../apps, not ./base): only then is the base
// independent of what driftback writes.
func resourcesOutside(dir string, resources []string) bool {
	dir = path.Clean(dir)
	for _, r := range resources {
		p := path.Clean(path.Join(dir, r))
		if p == dir || strings.HasPrefix(p, dir+"/") || dir == "." {
			return false
		}
	}
	return true
}
