package gitsync

import (
	"bytes"
	"io"
	"io/fs"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// treeFSOf is a read-only io/fs view of a Git tree; nil is an empty tree.
func treeFSOf(t *object.Tree) fs.FS { return treeFS{root: t} }

// treeFS reads its trees and blobs from the Repo's object storage, which
// go-git's in-memory storage does not guard: a view handed out by a
// reader (ReadBranch) holds the Repo's lock while it reads, so it never
// reads while a publish, a follower's fetch or another reader writes
// objects. The parent a Prepare callback gets is read under the lock the
// publish already holds (lock nil).
type treeFS struct {
	root *object.Tree
	lock *sync.Mutex
}

// locked is the view of t for a caller that does not hold r.mu.
func (r *Repo) locked(t *object.Tree) fs.FS { return treeFS{root: t, lock: &r.mu} }

func (t treeFS) Open(name string) (fs.File, error) {
	if t.lock != nil {
		t.lock.Lock()
		defer t.lock.Unlock()
	}
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if t.root == nil {
		if name == "." {
			return &dirFile{info: entryInfo{name: ".", mode: filemode.Dir}}, nil
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if name == "." {
		return &dirFile{info: entryInfo{name: ".", mode: filemode.Dir}, tree: t.root}, nil
	}
	e, err := t.root.FindEntry(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if e.Mode == filemode.Dir {
		sub, err := t.root.Tree(name)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &dirFile{info: entryInfo{name: e.Name, mode: e.Mode}, tree: sub}, nil
	}
	b, err := readBlob(t.root, name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &blobFile{info: entryInfo{name: e.Name, mode: e.Mode, size: int64(len(b))}, r: bytes.NewReader(b)}, nil
}

type entryInfo struct {
	name string
	mode filemode.FileMode
	size int64
}

func (e entryInfo) Name() string { return e.name }
func (e entryInfo) Size() int64  { return e.size }
func (e entryInfo) Mode() fs.FileMode {
	if e.mode == filemode.Dir {
		return fs.ModeDir | 0o755
	}
	m, _ := e.mode.ToOSFileMode()
	return m
}
func (e entryInfo) ModTime() time.Time         { return time.Time{} }
func (e entryInfo) IsDir() bool                { return e.mode == filemode.Dir }
func (e entryInfo) Sys() any                   { return nil }
func (e entryInfo) Type() fs.FileMode          { return e.Mode().Type() }
func (e entryInfo) Info() (fs.FileInfo, error) { return e, nil }

type blobFile struct {
	info entryInfo
	r    *bytes.Reader
}

func (f *blobFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *blobFile) Read(b []byte) (int, error) { return f.r.Read(b) }
func (f *blobFile) Close() error               { return nil }

type dirFile struct {
	info entryInfo
	tree *object.Tree
	pos  int
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: fs.ErrInvalid}
}
func (d *dirFile) Close() error { return nil }

func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	var entries []object.TreeEntry
	if d.tree != nil {
		entries = d.tree.Entries[d.pos:]
	}
	if n > 0 && len(entries) > n {
		entries = entries[:n]
	}
	if n > 0 && len(entries) == 0 {
		return nil, io.EOF
	}
	d.pos += len(entries)
	out := make([]fs.DirEntry, len(entries))
	for i, e := range entries {
		out[i] = entryInfo{name: e.Name, mode: e.Mode}
	}
	return out, nil
}
