package writeback

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/overlay"
	"github.com/driftback/driftback/render"
)

// One object that cannot be rendered, or whose files make the overlay fail
// to build, must not hold back the record of every other object: it is
// left out of the commit, its files as the branch holds them are kept
// (carried unchanged, never deleted), it is named at WARN and counted
// (driftback_objects_skipped). The others are committed.

// renderFunc renders the captures minus skip (indexes into caps) into a
// tree with the branch's files of the skipped objects carried over.
type renderFunc func(skip map[int]bool) (render.Tree, []render.Skipped, error)

// buildIsolated returns a tree that builds: the full render when it does,
// else the render without the fewest objects found by splitting the
// changed ones in halves (O(k log n) builds for k bad objects among n
// changed). verify is render.Verify over the parent. When even the tree
// with every changed object left out does not build, the fault is not in
// the captures (the base changed): the original error is returned.
func buildIsolated(caps []*capture.Packed, changed []int, renderSkipping renderFunc, verify func(render.Tree) error) (render.Tree, []render.Skipped, error) {
	tree, skipped, err := renderSkipping(nil)
	if err != nil {
		return nil, nil, err
	}
	buildErr := verify(tree)
	if buildErr == nil {
		return tree, skipped, nil
	}
	if len(changed) == 0 {
		return nil, nil, buildErr
	}
	skip := map[int]bool{}
	for _, i := range changed {
		skip[i] = true
	}
	if t, _, err := renderSkipping(skip); err != nil || verify(t) != nil {
		return nil, nil, buildErr
	}
	var bad []int
	errOf := map[int]error{}
	queue := [][]int{changed}
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		try := map[int]bool{}
		for i := range skip {
			try[i] = true
		}
		for _, i := range g {
			delete(try, i)
		}
		t, _, err := renderSkipping(try)
		if err == nil {
			err = verify(t)
		}
		switch {
		case err == nil:
			skip = try
		case len(g) == 1:
			bad = append(bad, g[0])
			errOf[g[0]] = err
		default:
			queue = append(queue, g[:len(g)/2], g[len(g)/2:])
		}
	}
	tree, skipped, err = renderSkipping(skip)
	if err != nil {
		return nil, nil, err
	}
	if err := verify(tree); err != nil {
		return nil, nil, buildErr
	}
	for _, i := range bad {
		skipped = append(skipped, render.Skipped{Ref: caps[i].Ref, Err: fmt.Errorf("its files make the overlay fail to build: %w", errOf[i])})
	}
	return tree, skipped, nil
}

// changedObjects lists the captures whose rendered files differ from (or
// are missing in) the parent's overlay: only those can have broken a build
// the parent passed.
func changedObjects(parent fs.FS, dir string, caps []*capture.Packed, tree render.Tree) []int {
	var out []int
	for i, c := range caps {
		key := overlay.FileName(c.Ref)
		for _, d := range overlay.ObjectDirs {
			p := path.Join(d, key)
			b, ok := tree[p]
			if !ok {
				continue
			}
			old, err := fs.ReadFile(parent, path.Join(dir, p))
			if err != nil || !bytes.Equal(old, b) {
				out = append(out, i)
				break
			}
		}
	}
	return out
}

// carryObjects copies the branch's files of the given objects into tree
// unchanged (listed in kustomization.yaml as before).
func carryObjects(parent fs.FS, dir string, tree render.Tree, refs []capture.ObjectRef) error {
	if len(refs) == 0 {
		return nil
	}
	files := map[string][]byte{}
	for _, r := range refs {
		key, legacy := overlay.FileName(r), overlay.LegacyFileName(r)
		for _, d := range overlay.ObjectDirs {
			p := path.Join(d, key)
			b, err := fs.ReadFile(parent, path.Join(dir, p))
			if errors.Is(err, fs.ErrNotExist) {
				// A branch written before overlay.Bucket: carried
				// where it is, which readers read as well.
				p = path.Join(d, legacy)
				b, err = fs.ReadFile(parent, path.Join(dir, p))
			}
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return fmt.Errorf("read %s: %w", path.Join(dir, p), err)
			}
			if _, dup := tree[p]; dup {
				continue
			}
			files[p] = b
		}
	}
	return tree.Carry(files)
}

// warnSkipped names each skipped object at WARN (slog quotes a name with
// control characters).
func warnSkipped(skipped []render.Skipped) {
	for _, s := range skipped {
		gk := s.Ref.Kind
		if s.Ref.Group != "" {
			gk += "." + s.Ref.Group
		}
		slog.Warn("object not committed: it cannot be rendered or breaks the overlay's build; its recorded files are kept as they were, the other objects are committed",
			"object", overlay.ObjectName(gk, s.Ref.Namespace, s.Ref.Name), "err", s.Err)
	}
}
