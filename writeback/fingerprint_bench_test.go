package writeback

import (
	"fmt"
	"testing"

	"github.com/driftback/driftback/capture"
)

// BenchmarkFingerprint is the per-capture cost every incremental publish
// pays for every capture (to find the changed ones).
func BenchmarkFingerprint(b *testing.B) {
	c := capture.Capture{
		Ref:  capture.ObjectRef{Group: "s3.aws.upbound.io", Version: "v1beta1", Kind: "Bucket", Name: "b0001"},
		Mode: capture.ModePatch,
		Object: map[string]any{"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket",
			"metadata": map[string]any{"name": "b0001", "annotations": map[string]any{"crossplane.io/external-name": "b0001-ext"}}},
		Status: map[string]any{"atProvider": map[string]any{"arn": "arn:aws:s3:::b0001", "id": "b0001", "tags": map[string]any{"a": "1", "b": "2"}},
			"conditions": []any{map[string]any{"type": "Ready", "status": "True", "reason": "Available", "lastTransitionTime": "2026-11-26T10:00:00Z"}}},
	}
	p := capture.Pack(c)
	var sink uint64
	for b.Loop() {
		sink += fingerprint(p)
	}
	_ = fmt.Sprint(sink)
}
