package gitsync

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/storage/memory"
)

// BenchmarkWritePack packs 100,000 small blobs, like a first commit's, with
// writePack and with go-git's encoder (no delta search either way).
func BenchmarkWritePack(b *testing.B) {
	s := memory.NewStorage()
	objs := make([]plumbing.Hash, 100000)
	for i := range objs {
		h, err := writeBlob(s, fmt.Appendf(nil, "apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata:\n  name: bench-%06d\nstatus:\n  atProvider:\n    arn: arn:aws:s3:::bench-%06d\n", i, i))
		if err != nil {
			b.Fatal(err)
		}
		objs[i] = h
	}
	b.Run("writePack", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var n countWriter
			if err := writePack(&n, s, objs, nil); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(n)/1e6, "pack-MB")
		}
	})
	b.Run("go-git", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var n countWriter
			if _, err := packfile.NewEncoder(&n, s, false).Encode(objs, 0); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(n)/1e6, "pack-MB")
		}
	})
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

// TestWritePackRoundTrips: a pack of objects stored and compressed (sizes
// on both sides of storedBelow) reads back, object for object, with
// go-git's own pack parser.
func TestWritePackRoundTrips(t *testing.T) {
	s := memory.NewStorage()
	var objs []plumbing.Hash
	want := map[plumbing.Hash]string{}
	for _, n := range []int{0, 1, 150, storedBelow - 1, storedBelow, storedBelow + 1, 64 << 10} {
		content := strings.Repeat("status: x\n", n/10+1)[:n]
		h, err := writeBlob(s, []byte(content))
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, h)
		want[h] = content
	}
	var pack bytes.Buffer
	if err := writePack(&pack, s, objs, nil); err != nil {
		t.Fatal(err)
	}
	back := memory.NewStorage()
	if err := packfile.UpdateObjectStorage(back, &pack); err != nil {
		t.Fatalf("go-git cannot read the pack: %v", err)
	}
	for h, content := range want {
		o, err := back.EncodedObject(plumbing.BlobObject, h)
		if err != nil {
			t.Fatalf("%s (%d bytes) not in the pack: %v", h, len(content), err)
		}
		r, _ := o.Reader()
		got, _ := io.ReadAll(r)
		if string(got) != content {
			t.Fatalf("%s: %d bytes back, want %d", h, len(got), len(content))
		}
	}
}
