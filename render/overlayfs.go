package render

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// overlayFS is the kustomize file system krusty builds on: the rendered tree
// at dir, laid over a read-only base (the rest of the repository), under
// what krusty writes itself (mem). Reads of the tree and of the base are
// lazy, so a build touches only the files the kustomizations reference:
// the tree is not copied into a file system of its own (a first commit of
// 100,000 files whose kustomization lists none of them, only status/ and
// unmatched/ files, read two; issue 15, item 2).
type overlayFS struct {
	mem  filesys.FileSystem // anything krusty writes; read first
	tree Tree
	// root is the tree's directory as an absolute path ("/" for the
	// repository's root).
	root string
	// dirs are the tree's directories, relative to root ("." included).
	dirs map[string]bool
	base fs.FS // may be nil
}

var _ filesys.FileSystem = overlayFS{}

func newOverlayFS(base fs.FS, dir string, t Tree) (overlayFS, error) {
	o := overlayFS{mem: filesys.MakeFsInMemory(), tree: t, root: path.Join("/", dir), dirs: map[string]bool{}, base: base}
	for p := range t {
		if !fs.ValidPath(p) || p == "." {
			return overlayFS{}, fmt.Errorf("rendered file %q: not a relative path", p)
		}
		for d := path.Dir(p); !o.dirs[d]; d = path.Dir(d) {
			o.dirs[d] = true
			if d == "." {
				break
			}
		}
	}
	return o, nil
}

// treeRel returns p relative to the tree's directory, when it is in it.
func (o overlayFS) treeRel(p string) (string, bool) {
	p = path.Clean(path.Join("/", filepath.ToSlash(p)))
	if p == o.root {
		return ".", true
	}
	if o.root == "/" {
		return p[1:], true
	}
	return strings.CutPrefix(p, o.root+"/")
}

// treeFile returns a file of the tree.
func (o overlayFS) treeFile(p string) ([]byte, bool) {
	r, ok := o.treeRel(p)
	if !ok {
		return nil, false
	}
	b, ok := o.tree[r]
	return b, ok
}

// treeDir reports whether p is a directory of the tree or one above it.
func (o overlayFS) treeDir(p string) bool {
	if len(o.dirs) == 0 {
		return false
	}
	if r, ok := o.treeRel(p); ok {
		return o.dirs[r]
	}
	p = path.Clean(path.Join("/", filepath.ToSlash(p)))
	return p == "/" || strings.HasPrefix(o.root, p+"/")
}

