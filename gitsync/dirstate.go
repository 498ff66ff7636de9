package gitsync

import (
	"fmt"
	"hash/maphash"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// fileState is what driftback knows of one file of Dir.
type fileState struct {
	blob plumbing.Hash
	// sum is a fast in-process hash of the content whose blob is blob; it
	// lets a repeated whole-map publish skip Git's SHA-1 for unchanged files.
	sum    uint64
	hasSum bool
}

// dirState is the last known listing of Dir: the tree hash and, per file,
// its blob. It is only trusted for the tree hash it was made for; a parent
// whose Dir differs (a restart, another writer) reloads it from the tree,
// keeping the sums of blobs that did not change.
type dirState struct {
	hash  plumbing.Hash
	valid bool
	files map[string]fileState
}

var sumSeed = maphash.MakeSeed()

func contentSum(b []byte) uint64 { return maphash.Bytes(sumSeed, b) }

// load makes the state describe dir tree h.
func (d *dirState) load(w *treeWriter, h plumbing.Hash) error {
	if d.valid && d.hash == h {
		return nil
	}
	old := d.files
	files := make(map[string]fileState, len(old))
	err := w.walkFiles(h, "", func(p string, e object.TreeEntry) {
		fs := fileState{blob: e.Hash}
		if o, ok := old[p]; ok && o.blob == e.Hash {
			fs = o
		}
		files[p] = fs
	})
	if err != nil {
		d.valid = false
		return err
	}
	d.files, d.hash, d.valid = files, h, true
	return nil
}

// pending is a change to Dir about to be committed.
type pending struct {
	path string
	op   Op
	old  plumbing.Hash
	new  []byte
	sum  uint64
}

// diffWhole compares the whole content of Dir with the loaded state.
func (d *dirState) diffWhole(files map[string][]byte) ([]pending, error) {
	var out []pending
	if len(d.files) == 0 {
		// A first commit adds every file: one allocation, not a doubling
		// slice that holds up to twice 100,000 entries while it grows.
		out = make([]pending, 0, len(files))
	}
	for p, content := range files {
		s := contentSum(content)
		fs, ok := d.files[p]
		switch {
		case !ok:
			// Paths already in the tree are valid; only new ones are checked.
			if err := validPath(p); err != nil {
				return nil, err
			}
			out = append(out, pending{path: p, op: Added, new: content, sum: s})
		case fs.hasSum && fs.sum == s:
		case !fs.hasSum && blobHash(content) == fs.blob:
			fs.sum, fs.hasSum = s, true
			d.files[p] = fs
		default:
			out = append(out, pending{path: p, op: Modified, old: fs.blob, new: content, sum: s})
		}
	}
	if len(files) < len(d.files) || len(out) > 0 {
		for p, fs := range d.files {
			if _, ok := files[p]; !ok {
				out = append(out, pending{path: p, op: Deleted, old: fs.blob})
			}
		}
	}
	return out, nil
}

// diffUpdate turns a delta into changes against Dir's tree h, looking each
// path up in the tree (the state may be stale for h).
func diffUpdate(w *treeWriter, h plumbing.Hash, u *Update) ([]pending, error) {
	var out []pending
	for p, content := range u.Changed {
		if err := validPath(p); err != nil {
			return nil, err
		}
		e, ok, err := w.lookup(h, strings.Split(p, "/"))
		if err != nil {
			return nil, err
		}
		switch {
		case !ok || e.Mode == filemode.Dir:
			out = append(out, pending{path: p, op: Added, new: content, sum: contentSum(content)})
		case blobHash(content) != e.Hash:
			out = append(out, pending{path: p, op: Modified, old: e.Hash, new: content, sum: contentSum(content)})
		}
	}
	for _, p := range u.Removed {
		if err := validPath(p); err != nil {
			return nil, err
		}
		if _, both := u.Changed[p]; both {
			return nil, fmt.Errorf("update: %q is both changed and removed", p)
		}
		e, ok, err := w.lookup(h, strings.Split(p, "/"))
		if err != nil {
			return nil, err
		}
		if ok && e.Mode != filemode.Dir {
			out = append(out, pending{path: p, op: Deleted, old: e.Hash})
		}
	}
	return out, nil
}

// commitDir writes the blobs of changes and returns Dir's new tree hash.
func commitDir(w *treeWriter, h plumbing.Hash, changes []pending) (plumbing.Hash, []plumbing.Hash, error) {
	edits := make([]edit, len(changes))
	blobs := make([]plumbing.Hash, len(changes))
	for i, c := range changes {
		e := edit{path: c.path, mode: filemode.Regular}
		if c.op != Deleted {
			b, err := writeBlob(w.s, c.new)
			if err != nil {
				return plumbing.ZeroHash, nil, fmt.Errorf("store %s: %w", c.path, err)
			}
			e.hash, blobs[i] = b, b
		}
		edits[i] = e
	}
	nh, err := w.apply(h, edits)
	return nh, blobs, err
}

// record updates the state after Dir moved from tree from to tree to by
// changes; a state that did not describe from stays untrusted. After a
// delta (whole false) it is dropped instead: a caller that hands gitsync
// deltas (writeback's incremental path, follow) has no use for a listing
// of every file, which at 100,000 files held ≈ 12 MB for the life of the
// process (its map and every path; BenchmarkPublishGrowth's repo-MB). A
// whole-map publish after it loads the listing from the tree again.
//
// A directory's first commit (from the empty tree) is not recorded either:
// its listing would be every file of it, held through the rest of the
// publish, the largest (BenchmarkPublishFirstCommit's peak-heap-MB and
// retained-MB), for a second whole-map publish that may never come.
func (d *dirState) record(from, to plumbing.Hash, changes []pending, blobs []plumbing.Hash, whole bool) {
	if !whole || from.IsZero() {
		d.files, d.valid = nil, false
		return
	}
	if !d.valid || d.hash != from {
		d.valid = false
		return
	}
	for i, c := range changes {
		if c.op == Deleted {
			delete(d.files, c.path)
			continue
		}
		d.files[c.path] = fileState{blob: blobs[i], sum: c.sum, hasSum: true}
	}
	d.hash = to
}

// validPath accepts clean, relative, slash-separated file paths.
func validPath(p string) error {
	for part := range strings.SplitSeq(p, "/") {
		if part == "" || part == "." || part == ".." || isDotGit(part) {
			return fmt.Errorf("invalid path %q in file tree: want a clean relative path such as patches/ns/x.yaml", p)
		}
	}
	return nil
}

func sortPending(ch []pending) {
	sort.Slice(ch, func(i, j int) bool { return ch[i].path < ch[j].path })
}
