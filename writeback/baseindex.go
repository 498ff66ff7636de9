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

func (c *baseCache) index(parent fs.FS, dir string, resources []string, flux render.FluxTransform) (*render.BaseIndex, error) {
	key, ok := "", false
	if k, isKeyer := parent.(outsideKeyer); isKeyer && resourcesOutside(dir, resources) {
		key, ok = k.OutsideKey(dir)
	}
	if ok && c.idx != nil && key == c.key {
		return c.idx, nil
	}
	idx, err := render.IndexBaseFor(parent, dir, resources, flux)
	c.builds++
	if err != nil {
		c.key, c.idx = "", nil
		return nil, err
	}
	if ok {
		c.key, c.idx = key, idx
	}
	return idx, nil
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
