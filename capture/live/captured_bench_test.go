package live

import (
	"fmt"
	"runtime"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/internal/heapstat"
)

// BenchmarkCachedCapture measures what the watch cache keeps per object
// (cached-B/object: live heap after a collection, divided by the objects)
// under driftback's status rules: the external name and
// status.atProvider.arn of a Bucket with a spec and managedFields-free
// metadata. The objects themselves are garbage once transformed.
func BenchmarkCachedCapture(b *testing.B) {
	rules := []capture.Rule{{
		Name: "external-name", Mode: capture.ModePatch,
		Match:  capture.Match{APIGroups: []string{"s3.aws.upbound.io"}, Kinds: []string{"Bucket"}},
		Fields: []capture.Path{capture.MustParsePath(`metadata.annotations["crossplane.io/external-name"]`), capture.MustParsePath("status.atProvider.arn")},
	}}
	res := Resource{GVR: schema.GroupVersionResource{Group: "s3.aws.upbound.io", Version: "v1beta1", Resource: "buckets"}, Kind: "Bucket"}
	const n = 10000
	tf := transform(rules, res)
	for b.Loop() {
		store := cache.NewStore(cache.DeletionHandlingMetaNamespaceKeyFunc)
		before := heapstat.Live()
		for i := range n {
			name := fmt.Sprintf("bench-%06d", i)
			u := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket",
				"metadata": map[string]any{"name": name, "resourceVersion": fmt.Sprint(1000 + i), "uid": fmt.Sprintf("6f1c0e2a-0000-4000-8000-%012d", i),
					"annotations": map[string]any{"crossplane.io/external-name": name + "-7f3a"}},
				"spec":   map[string]any{"forProvider": map[string]any{"region": "eu-west-1"}},
				"status": map[string]any{"atProvider": map[string]any{"arn": "arn:aws:s3:::" + name, "lastSeen": "2026-11-26T20:00:00Z"}},
			}}
			c, err := tf(u)
			if err != nil {
				b.Fatal(err)
			}
			if err := store.Add(c); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric((heapstat.Live()-before)/n, "cached-B/object")
		runtime.KeepAlive(store)
	}
}
