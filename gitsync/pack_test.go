package gitsync

import (
	"fmt"
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
