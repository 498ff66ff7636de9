package render

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/driftback/driftback/overlay"
)

// Carry adds files recorded earlier (paths relative to the overlay, as the
// branch holds them) to a rendered tree unchanged, and lists the patches and
// resources among them in kustomization.yaml. It is how the state of a kind
// that could not be listed is kept as Git recorded it: the kind's absence
// from the captures is not a deletion. A path the tree already holds is an
// error (the kind was captured after all).
func (t Tree) Carry(files map[string][]byte) error {
	if len(files) == 0 {
		return nil
	}
	kb, ok := t[overlay.KustomizationFile]
	if !ok {
		return fmt.Errorf("carry: the tree has no %s", overlay.KustomizationFile)
	}
	var k kustomization
	if err := yaml.Unmarshal(bytes.TrimPrefix(kb, []byte(header)), &k); err != nil {
		return fmt.Errorf("carry: read %s: %w", overlay.KustomizationFile, err)
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if _, dup := t[p]; dup {
			return fmt.Errorf("carry: %s is rendered already", p)
		}
		t[p] = files[p]
		switch cat, _, _ := strings.Cut(p, "/"); cat {
		case overlay.ResourcesDir:
			k.Resources = append(k.Resources, p)
		case overlay.PatchesDir:
			k.Patches = append(k.Patches, patch{Path: p})
		}
	}
	out, err := yaml.Marshal(k)
	if err != nil {
		return fmt.Errorf("carry: %w", err)
	}
	t[overlay.KustomizationFile] = append([]byte(header), out...)
	return nil
}

// OfKinds selects, among overlay paths, the object files of the given kind
// directories (overlay.KindDir) in any category and namespace.
func OfKinds(paths []string, kindDirs map[string]bool) []string {
	var out []string
	for _, p := range paths {
		if e, ok := overlay.ParsePath(p); ok && kindDirs[e.KindDirName()] {
			out = append(out, p)
		}
	}
	return out
}
