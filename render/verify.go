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
	return buildAt(base, dir, t, dir)
}

// buildAt builds the directory at, with t laid over base at dir: dir
// itself, or a later overlay that builds on it (VerifyDownstream).
func buildAt(base fs.FS, dir string, t Tree, at string) (_ []byte, err error) {
	defer func() {
		// kyaml panics on some ill-shaped patches (annotations given as a
		// list): a build failure like any other, not a crash.
		if p := recover(); p != nil {
			err = fmt.Errorf("kustomize build %s: kustomize failed: %v", at, p)
		}
	}()
	ofs, err := newOverlayFS(base, dir, t)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", at, err)
	}
	root := path.Join("/", at)
	if err := onlyLocal(ofs, root); err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", at, err)
	}
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(ofs, root)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", at, err)
	}
	out, err := m.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", at, err)
	}
	return out, nil
}

// Verify fails when the overlay does not build: nothing is committed that
// does not `kustomize build`.
func Verify(base fs.FS, dir string, t Tree) error {
	_, err := Build(base, dir, t)
	return err
}

// VerifyDownstream fails when one of the later overlays that build on dir
// (overlay.Downstream, the later shards of a chain) does not build with t
// at dir, or its base now defines an object it keeps under unmatched/
// (VerifyCarried): a commit that moves the base under a chain of shards must leave
// the last directory, the one Argo CD and Flux apply, building. The error
// names the first directory that does not build.
func VerifyDownstream(base fs.FS, dir string, t Tree, downstream []string) error {
	for _, d := range downstream {
		out, err := buildAt(base, dir, t, d)
		if err == nil {
			var later Tree
			if later, err = readTree(base, d); err == nil {
				err = unmatchedDefined(d, out, later)
			}
		}
		if err != nil {
			return &DownstreamError{Dir: d, Err: err}
		}
	}
	return nil
}

// DownstreamError is a later shard's directory that does not build.
type DownstreamError struct {
	Dir string
	Err error
}

func (e *DownstreamError) Error() string {
	return fmt.Sprintf("%s, a later shard that builds on this directory, must be rendered again over this base by its own shard (it is when that shard sees the base branch move): %v", e.Dir, e.Err)
}

func (e *DownstreamError) Unwrap() error { return e.Err }
