package gitsync

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"io"
	"slices"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// writePack writes a pack of objs (Git's pack format, version 2) from s to
// w, each object compressed at zlib's best speed (stored, for the smallest:
// storedBelow): go-git's encoder
// compresses at the default level and resets a full deflate state per
// object, which made packing a first commit of 100,000 small files about a
// quarter of its publish's CPU; it also lists every object with its
// bookkeeping before writing the first one. Duplicate names are written
// once. A tree named in bases is sent as a delta against its base, which
// the server holds (a thin pack, thinpack.go), where that is smaller;
// every other object whole (no delta search).
func writePack(w io.Writer, s storer.EncodedObjectStorer, objs []plumbing.Hash, bases map[plumbing.Hash]plumbing.Hash) error {
	objs = slices.Clone(objs)
	slices.SortFunc(objs, func(a, b plumbing.Hash) int { return bytes.Compare(a[:], b[:]) })
	objs = slices.Compact(objs)

	sum := sha1.New()
	bw := bufio.NewWriterSize(io.MultiWriter(w, sum), 64<<10)
	var hdr [12]byte
	copy(hdr[:], "PACK")
	binary.BigEndian.PutUint32(hdr[4:], 2)
	binary.BigEndian.PutUint32(hdr[8:], uint32(len(objs)))
	if _, err := bw.Write(hdr[:]); err != nil {
		return err
	}
	var err error
	var zw packCompressors
	if zw.fast, err = zlib.NewWriterLevel(bw, zlib.BestSpeed); err != nil {
		return err
	}
	if zw.stored, err = zlib.NewWriterLevel(bw, zlib.NoCompression); err != nil {
		return err
	}
	for _, h := range objs {
		if err := writePackEntry(bw, &zw, s, h, bases[h]); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	// The trailer names the pack's bytes.
	_, err = w.Write(sum.Sum(nil))
	return err
}

// storedBelow is the size under which an object's content is stored in the
// pack's zlib stream without compressing it. Deflate at its best speed
// still builds Huffman codes for every object: 8 µs for a 150-byte status
// file that it shrinks to 131 bytes, against 0.4 µs to store it in 161. A
// first commit of 100,000 such files spent most of its packing there
// (BenchmarkWritePack); its pack grows by about a fifth, and git's
// index-pack on the server inflates stored blocks for less.
const storedBelow = 512

// packCompressors are the zlib writers of a pack's entries, reset for each.
type packCompressors struct {
	fast, stored *zlib.Writer
}

func (z *packCompressors) forSize(n int) *zlib.Writer {
	if n < storedBelow {
		return z.stored
	}
	return z.fast
}

// writePackEntry writes one object: its type and size (and, for a delta,
// its base's name), then its content compressed. base, when not zero, is
// a tree the server holds that a tree h may be sent as a delta of.
func writePackEntry(bw *bufio.Writer, zws *packCompressors, s storer.EncodedObjectStorer, h, base plumbing.Hash) error {
	typ, content, err := readObject(s, h)
	if err != nil {
		return fmt.Errorf("pack %s: %w", h, err)
	}
	switch typ {
	case plumbing.CommitObject, plumbing.TreeObject, plumbing.BlobObject, plumbing.TagObject:
	default:
		return fmt.Errorf("pack %s: object type %s", h, typ)
	}
	head := make([]byte, 0, 16+len(base))
	if d, ok := thinDelta(s, typ, content, base); ok {
		content, typ = d, plumbing.REFDeltaObject
		head = append(appendEntryHeader(head, typ, len(content)), base[:]...)
	} else {
		head = appendEntryHeader(head, typ, len(content))
	}
	if _, err := bw.Write(head); err != nil {
		return err
	}
	zw := zws.forSize(len(content))
	zw.Reset(bw)
	if _, err := zw.Write(content); err != nil {
		return fmt.Errorf("pack %s: %w", h, err)
	}
	return zw.Close()
}
