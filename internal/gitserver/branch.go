package gitserver

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
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

// Commit writes files onto the tip of branch in the bare repository at dir
// the way another writer would (git clone, commit, push) and returns the new
// commit's hash. gitConfig are extra `git -c` settings for the commit (a
// signing key, say); an empty content deletes the file.
func Commit(t testing.TB, dir, branch, message string, files map[string]string, gitConfig ...string) string {
	t.Helper()
	work := t.TempDir()
	Run(t, work, "git", "clone", "-q", "-b", branch, dir, ".")
	for p, c := range files {
		full := filepath.Join(work, filepath.FromSlash(p))
		if c == "" {
			Run(t, work, "git", "rm", "-q", p)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	Run(t, work, "git", "add", "-A")
	args := []string{"-c", "user.name=someone", "-c", "user.email=someone@localhost"}
	for _, c := range gitConfig {
		args = append(args, "-c", c)
	}
	Run(t, work, "git", append(args, "commit", "-q", "-m", message)...)
	Run(t, work, "git", "push", "-q", "origin", branch)
	return strings.TrimSpace(Run(t, work, "git", "rev-parse", "HEAD"))
}
