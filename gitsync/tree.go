package gitsync

import (
	"bytes"
	"cmp"
	"crypto/sha1"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// maxCachedTrees and maxCachedEntries bound the decoded trees kept between
// commits; past either the cache starts over (a repository of 100k files
// has a few thousand trees and 100k entries; a decoded entry is ≈ 40 bytes
// besides its name).
const (
	maxCachedTrees   = 20000
	maxCachedEntries = 1 << 18
)

// edit is one change to a tree: put a blob or a whole tree at path
// (slash-separated), or remove what is there (zero hash).
type edit struct {
	path string
	hash plumbing.Hash
	mode filemode.FileMode
}

// treeWriter edits Git trees by path copying: only the trees on the path of
// an edit are decoded and written again; every other entry is reused as it
// is, so the cost of a commit follows the number of changed files.
type treeWriter struct {
	s storer.EncodedObjectStorer
	// trees holds decoded trees by hash. Trees are immutable, so an entry
	// never goes stale; it only saves decoding. cached counts their entries.
	trees  map[plumbing.Hash][]object.TreeEntry
	cached int
}

func newTreeWriter(s storer.EncodedObjectStorer) *treeWriter {
	return &treeWriter{s: s, trees: map[plumbing.Hash][]object.TreeEntry{}}
}

// entries returns the entries of tree h (none for the zero hash).
func (w *treeWriter) entries(h plumbing.Hash) ([]object.TreeEntry, error) {
	if h.IsZero() {
		return nil, nil
	}
	if e, ok := w.trees[h]; ok {
		return e, nil
	}
	t, err := object.GetTree(w.s, h)
	if err != nil {
		return nil, fmt.Errorf("read tree %s: %w", h, err)
	}
	w.remember(h, t.Entries)
	return t.Entries, nil
}

func (w *treeWriter) remember(h plumbing.Hash, e []object.TreeEntry) {
	if len(w.trees) >= maxCachedTrees || w.cached+len(e) > maxCachedEntries {
		clear(w.trees)
		w.cached = 0
	}
	if old, ok := w.trees[h]; ok {
		w.cached -= len(old)
	}
	w.trees[h] = e
	w.cached += len(e)
}

// forget drops tree h from the cache: a commit replaced it, and the next
// edits build on its replacement. Each commit of one file in a directory
// of 50,000 left a decoded copy of that directory (2 MB) in the cache
// until it filled (BenchmarkPublishGrowth).
func (w *treeWriter) forget(h plumbing.Hash) {
	if old, ok := w.trees[h]; ok {
		w.cached -= len(old)
		delete(w.trees, h)
	}
}

// lookup returns the entry at p (slash-separated) below tree h.
func (w *treeWriter) lookup(h plumbing.Hash, p []string) (object.TreeEntry, bool, error) {
	cur := object.TreeEntry{Hash: h, Mode: filemode.Dir}
	for _, name := range p {
		if cur.Mode != filemode.Dir {
			return object.TreeEntry{}, false, nil
		}
		es, err := w.entries(cur.Hash)
		if err != nil {
			return object.TreeEntry{}, false, err
		}
		i, ok := slices.BinarySearchFunc(es, name, func(e object.TreeEntry, n string) int { return cmpGitName(e.Name, e.Mode == filemode.Dir, n, true) })
		if !ok {
			// The name sorts differently as a file than as a directory.
			i, ok = slices.BinarySearchFunc(es, name, func(e object.TreeEntry, n string) int { return cmpGitName(e.Name, e.Mode == filemode.Dir, n, false) })
		}
		if !ok {
			return object.TreeEntry{}, false, nil
		}
		cur = es[i]
	}
	return cur, true, nil
}

// apply returns the hash of tree h with edits applied (paths relative to
// h); ZeroHash when the result is empty, as Git has no empty directories.
// It sorts edits.
func (w *treeWriter) apply(h plumbing.Hash, edits []edit) (plumbing.Hash, error) {
	slices.SortFunc(edits, func(a, b edit) int { return cmpByComponent(a.path, b.path) })
	return w.applySorted(h, edits, 0)
}

// applySorted applies edits sorted by cmpByComponent, whose paths below h
// all start at byte off: the edits of one entry of h are then contiguous, and
// each level passes a sub-slice down instead of copying the edits (a first
// commit of 100,000 files has 100,000 edits at every level).
func (w *treeWriter) applySorted(h plumbing.Hash, edits []edit, off int) (plumbing.Hash, error) {
	if len(edits) == 0 {
		return h, nil
	}
	old, err := w.entries(h)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	entries := slices.Clone(old)
	removed := 0
	for len(edits) > 0 {
		// One entry's edits: the file at name (first, if any), then
		// everything below name/.
		name, _, _ := strings.Cut(edits[0].path[off:], "/")
		n := 1
		for n < len(edits) && firstComponent(edits[n].path[off:]) == name {
			n++
		}
		group := edits[:n]
		edits = edits[n:]
		var direct *edit
		if len(group[0].path)-off == len(name) {
			direct, group = &group[0], group[1:]
		}
		if len(group) > 0 && group[0].path[off+len(name):] == "" {
			return plumbing.ZeroHash, fmt.Errorf("path %q is edited twice", group[0].path)
		}
		if direct != nil && len(group) > 0 {
			switch {
			case direct.hash.IsZero():
				// A file removed and a directory created in its place.
				direct = nil
			case onlyRemovals(group):
				// A directory removed and a file created in its place.
				group = nil
			default:
				return plumbing.ZeroHash, fmt.Errorf("path %q is both a file and a directory", direct.path)
			}
		}
		i, found := findEntry(old, name)
		var ne object.TreeEntry
		if direct != nil {
			ne = object.TreeEntry{Name: name, Mode: direct.mode, Hash: direct.hash}
		} else {
			base := plumbing.ZeroHash
			if found && old[i].Mode == filemode.Dir {
				base = old[i].Hash
			}
			nh, err := w.applySorted(base, group, off+len(name)+1)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			ne = object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: nh}
		}
		switch {
		case found && ne.Hash.IsZero():
			entries[i].Name, removed = "", removed+1 // dropped below
		case found:
			entries[i] = ne
		case !ne.Hash.IsZero():
			entries = append(entries, ne)
		}
	}
	if removed > 0 {
		entries = slices.DeleteFunc(entries, func(e object.TreeEntry) bool { return e.Name == "" })
	}
	if len(entries) == 0 {
		return plumbing.ZeroHash, nil
	}
	nh, err := w.write(entries)
	if err == nil && !h.IsZero() && nh != h {
		if rec, ok := w.s.(*written); ok {
			rec.deltaBase(nh, h) // a push may send nh as a delta (thinpack.go)
		}
		w.forget(h)
	}
	return nh, err
}

