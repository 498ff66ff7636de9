package writeback_test

import (
	"fmt"
	"testing"
	"testing/fstest"

	"github.com/driftback/driftback/writeback"
)

// BenchmarkPublishOneChangeOverBase is one publish that changes one
// capture over a Git base of 1,000 objects: with the base index kept while
// the base is unchanged (a gitsync parent, keyed) and rebuilt each time
// (unkeyed), the cost before this change. The overlay's verification still
// builds the whole overlay with krusty each time (issue 15).
func BenchmarkPublishOneChangeOverBase(b *testing.B) {
	const n = 1000
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("b%04d", i)
	}
	base := bucketsBase(names...)
	for _, keyed := range []bool{true, false} {
		b.Run(fmt.Sprintf("keyed=%v", keyed), func(b *testing.B) {
			cfg := testConfig()
			cfg.Overlay.Resources = []string{"../../../apps"}
			repo := &fakeRepo{keyed: keyed, branch: fstest.MapFS{
				"apps/kustomization.yaml": {Data: []byte("resources:\n- buckets.yaml\n")},
				"apps/buckets.yaml":       {Data: []byte(base)},
			}}
			w := writeback.New(cfg, repo, "uid-a", writeback.Options{MaxDeleteShare: 1})
			caps := statusCaps(100)
			if _, err := w.Publish(b.Context(), caps); err != nil {
				b.Fatal(err)
			}
			for i := 0; b.Loop(); i++ {
				caps[i%len(caps)].Status["atProvider"].(map[string]any)["arn"] = fmt.Sprintf("arn:%d", i)
				if _, err := w.Publish(b.Context(), caps); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
