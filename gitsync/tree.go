package gitsync

import (
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

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

// writeTree stores a tree with entries in Git's order (directories sort as
// if their name ended in '/').
func writeTree(s storer.EncodedObjectStorer, entries []object.TreeEntry) (plumbing.Hash, error) {
	sort.Slice(entries, func(i, j int) bool { return entrySortKey(entries[i]) < entrySortKey(entries[j]) })
	t := &object.Tree{Entries: entries}
	o := s.NewEncodedObject()
	if err := t.Encode(o); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(o)
}

func entrySortKey(e object.TreeEntry) string {
	if e.Mode == filemode.Dir {
		return e.Name + "/"
	}
	return e.Name
}

// buildTree stores files (slash-separated paths) as a tree and returns its
// hash; ZeroHash for no files.
func buildTree(s storer.EncodedObjectStorer, files map[string][]byte) (plumbing.Hash, error) {
	if len(files) == 0 {
		return plumbing.ZeroHash, nil
	}
	subdirs := map[string]map[string][]byte{}
	var entries []object.TreeEntry
	for p, content := range files {
		first, rest, isDir := strings.Cut(p, "/")
		if first == "" || first == "." || first == ".." {
			return plumbing.ZeroHash, fmt.Errorf("invalid path %q in file tree", p)
		}
		if isDir {
			if subdirs[first] == nil {
				subdirs[first] = map[string][]byte{}
			}
			subdirs[first][rest] = content
			continue
		}
		h, err := writeBlob(s, content)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("store %s: %w", p, err)
		}
		entries = append(entries, object.TreeEntry{Name: first, Mode: filemode.Regular, Hash: h})
	}
	for name, sub := range subdirs {
		h, err := buildTree(s, sub)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
	}
	return writeTree(s, entries)
}

// replaceAt returns the hash of root with the entry at dir replaced by sub
// (removed when sub is ZeroHash). Every other entry is reused as it is, so
// unchanged subtrees cost nothing. root may be nil (no parent commit).
func replaceAt(s storer.EncodedObjectStorer, root *object.Tree, dir []string, sub plumbing.Hash) (plumbing.Hash, error) {
	var entries []object.TreeEntry
	var child *object.Tree
	if root != nil {
		for _, e := range root.Entries {
			if e.Name == dir[0] {
				if e.Mode == filemode.Dir && len(dir) > 1 {
					t, err := object.GetTree(s, e.Hash)
					if err != nil {
						return plumbing.ZeroHash, fmt.Errorf("read tree %s: %w", dir[0], err)
					}
					child = t
				}
				continue
			}
			entries = append(entries, e)
		}
	}
	h := sub
	if len(dir) > 1 {
		var err error
		if h, err = replaceAt(s, child, dir[1:], sub); err != nil {
			return plumbing.ZeroHash, err
		}
	}
	if !h.IsZero() {
		entries = append(entries, object.TreeEntry{Name: dir[0], Mode: filemode.Dir, Hash: h})
	}
	if len(entries) == 0 {
		return plumbing.ZeroHash, nil
	}
	return writeTree(s, entries)
}

// readDir returns the files below dir in tree (paths relative to dir).
func readDir(tree *object.Tree, dir string) (map[string]plumbing.Hash, error) {
	out := map[string]plumbing.Hash{}
	if tree == nil {
		return out, nil
	}
	sub, err := tree.Tree(dir)
	if err == object.ErrDirectoryNotFound {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	err = sub.Files().ForEach(func(f *object.File) error {
		out[f.Name] = f.Hash
		return nil
	})
	return out, err
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