// findEntry finds name in entries sorted in Git's order, as a file or as a
// directory (the two sort differently).
func findEntry(es []object.TreeEntry, name string) (int, bool) {
	i, ok := slices.BinarySearchFunc(es, name, func(e object.TreeEntry, n string) int { return cmpGitName(e.Name, e.Mode == filemode.Dir, n, true) })
	if !ok {
		i, ok = slices.BinarySearchFunc(es, name, func(e object.TreeEntry, n string) int { return cmpGitName(e.Name, e.Mode == filemode.Dir, n, false) })
	}
	return i, ok
}

func firstComponent(p string) string {
	name, _, _ := strings.Cut(p, "/")
	return name
}

// cmpByComponent orders slash-separated paths component by component, so
// that a path and everything below it are contiguous ("a", "a/x", "a-b";
// plain byte order would put "a-b" between "a" and "a/x").
func cmpByComponent(a, b string) int {
	for {
		an, arest, amore := strings.Cut(a, "/")
		bn, brest, bmore := strings.Cut(b, "/")
		if c := cmp.Compare(an, bn); c != 0 {
			return c
		}
		switch {
		case !amore && !bmore:
			return 0
		case !amore:
			return -1
		case !bmore:
			return 1
		}
		a, b = arest, brest
	}
}

func onlyRemovals(edits []edit) bool {
	for _, e := range edits {
		if !e.hash.IsZero() {
			return false
		}
	}
	return true
}

