package render

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/internal/heapstat"
)

// BenchmarkRenderFirstCommit renders the first commit of 50,000 Buckets
// under status rules (an external-name patch, unmatched without a base, and
// a status file each: 100,000 files), as capture/live hands them (sorted).
// peak-heap-MB is the most the heap grew above the captures (live and
// garbage, as the GC left it; a proxy for RSS), tree-MB what the rendered
// tree holds once the garbage is collected.
func BenchmarkRenderFirstCommit(b *testing.B) {
	const n = 50000
	caps := make([]capture.Capture, n)
	for i := range caps {
		name := fmt.Sprintf("bench-%06d", i)
		caps[i] = capture.Capture{Ref: capture.ObjectRef{Group: "s3.aws.upbound.io", Version: "v1beta1", Kind: "Bucket", Name: name}, Mode: capture.ModePatch,
			Rules: []string{"external-name"},
			Object: map[string]any{"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket",
				"metadata": map[string]any{"name": name, "annotations": map[string]any{"crossplane.io/external-name": name + "-7f3a"}}},
			Status: map[string]any{"atProvider": map[string]any{"arn": "arn:aws:s3:::" + name}}}
	}
	l := Layout{Cluster: "bench", ClusterUID: "uid", Base: &BaseIndex{}}
	var peak, kept float64
	b.ReportAllocs()
	for b.Loop() {
		before := heapstat.Live()
		stop := heapstat.Peak()
		t, skipped, err := RenderEach(caps, l)
		p := stop()
		if err != nil || len(skipped) > 0 || len(t) != 2*n+2 {
			b.Fatalf("render: %v, %d skipped, %d files", err, len(skipped), len(t))
		}
		peak = max(peak, p-before)
		kept = max(kept, heapstat.Live()-before)
		runtime.KeepAlive(t)
	}
	b.ReportMetric(peak/1e6, "peak-heap-MB")
	b.ReportMetric(kept/1e6, "tree-MB")
}
