package render

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio"

	"github.com/driftback/driftback/overlay"
)

// VerifyCarried is Verify for an overlay carried as it is onto a new base
// (follow): it must build, and the base must not define an object the
// overlay keeps under unmatched/. Such an object was missing from the old
// base; carried as it is, its captured fields would stay unapplied (an
// external name lost on a rebuild), while rendered again over the new base
// they are a patch of it.
func VerifyCarried(base fs.FS, dir string, t Tree) error {
	out, err := Build(base, dir, t)
	if err != nil {
		return err
	}
	return unmatchedDefined(dir, out, t)
}

// UnmatchedDefinedError names the unmatched/ files of an overlay whose
// objects its base now defines: the overlay must be rendered again.
type UnmatchedDefinedError struct {
	Dir   string
	Files []string
}

func (e *UnmatchedDefinedError) Error() string {
	return fmt.Sprintf("the base of %s now defines %d object(s) it keeps under %s/ (%s): their captured fields must be rendered again as patches, not carried", e.Dir, len(e.Files), overlay.UnmatchedDir, strings.Join(e.Files, ", "))
}

// unmatchedDefined fails when built (the overlay's build) holds an object
// of one of t's unmatched/ files. Objects are compared by group, kind,
// namespace and name as the files address them.
func unmatchedDefined(dir string, built []byte, t Tree) error {
	type id struct{ group, kind, ns, name string }
	want := map[id]string{}
	for p, b := range t {
		if !strings.HasPrefix(p, overlay.UnmatchedDir+"/") {
			continue
		}
		u, err := overlay.DecodeObject(b)
		if err != nil {
			return fmt.Errorf("%s: %w", path.Join(dir, p), err)
		}
		want[id{u.GroupVersionKind().Group, u.GetKind(), u.GetNamespace(), u.GetName()}] = p
	}
	if len(want) == 0 {
		return nil
	}
	nodes, err := kio.FromBytes(built)
	if err != nil {
		return fmt.Errorf("read the build of %s: %w", dir, err)
	}
	var found []string
	for _, n := range nodes {
		group, _, _ := strings.Cut(n.GetApiVersion(), "/")
		if !strings.Contains(n.GetApiVersion(), "/") {
			group = ""
		}
		if p, ok := want[id{group, n.GetKind(), n.GetNamespace(), n.GetName()}]; ok {
			found = append(found, p)
		}
	}
	if len(found) == 0 {
		return nil
	}
	sort.Strings(found)
	return &UnmatchedDefinedError{Dir: dir, Files: found}
}

// readTree reads the files under dir of fsys, relative to dir.
func readTree(fsys fs.FS, dir string) (Tree, error) {
	t := Tree{}
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		t[strings.TrimPrefix(p, dir+"/")] = b
		return nil
	})
	return t, err
}
