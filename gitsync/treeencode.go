package gitsync

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// encodeTree is Git's encoding of a tree's entries, sorted in Git's order:
// what object.Tree.Encode writes, built in one buffer of the final size.
// Tree.Encode formats every entry with fmt.Fprintf into an in-memory object
// that grows by copying: rewriting a directory of 50,000 status files for
// one changed file cost ~40 ms that way (issue 15: a one-object commit
// should cost what changed; the directory's size is the format's).
func encodeTree(entries []object.TreeEntry) ([]byte, error) {
	n := 0
	for _, e := range entries {
		n += 7 + 1 + len(e.Name) + 1 + len(e.Hash)
	}
	b := make([]byte, 0, n)
	for _, e := range entries {
		if strings.IndexByte(e.Name, 0) >= 0 {
			return nil, fmt.Errorf("malformed filename %q", e.Name)
		}
		b = strconv.AppendUint(b, uint64(e.Mode), 8)
		b = append(b, ' ')
		b = append(b, e.Name...)
		b = append(b, 0)
		b = append(b, e.Hash[:]...)
	}
	return b, nil
}

// treeObject is an encoded tree stored as blobObject stores a blob: over
// its bytes, named with go-git's hash.
type treeObject struct{ blobObject }

func (o *treeObject) Type() plumbing.ObjectType { return plumbing.TreeObject }

func newTreeObject(content []byte) *treeObject {
	return &treeObject{blobObject{hash: plumbing.ComputeHash(plumbing.TreeObject, content), content: content}}
}
