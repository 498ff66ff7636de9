package gitsync_test

import (
	"context"
	"fmt"
	"io/fs"
	"testing"

	"github.com/driftback/driftback/internal/gitserver"
)

type outsideKeyer interface {
	OutsideKey(dir string) (string, bool)
}

// The key of a tree outside a directory moves with every change outside
// it, and with none inside it.
func TestOutsideKey(t *testing.T) {
	srv := gitserver.New(t, gitserver.Options{})
	const dir = "clusters/c1/driftback"
	n := 0
	var url string
	key := func(files map[string]string) string {
		t.Helper()
		n++
		var repoDir string
		url, repoDir = srv.CreateRepo(t, fmt.Sprintf("fleet%d", n))
		gitserver.Seed(t, repoDir, "main", files)
		fsys, _, err := open(t, url).ReadBranch(context.Background(), "main")
		if err != nil {
			t.Fatal(err)
		}
		k, ok := fsys.(outsideKeyer).OutsideKey(dir)
		if !ok {
			t.Fatal("no key")
		}
		return k
	}
	base := map[string]string{"apps/x.yaml": "x", "clusters/c1/apps.yaml": "a", dir + "/p.yaml": "1"}
	k0 := key(base)
	for _, tc := range []struct {
		name   string
		change map[string]string
		moves  bool
	}{
		{"a file inside the directory changes", map[string]string{dir + "/p.yaml": "2"}, false},
		{"a file is added inside the directory", map[string]string{dir + "/q/r.yaml": "3"}, false},
		{"a file elsewhere changes", map[string]string{"apps/x.yaml": "y"}, true},
		{"a sibling of the directory changes", map[string]string{"clusters/c1/apps.yaml": "b"}, true},
		{"a file is added at the top", map[string]string{"README.md": "r"}, true},
		{"a directory named like the overlay's elsewhere", map[string]string{"driftback/p.yaml": "1"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{}
			for p, c := range base {
				files[p] = c
			}
			for p, c := range tc.change {
				files[p] = c
			}
			if k := key(files); (k != k0) != tc.moves {
				t.Errorf("key moved %v, want %v", k != k0, tc.moves)
			}
		})
	}
	// A branch before the directory's first commit holds the same files
	// outside it as after: the same key.
	if before, after := key(map[string]string{"apps/x.yaml": "x"}), key(map[string]string{"apps/x.yaml": "x", dir + "/p.yaml": "1"}); before != after {
		t.Error("the key moved when only the directory was created")
	}
	// Everything is inside ".": no key.
	fsys, _, _ := open(t, url).ReadBranch(context.Background(), "main")
	if _, ok := fsys.(outsideKeyer).OutsideKey("."); ok {
		t.Error(`a key for "."`)
	}
	var _ fs.FS = fsys
}
