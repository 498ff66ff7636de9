package gitsync

import (
	"crypto/sha256"
	"encoding/hex"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// OutsideKey names everything a tree holds outside the directory dir: two
// trees with the same key hold the same files, byte for byte, everywhere
// but under dir. It reads only the trees on dir's path (one level each),
// not the files, so a writer can keep what it derived from the rest of the
// repository — the base its overlay patches, indexed by krusty — for as
// long as only its own directory changes. ok is false for dir "." (nothing
// is outside).
//
// The parent file system gitsync hands a Prepare callback, and the one
// ReadBranch returns, implement it (type-assert an interface with this
// method).
func (t treeFS) OutsideKey(dir string) (key string, ok bool) {
	if t.lock != nil {
		t.lock.Lock()
		defer t.lock.Unlock()
	}
	dir = path.Clean(dir)
	if dir == "." || dir == "/" || !validDir(dir) {
		return "", false
	}
	h := sha256.New()
	tree := t.root
	parts := strings.Split(dir, "/")
	for i, part := range parts {
		if tree == nil {
			// Nothing at this level: the same files outside dir as a
			// level holding only dir's path (a branch before and after
			// driftback's first commit).
			h.Write([]byte{'/'})
			continue
		}
		var next *object.Tree
		for _, e := range tree.Entries {
			if e.Name == part {
				// On dir's path: described by the next level, or (dir
				// itself) left out.
				if i < len(parts)-1 {
					sub, err := tree.Tree(part)
					if err == nil {
						next = sub
						continue
					}
				} else {
					continue
				}
			}
			h.Write([]byte(e.Name))
			h.Write([]byte{0})
			h.Write([]byte(e.Mode.String()))
			h.Write(e.Hash[:])
		}
		h.Write([]byte{'/'})
		tree = next
	}
	return hex.EncodeToString(h.Sum(nil)), true
}

func validDir(dir string) bool {
	return !strings.HasPrefix(dir, "../") && dir != ".."
}

// DirHash is the tree hash of directory dir in this tree (zero when there
// is none): two trees with the same DirHash hold the same files under dir,
// byte for byte. A writer compares it with the Dir of its last Result to
// know the directory holds exactly what it wrote (an Update is then safe).
// ok is false for a path that is not a clean relative directory.
func (t treeFS) DirHash(dir string) (h Hash, ok bool) {
	if t.lock != nil {
		t.lock.Lock()
		defer t.lock.Unlock()
	}
	dir = path.Clean(dir)
	if dir == "." || dir == "/" || !validDir(dir) || strings.HasPrefix(dir, "/") {
		return "", false
	}
	if t.root == nil {
		return "", true
	}
	e, err := t.root.FindEntry(dir)
	if err != nil || e.Mode != filemode.Dir {
		return "", true
	}
	return hashOf(e.Hash), true
}