// write stores a tree with entries in Git's order.
func (w *treeWriter) write(entries []object.TreeEntry) (plumbing.Hash, error) {
	slices.SortFunc(entries, func(a, b object.TreeEntry) int {
		return cmpGitName(a.Name, a.Mode == filemode.Dir, b.Name, b.Mode == filemode.Dir)
	})
	if cap(entries) > len(entries)+len(entries)/4 {
		entries = slices.Clone(entries) // the cache keeps it: no spare room
	}
	b, err := encodeTree(entries)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("encode tree: %w", err)
	}
	h, err := w.s.SetEncodedObject(newTreeObject(b))
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("store tree: %w", err)
	}
	w.remember(h, entries)
	return h, nil
}

// cmpGitName orders tree entries as Git does: a directory sorts as if its
// name ended in '/'. It allocates nothing, which matters in large trees.
func cmpGitName(a string, aDir bool, b string, bDir bool) int {
	n := min(len(a), len(b))
	if c := cmp.Compare(a[:n], b[:n]); c != 0 {
		return c
	}
	return cmp.Compare(nextByte(a, n, aDir), nextByte(b, n, bDir))
}

func nextByte(s string, n int, dir bool) int {
	switch {
	case len(s) > n:
		return int(s[n])
	case dir:
		return '/'
	default:
		return 0
	}
}

// walkFiles calls fn for every file below tree h with its path relative to h.
func (w *treeWriter) walkFiles(h plumbing.Hash, prefix string, fn func(p string, e object.TreeEntry)) error {
	es, err := w.entries(h)
	if err != nil {
		return err
	}
	for _, e := range es {
		p := e.Name
		if prefix != "" {
			p = prefix + "/" + e.Name
		}
		if e.Mode == filemode.Dir {
			if err := w.walkFiles(e.Hash, p, fn); err != nil {
				return err
			}
			continue
		}
		fn(p, e)
	}
	return nil
}

// writeBlob stores content and returns its hash. The store keeps content
// itself, not a copy (see blobObject).
func writeBlob(s storer.EncodedObjectStorer, content []byte) (plumbing.Hash, error) {
	return s.SetEncodedObject(&blobObject{hash: plumbing.ComputeHash(plumbing.BlobObject, content), content: content})
}

// blobObject is a blob over the caller's bytes. go-git's in-memory object
// copies what is written to it; a first commit of 100,000 files would hold
// every file twice (the caller's and the store's) until the publish ends.
// Its name is computed with go-git's collision-detecting SHA-1, as go-git
// names the objects it writes.
type blobObject struct {
	hash    plumbing.Hash
	content []byte
}

func (o *blobObject) Hash() plumbing.Hash         { return o.hash }
func (o *blobObject) Type() plumbing.ObjectType   { return plumbing.BlobObject }
func (o *blobObject) SetType(plumbing.ObjectType) {}
func (o *blobObject) Size() int64                 { return int64(len(o.content)) }
func (o *blobObject) SetSize(int64)               {}
func (o *blobObject) Reader() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(o.content)), nil
}

// Writer refuses: a blobObject is made whole and never written to.
func (o *blobObject) Writer() (io.WriteCloser, error) {
	return nil, fmt.Errorf("blob %s is read-only", o.hash)
}

// blobHash is Git's name for content. It uses the standard library's SHA-1,
// several times faster than go-git's collision-detecting one: it only
// compares driftback's own rendered files with blobs already in the tree.
func blobHash(content []byte) plumbing.Hash {
	h := sha1.New()
	var hdr [32]byte
	b := append(hdr[:0], "blob "...)
	b = strconv.AppendInt(b, int64(len(content)), 10)
	b = append(b, 0)
	h.Write(b)
	h.Write(content)
	var out plumbing.Hash
	copy(out[:], h.Sum(nil))
	return out
}

// readBlobHash returns the content of blob h.
func readBlobHash(s storer.EncodedObjectStorer, h plumbing.Hash) ([]byte, error) {
	b, err := object.GetBlob(s, h)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", h, err)
	}
	r, err := b.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// readBlob returns the content of the file at p in tree.
func readBlob(tree *object.Tree, p string) ([]byte, error) {
	f, err := tree.File(path.Clean(p))
	if err != nil {
		return nil, err
	}
	r, err := f.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}
