package overlay

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"

	"sigs.k8s.io/yaml"
)

// Downstream lists the driftback directories of fsys (a repository) whose
// overlays build on dir: the later shards of a chain (docs/sharding.md),
// each of which lists dir, or a directory that does, in its
// kustomization.yaml's resources. They are ordered first to last, so the
// last one is what Argo CD or Flux apply. A change under dir, or of the
// base below it, must keep them building too.
//
// A driftback directory is one holding MetaFile; the walk does not descend
// into them (shards never nest), so it reads the directories of the
// repository outside driftback's, not driftback's files. Other
// kustomizations that list dir (a user's own) are not driftback's to
// verify and are not returned.
func Downstream(fsys fs.FS, dir string) ([]string, error) {
	dir = path.Clean(dir)
	overlays := map[string][]string{} // driftback directory -> the directories its resources name
	if err := findOverlays(fsys, ".", overlays); err != nil {
		return nil, err
	}
	// Walk the chain forward from dir: each round adds the overlays that
	// list one already found. A cycle (refused by `driftback shards`) ends
	// because a directory is added once.
	found := map[string]int{dir: 0}
	var order []string
	for grew := true; grew; {
		grew = false
		for d, refs := range overlays {
			if _, seen := found[d]; seen {
				continue
			}
			depth := -1
			for _, r := range refs {
				if n, ok := found[r]; ok && n+1 > depth {
					depth = n + 1
				}
			}
			if depth > 0 {
				found[d] = depth
				order = append(order, d)
				grew = true
			}
		}
	}
	sort.Slice(order, func(i, j int) bool {
		if found[order[i]] != found[order[j]] {
			return found[order[i]] < found[order[j]]
		}
		return order[i] < order[j]
	})
	return order, nil
}

// findOverlays records every directory below d that holds MetaFile, with
// the directories its kustomization.yaml's resources resolve to.
func findOverlays(fsys fs.FS, d string, into map[string][]string) error {
	entries, err := fs.ReadDir(fsys, d)
	if err != nil {
		return fmt.Errorf("read %s: %w", d, err)
	}
	for _, e := range entries {
		if !e.IsDir() && e.Name() == MetaFile {
			refs, err := resourceDirs(fsys, d)
			if err != nil {
				return err
			}
			into[d] = refs
			return nil
		}
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := findOverlays(fsys, path.Join(d, e.Name()), into); err != nil {
				return err
			}
		}
	}
	return nil
}

// resourceDirs reads d's kustomization.yaml and resolves its resources
// against d (a driftback directory without one lists nothing yet).
func resourceDirs(fsys fs.FS, d string) ([]string, error) {
	b, err := fs.ReadFile(fsys, path.Join(d, KustomizationFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("read %s: %w", path.Join(d, KustomizationFile), err)
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("%s: %w", path.Join(d, KustomizationFile), err)
	}
	out := make([]string, 0, len(k.Resources))
	for _, r := range k.Resources {
		out = append(out, path.Clean(path.Join(d, r)))
	}
	return out, nil
}
