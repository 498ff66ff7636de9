package gitsync

import (
	"bytes"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// A thin pack sends a rewritten tree as a delta against the tree it
// replaces, which the server has (the parent's: see written), instead of
// whole. One changed file in a directory of 50,000 status files rewrites a
// 3.4 MB tree; compressing it for every push was most of a one-object
// commit's cost at that size (issue 15), and the delta is a few bytes per
// changed entry. git push sends thin packs too; receive-pack resolves a
// REF_DELTA whose base it holds (unpack-objects, index-pack --fix-thin)
// unless it advertises no-thin.

// thinMinBase is the smallest base worth a delta: below it the tree is
// sent whole, as go-git's encoder would. A delta saves upload but costs the
// server: index-pack reads the base, often itself stored as a delta in a
// chain after the server's repack, to resolve it. With 50,000 objects of a
// kind, its bucket trees are ≈ 10 KB, and a commit of 250 changed files
// rewrites ≈ 165 of them: as deltas, git http-backend took 280 ms per push
// (124 ms of it resolving them, GIT_TRACE2_PERF), sent whole 160 ms, for
// ≈ 750 KB more upload (a scratch test over a repacked 100,000-file
// repository, 2026-11-27). Whole, up to 16 KiB (a bucket of ≈ 400 files,
// a kind of ≈ 100,000 objects), costs at most 16 KiB a tree.
const thinMinBase = 16 << 10

// thinDelta is tree content as a delta against base (a tree the server
// holds), when base is one, large enough to be worth it, and the delta is
// under half the tree.
func thinDelta(s storer.EncodedObjectStorer, typ plumbing.ObjectType, content []byte, base plumbing.Hash) ([]byte, bool) {
	if base.IsZero() || typ != plumbing.TreeObject {
		return nil, false
	}
	bt, b, err := readObject(s, base)
	if err != nil || bt != plumbing.TreeObject || len(b) < thinMinBase {
		return nil, false
	}
	d, ok := treeDelta(b, content)
	return d, ok && len(d) < len(content)/2
}

func readObject(s storer.EncodedObjectStorer, h plumbing.Hash) (plumbing.ObjectType, []byte, error) {
	o, err := s.EncodedObject(plumbing.AnyObject, h)
	if err != nil {
		return 0, nil, fmt.Errorf("read object %s: %w", h, err)
	}
	if v, ok := o.(*storedView); ok {
		return v.typ, v.content, nil // no copy (objects.go)
	}
	if b, ok := o.(*blobObject); ok {
		return o.Type(), b.content, nil // no copy of what this process wrote
	}
	if t, ok := o.(*treeObject); ok {
		return o.Type(), t.content, nil
	}
	r, err := o.Reader()
	if err != nil {
		return 0, nil, fmt.Errorf("read object %s: %w", h, err)
	}
	defer r.Close()
	// At its size: a bytes.Buffer grown to the size doubles once more.
	b := make([]byte, o.Size())
	if _, err := io.ReadFull(r, b); err != nil {
		return 0, nil, fmt.Errorf("read object %s: %w", h, err)
	}
	return o.Type(), b, nil
}

// appendEntryHeader is a pack entry's type and size: the type in bits 4-6
// of the first byte, the size in its low 4 bits and then 7 bits a byte,
// each byte but the last with its high bit set.
func appendEntryHeader(b []byte, typ plumbing.ObjectType, size int) []byte {
	c := byte(typ)<<4 | byte(size&0x0f)
	size >>= 4
	for size > 0 {
		b = append(b, c|0x80)
		c = byte(size & 0x7f)
		size >>= 7
	}
	return append(b, c)
}

// treeDelta is a Git delta turning tree base into tree target, both
// encoded trees in Git's order: the entries they share are copied from the
// base, the others inserted. ok is false when either does not parse.
func treeDelta(base, target []byte) ([]byte, bool) {
	d := appendDeltaSize(nil, len(base))
	d = appendDeltaSize(d, len(target))
	copyAt, copyLen := 0, 0 // the pending copy from base
	insAt, insLen := 0, 0   // the pending insert from target
	flushCopy := func() {
		d = appendCopies(d, copyAt, copyLen)
		copyLen = 0
	}
	flushInsert := func() {
		d = appendInserts(d, target[insAt:insAt+insLen])
		insLen = 0
	}
	bi, ti := 0, 0
	for ti < len(target) {
		te, tname, tdir, ok := nextTreeEntry(target, ti)
		if !ok {
			return nil, false
		}
		// Entries of base sorting before this one are gone.
		same := false
		for bi < len(base) {
			be, bname, bdir, ok := nextTreeEntry(base, bi)
			if !ok {
				return nil, false
			}
			c := cmpGitNameBytes(bname, bdir, tname, tdir)
			if c < 0 {
				bi = be
				continue
			}
			if c == 0 {
				same = bytes.Equal(base[bi:be], target[ti:te])
				if same {
					if insLen > 0 {
						flushInsert()
					}
					if copyLen > 0 && copyAt+copyLen != bi {
						flushCopy()
					}
					if copyLen == 0 {
						copyAt = bi
					}
					copyLen += be - bi
				}
				bi = be
			}
			break
		}
		if !same {
			if copyLen > 0 {
				flushCopy()
			}
			if insLen == 0 {
				insAt = ti
			}
			insLen += te - ti
		}
		ti = te
	}
	if copyLen > 0 {
		flushCopy()
	}
	if insLen > 0 {
		flushInsert()
	}
	return d, true
}

// nextTreeEntry parses the tree entry at i of b ("mode name\0" and a
// 20-byte hash): where the next begins, its name, and whether it is a
// directory.
func nextTreeEntry(b []byte, i int) (end int, name []byte, dir bool, ok bool) {
	sp := bytes.IndexByte(b[i:], ' ')
	if sp < 0 {
		return 0, nil, false, false
	}
	nul := bytes.IndexByte(b[i+sp+1:], 0)
	if nul < 0 {
		return 0, nil, false, false
	}
	end = i + sp + 1 + nul + 1 + len(plumbing.ZeroHash)
	if end > len(b) {
		return 0, nil, false, false
	}
	return end, b[i+sp+1 : i+sp+1+nul], string(b[i:i+sp]) == "40000", true
}

// cmpGitNameBytes is cmpGitName over bytes.
func cmpGitNameBytes(a []byte, aDir bool, b []byte, bDir bool) int {
	n := min(len(a), len(b))
	if c := bytes.Compare(a[:n], b[:n]); c != 0 {
		return c
	}
	next := func(s []byte, dir bool) int {
		switch {
		case len(s) > n:
			return int(s[n])
		case dir:
			return '/'
		default:
			return 0
		}
	}
	na, nb := next(a, aDir), next(b, bDir)
	switch {
	case na < nb:
		return -1
	case na > nb:
		return 1
	}
	return 0
}

// appendDeltaSize is a size in a delta's header: 7 bits a byte, least
// significant first, each byte but the last with its high bit set.
func appendDeltaSize(b []byte, n int) []byte {
	for n >= 0x80 {
		b = append(b, byte(n)|0x80)
		n >>= 7
	}
	return append(b, byte(n))
}

// maxCopy is the most one copy instruction moves here (as go-git and Git
// write them; the format allows more).
const maxCopy = 0x10000

// appendCopies copies n bytes of the base from at: each instruction is
// 0x80 with a bit per offset byte (bits 0-3) and size byte (bits 4-6)
// present, then those bytes, least significant first; a size of 0x10000
// is written as none.
func appendCopies(d []byte, at, n int) []byte {
	for n > 0 {
		size := min(n, maxCopy)
		op := len(d)
		d = append(d, 0x80)
		for i := 0; i < 4; i++ {
			if v := byte(at >> (8 * i)); v != 0 {
				d[op] |= 1 << i
				d = append(d, v)
			}
		}
		if size != maxCopy {
			for i := 0; i < 3; i++ {
				if v := byte(size >> (8 * i)); v != 0 {
					d[op] |= 1 << (4 + i)
					d = append(d, v)
				}
			}
		}
		at, n = at+size, n-size
	}
	return d
}

// appendInserts inserts b: instructions of 1 to 127 literal bytes, each
// preceded by its length.
func appendInserts(d []byte, b []byte) []byte {
	for len(b) > 0 {
		n := min(len(b), 127)
		d = append(d, byte(n))
		d = append(d, b[:n]...)
		b = b[n:]
	}
	return d
}
