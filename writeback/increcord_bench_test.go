package writeback

import (
	"fmt"
	"runtime"
	"testing"
	"testing/fstest"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/internal/heapstat"
	"github.com/driftback/driftback/render"
)

// hashedFS is a parent that names its directories, as gitsync's does.
type hashedFS struct{ fstest.MapFS }

func (hashedFS) DirHash(string) (gitsync.Hash, bool) {
	var h gitsync.Hash
	return h, true
}

// BenchmarkIncRecord is the writer's record of a first publish for the
// next incremental one (newIncState), at 50,000 Buckets under status rules
// without a base (an unmatched/ and a status/ file each, as in the
// WatchMemory benchmark): bytes-per-object is the live heap the record
// holds, after a full collection, per object.
func BenchmarkIncRecord(b *testing.B) {
	const n = 50000
	caps := make([]capture.Capture, n)
	for i := range caps {
		name := fmt.Sprintf("b%06d", i)
		caps[i] = capture.Capture{
			Ref:  capture.ObjectRef{Group: "s3.aws.upbound.io", Version: "v1beta1", Kind: "Bucket", Name: name},
			Mode: capture.ModePatch,
			Object: map[string]any{"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket",
				"metadata": map[string]any{"name": name, "annotations": map[string]any{"crossplane.io/external-name": name + "-ext"}}},
			Status: map[string]any{"atProvider": map[string]any{"arn": "arn:aws:s3:::" + name}},
		}
	}
	layout := render.Layout{Cluster: "c1", ClusterUID: "uid-a"}
	tree, skipped, err := render.RenderEach(caps, layout)
	if err != nil || len(skipped) > 0 {
		b.Fatal(err, skipped)
	}
	packed := capture.PackAll(caps)
	parent := hashedFS{fstest.MapFS{}}
	b.ReportAllocs()
	var held float64
	for b.Loop() {
		before := heapstat.Live()
		st := newIncState(parent, layoutKey(layout, "base"), nil, packed, tree, true)
		held = max(held, heapstat.Live()-before)
		if st == nil || len(st.order) != n {
			b.Fatal("no record")
		}
		runtime.KeepAlive(st)
	}
	b.ReportMetric(held/n, "bytes-per-object")
}
