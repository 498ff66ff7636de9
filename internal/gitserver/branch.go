package gitserver

import (
	"errors"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// BranchFiles reads every file of branch in the bare repository at dir, as
// a test checks what was pushed. ok is false while the branch does not exist.
func BranchFiles(t testing.TB, dir, branch string) (files map[string]string, tip *object.Commit, ok bool) {
	t.Helper()
	r, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := r.Reference(plumbing.NewBranchReferenceName(branch), true)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return nil, nil, false
	}
	if err != nil {
		t.Fatalf("branch %s: %v", branch, err)
	}
	c, err := r.CommitObject(ref.Hash())
	if err != nil {
		t.Fatal(err)
	}
	iter, err := c.Files()
	if err != nil {
		t.Fatal(err)
	}
	files = map[string]string{}
	if err := iter.ForEach(func(f *object.File) error {
		s, err := f.Contents()
		files[f.Name] = s
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return files, c, true
}
