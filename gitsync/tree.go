package gitsync

import (
	"cmp"
	"crypto/sha1"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// maxCachedTrees bounds the decoded trees kept between commits; past it the
// cache starts over (a repository of 100k files has a few thousand trees).
const maxCachedTrees = 20000

// edit is one change to a tree: put a blob or a whole tree at path, or
// remove what is there (zero hash).
type edit struct {
	path []string
	hash plumbing.Hash
	mode filemode.FileMode
}

// treeWriter edits Git trees by path copying: only the trees on the path of
// an edit are decoded and written again; every other entry is reused as it
// is, so the cost of a commit follows the number of changed files.
type treeWriter struct {
	s storer.EncodedObjectStorer
	// trees holds decoded trees by hash. Trees are immutable, so an entry
	// never goes stale; it only saves decoding.
	trees map[plumbing.Hash][]object.TreeEntry
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
	if len(w.trees) >= maxCachedTrees {
		clear(w.trees)
	}
	w.trees[h] = e
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
func (w *treeWriter) apply(h plumbing.Hash, edits []edit) (plumbing.Hash, error) {
	if len(edits) == 0 {
		return h, nil
	}
	old, err := w.entries(h)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	direct := map[string]edit{}
	nested := map[string][]edit{}
	for _, e := range edits {
		if len(e.path) == 1 {
			direct[e.path[0]] = e
			continue
		}
		nested[e.path[0]] = append(nested[e.path[0]], edit{path: e.path[1:], hash: e.hash, mode: e.mode})
	}
	for name, d := range direct {
		sub, both := nested[name]
		switch {
		case !both:
		case d.hash.IsZero():
			// A file removed and a directory created in its place.
			delete(direct, name)
		case onlyRemovals(sub):
			// A directory removed and a file created in its place.
			delete(nested, name)
		default:
			return plumbing.ZeroHash, fmt.Errorf("path %q is both a file and a directory", name)
		}
	}
	entries := make([]object.TreeEntry, 0, len(old)+len(direct)+len(nested))
	done := make(map[string]bool, len(direct)+len(nested))
	for _, en := range old {
		if e, ok := direct[en.Name]; ok {
			done[en.Name] = true
			if !e.hash.IsZero() {
				entries = append(entries, object.TreeEntry{Name: en.Name, Mode: e.mode, Hash: e.hash})
			}
			continue
		}
		if sub, ok := nested[en.Name]; ok {
			done[en.Name] = true
			base := plumbing.ZeroHash
			if en.Mode == filemode.Dir {
				base = en.Hash
			}
			nh, err := w.apply(base, sub)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			if !nh.IsZero() {
				entries = append(entries, object.TreeEntry{Name: en.Name, Mode: filemode.Dir, Hash: nh})
			}
			continue
		}
		entries = append(entries, en)
	}
	for name, e := range direct {
		if !done[name] && !e.hash.IsZero() {
			entries = append(entries, object.TreeEntry{Name: name, Mode: e.mode, Hash: e.hash})
		}
	}
	for name, sub := range nested {
		if done[name] {
			continue
		}
		nh, err := w.apply(plumbing.ZeroHash, sub)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if !nh.IsZero() {
			entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: nh})
		}
	}
	if len(entries) == 0 {
		return plumbing.ZeroHash, nil
	}
	return w.write(entries)
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
	t := &object.Tree{Entries: entries}
	o := w.s.NewEncodedObject()
	if err := t.Encode(o); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("encode tree: %w", err)
	}
	h, err := w.s.SetEncodedObject(o)
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

// writeBlob stores content and returns its hash.
func writeBlob(s storer.EncodedObjectStorer, content []byte) (plumbing.Hash, error) {
	o := s.NewEncodedObject()
	o.SetType(plumbing.BlobObject)
	o.SetSize(int64(len(content)))
	w, err := o.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(content); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(o)
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
