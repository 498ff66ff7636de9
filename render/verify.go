package render

import (
	"fmt"
	"io/fs"
	"path"

	"sigs.k8s.io/kustomize/api/krusty"
)

// Build runs kustomize (krusty, in process) on the overlay as it would stand
// at dir in a repository whose other files are base, and returns the built
// YAML. base may be nil when the overlay references nothing outside itself.
func Build(base fs.FS, dir string, t Tree) (_ []byte, err error) {
	defer func() {
		// kyaml panics on some ill-shaped patches (annotations given as a
		// list): a build failure like any other, not a crash.
		if p := recover(); p != nil {
			err = fmt.Errorf("kustomize build %s: kustomize failed: %v", dir, p)
		}
	}()
	ofs, err := newOverlayFS(base, dir, t)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	if err := onlyLocal(ofs, path.Join("/", dir)); err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(ofs, path.Join("/", dir))
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	out, err := m.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	return out, nil
}

// Verify fails when the overlay does not build: nothing is committed that
// does not `kustomize build`.
func Verify(base fs.FS, dir string, t Tree) error {
	_, err := Build(base, dir, t)
	return err
}