// treeNames lists the names directly in a directory of the tree (or one
// above it).
func (o overlayFS) treeNames(p string) []string {
	if !o.treeDir(p) {
		return nil
	}
	r, ok := o.treeRel(p)
	if !ok {
		// Above the tree: the next name on the way down to it.
		p = path.Clean(path.Join("/", filepath.ToSlash(p)))
		rest := strings.TrimPrefix(o.root, strings.TrimSuffix(p, "/")+"/")
		name, _, _ := strings.Cut(rest, "/")
		return []string{name}
	}
	prefix := ""
	if r != "." {
		prefix = r + "/"
	}
	seen := map[string]bool{}
	var out []string
	for f := range o.tree {
		rest, ok := strings.CutPrefix(f, prefix)
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(rest, "/")
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}

// rel converts a kustomize path (absolute, rooted at the repository) to an
// io/fs name.
func rel(p string) string {
	p = strings.TrimPrefix(path.Clean(filepath.ToSlash(p)), "/")
	if p == "" {
		return "."
	}
	return p
}

func (o overlayFS) baseStat(p string) (fs.FileInfo, bool) {
	if o.base == nil {
		return nil, false
	}
	fi, err := fs.Stat(o.base, rel(p))
	return fi, err == nil
}

func (o overlayFS) Create(p string) (filesys.File, error) { return o.mem.Create(p) }
func (o overlayFS) Mkdir(p string) error                  { return o.mem.Mkdir(p) }
func (o overlayFS) MkdirAll(p string) error               { return o.mem.MkdirAll(p) }
func (o overlayFS) RemoveAll(p string) error              { return o.mem.RemoveAll(p) }
func (o overlayFS) WriteFile(p string, b []byte) error    { return o.mem.WriteFile(p, b) }

func (o overlayFS) memFile(p string) bool { return o.mem.Exists(p) && !o.mem.IsDir(p) }

func (o overlayFS) Open(p string) (filesys.File, error) {
	if o.memFile(p) {
		return o.mem.Open(p)
	}
	// A file of the tree or the base, in a file system of its own.
	b, err := o.ReadFile(p)
	if err != nil {
		return nil, err
	}
	tmp := filesys.MakeFsInMemory()
	if err := tmp.WriteFile(p, b); err != nil {
		return nil, err
	}
	return tmp.Open(p)
}

func (o overlayFS) ReadFile(p string) ([]byte, error) {
	if o.memFile(p) {
		return o.mem.ReadFile(p)
	}
	if b, ok := o.treeFile(p); ok {
		return b, nil
	}
	if o.base == nil {
		return nil, &fs.PathError{Op: "read", Path: p, Err: fs.ErrNotExist}
	}
	return fs.ReadFile(o.base, rel(p))
}

func (o overlayFS) IsDir(p string) bool {
	if o.mem.IsDir(p) || o.treeDir(p) {
		return true
	}
	fi, ok := o.baseStat(p)
	return ok && fi.IsDir()
}

func (o overlayFS) Exists(p string) bool {
	if o.mem.Exists(p) || o.treeDir(p) {
		return true
	}
	if _, ok := o.treeFile(p); ok {
		return true
	}
	_, ok := o.baseStat(p)
	return ok
}

func (o overlayFS) ReadDir(p string) ([]string, error) {
	names := map[string]bool{}
	found := false
	if o.mem.IsDir(p) {
		found = true
		ns, err := o.mem.ReadDir(p)
		if err != nil {
			return nil, err
		}
		for _, n := range ns {
			names[n] = true
		}
	}
	if o.treeDir(p) {
		found = true
		for _, n := range o.treeNames(p) {
			names[n] = true
		}
	}
	if o.base != nil {
		es, err := fs.ReadDir(o.base, rel(p))
		if err == nil {
			found = true
			for _, e := range es {
				names[e.Name()] = true
			}
		}
	}
	if !found {
		return nil, &fs.PathError{Op: "readdir", Path: p, Err: fs.ErrNotExist}
	}
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

func (o overlayFS) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	p = path.Join("/", filepath.ToSlash(p))
	if !o.Exists(p) {
		return "", "", &fs.PathError{Op: "stat", Path: p, Err: fs.ErrNotExist}
	}
	if o.IsDir(p) {
		return filesys.ConfirmedDir(p), "", nil
	}
	return filesys.ConfirmedDir(path.Dir(p)), path.Base(p), nil
}

func (o overlayFS) Glob(pattern string) ([]string, error) {
	found := map[string]bool{}
	ms, err := o.mem.Glob(pattern)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		found[m] = true
	}
	// The tree's files as filesys's in-memory Glob lists its own: files
	// only, hidden ones only for a hidden pattern.
	var treeMatches []string
	for f := range o.tree {
		p := path.Join(o.root, f)
		ok, err := filepath.Match(pattern, p)
		if err != nil {
			return nil, err
		}
		if ok {
			treeMatches = append(treeMatches, p)
		}
	}
	if !filesys.IsHiddenFilePath(pattern) {
		treeMatches = filesys.RemoveHiddenFiles(treeMatches)
	}
	for _, m := range treeMatches {
		found[m] = true
	}
	if o.base != nil {
		bs, err := fs.Glob(o.base, rel(pattern))
		if err != nil {
			return nil, err
		}
		for _, b := range bs {
			found["/"+b] = true
		}
	}
	out := make([]string, 0, len(found))
	for m := range found {
		out = append(out, m)
	}
	sort.Strings(out)
	return out, nil
}

func (o overlayFS) Walk(root string, fn filepath.WalkFunc) error {
	err := o.walk(path.Join("/", root), fn)
	if errors.Is(err, filepath.SkipDir) || errors.Is(err, filepath.SkipAll) {
		return nil
	}
	return err
}

func (o overlayFS) walk(p string, fn filepath.WalkFunc) error {
	if !o.IsDir(p) {
		return fn(p, fileInfo{name: path.Base(p)}, nil)
	}
	if err := fn(p, fileInfo{name: path.Base(p), dir: true}, nil); err != nil {
		return err
	}
	names, err := o.ReadDir(p)
	if err != nil {
		return fn(p, nil, err)
	}
	for _, n := range names {
		err := o.walk(path.Join(p, n), fn)
		if errors.Is(err, filepath.SkipDir) {
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// fileInfo is the little Walk callers of krusty look at: name and IsDir.
type fileInfo struct {
	name string
	dir  bool
}

func (f fileInfo) Name() string { return f.name }
func (f fileInfo) Size() int64  { return 0 }
func (f fileInfo) Mode() os.FileMode {
	if f.dir {
		return os.ModeDir | 0o755
	}
	return 0o644
}
func (f fileInfo) ModTime() time.Time { return time.Time{} }
func (f fileInfo) IsDir() bool        { return f.dir }
func (f fileInfo) Sys() any           { return nil }
