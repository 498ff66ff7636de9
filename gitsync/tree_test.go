package gitsync

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"
)

// The trees gitsync writes are byte for byte the ones git writes for the
// same files: the same hash, whatever the names (Git sorts a directory as
// if its name ended in '/').
func TestTreesMatchGit(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		edits map[string]string // applied after the first build: path → content, "" removes
	}{
		{name: "flat", files: []string{"a.yaml", "b.yaml"}},
		{name: "directory sorts with a slash", files: []string{"a/x", "a.b", "a-b", "a0", "ab/c", "a/b/c", "a_/d", "A"}},
		{name: "edits by path copying", files: []string{"p/n1/k/a.yaml", "p/n1/k/b.yaml", "p/n2/k/c.yaml", "s/x.yaml"},
			edits: map[string]string{"p/n1/k/a.yaml": "changed", "p/n2/k/c.yaml": "", "p/n3/k/new.yaml": "new", "s/x.yaml": ""}},
		{name: "file becomes a directory", files: []string{"x", "y/z"}, edits: map[string]string{"x": "", "x/inner": "now a dir"}},
		{name: "directory becomes a file", files: []string{"x/a", "x/b/c", "y"}, edits: map[string]string{"x/a": "", "x/b/c": "", "x": "now a file"}},
		// In byte order "a-b" falls between "a" and "a/x": the edits of
		// one entry must still be found together.
		{name: "edits around names that sort between", files: []string{"a-b", "a/x", "a.c/y", "b"},
			edits: map[string]string{"a/x": "", "a/z": "new", "a-b": "changed", "a.c/y": "", "a0": "new"}},
		{name: "a whole directory removed", files: []string{"d/e/f", "d/e/g", "d2/h"}, edits: map[string]string{"d/e/f": "", "d/e/g": ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := map[string]string{}
			for _, p := range tc.files {
				want[p] = "content of " + p
			}
			w := newTreeWriter(memory.NewStorage())
			h := build(t, w, plumbing.ZeroHash, want)
			if len(tc.edits) > 0 {
				edits := map[string]string{}
				for p, c := range tc.edits {
					edits[p] = c
					if c == "" {
						delete(want, p)
					} else {
						want[p] = c
					}
				}
				h = build(t, w, h, edits)
			}
			if got := gitWriteTree(t, want); h.String() != got {
				t.Errorf("tree %s, git writes %s", h, got)
			}
		})
	}
}

// build applies files (content "" removes) to tree h.
func build(t *testing.T, w *treeWriter, h plumbing.Hash, files map[string]string) plumbing.Hash {
	t.Helper()
	var edits []edit
	for p, c := range files {
		e := edit{path: p, mode: 0o100644}
		if c != "" {
			b, err := writeBlob(w.s, []byte(c))
			if err != nil {
				t.Fatal(err)
			}
			if b != blobHash([]byte(c)) {
				t.Fatalf("blobHash(%q) = %s, stored as %s", c, blobHash([]byte(c)), b)
			}
			e.hash = b
		}
		edits = append(edits, e)
	}
	nh, err := w.apply(h, edits)
	if err != nil {
		t.Fatal(err)
	}
	return nh
}

func gitWriteTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}, {"write-tree"}} {
		out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		if args[0] == "write-tree" {
			return strings.TrimSpace(string(out))
		}
	}
	return ""
}

// TestTreeCacheKeepsOneVersion: editing a file keeps the decoded trees of
// the new version only, not those it replaced, and the cache stays within
// its bound of entries.
func TestTreeCacheKeepsOneVersion(t *testing.T) {
	w := newTreeWriter(&memory.NewStorage().ObjectStorage)
	files := map[string]string{}
	for i := range 1000 {
		files["d/k/f"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+"-"+itoa(i)] = "v0"
	}
	h := build(t, w, plumbing.ZeroHash, files)
	trees, entries := len(w.trees), w.cached
	for v := range 20 {
		h = build(t, w, h, map[string]string{"d/k/fa-0": "v" + itoa(v+1)})
	}
	if len(w.trees) != trees || w.cached != entries {
		t.Errorf("after 20 edits the cache holds %d trees of %d entries, want the %d of %d of one version", len(w.trees), w.cached, trees, entries)
	}
	n := 0
	for _, es := range w.trees {
		n += len(es)
	}
	if n != w.cached {
		t.Errorf("the cache counts %d entries, holds %d", w.cached, n)
	}
	big := make([]edit, 0, maxCachedEntries+10)
	for i := range cap(big) {
		b, _ := writeBlob(w.s, []byte(itoa(i)))
		big = append(big, edit{path: "big/f" + itoa(i), hash: b, mode: 0o100644})
	}
	if _, err := w.apply(plumbing.ZeroHash, big); err != nil {
		t.Fatal(err)
	}
	if w.cached > maxCachedEntries {
		t.Errorf("the cache holds %d entries, over its bound of %d", w.cached, maxCachedEntries)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
