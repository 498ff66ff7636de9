package writeback_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/driftback/driftback/overlay"
	"github.com/driftback/driftback/render"
	"github.com/driftback/driftback/writeback"
)

// With a base, a publish writes merged/ too (unless overlay.merged is
// false): the patched object with its external name, the base's other
// objects as they are; a capture change reaches merged/ in the same commit.
func TestPublishWritesMerged(t *testing.T) {
	on, off := true, false
	for _, tc := range []struct {
		name   string
		merged *bool
		want   bool
	}{
		{"default with a base", nil, true},
		{"overlay.merged: true", &on, true},
		{"overlay.merged: false", &off, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Overlay.Resources = []string{"../../../apps"}
			cfg.Overlay.Merged = tc.merged
			repo := &fakeRepo{keyed: true, branch: fstest.MapFS{
				"apps/kustomization.yaml": {Data: []byte("resources:\n- buckets.yaml\n")},
				"apps/buckets.yaml":       {Data: []byte(bucketsBase("b00", "b01", "b02"))},
			}}
			w := writeback.New(cfg, repo, "uid-a", writeback.Options{MaxDeleteShare: 1})
			caps := statusCaps(1)
			md := caps[0].Object["metadata"].(map[string]any)
			for _, ext := range []string{"b00-first", "b00-second"} {
				md["annotations"] = map[string]any{"crossplane.io/external-name": ext}
				if _, err := w.Publish(t.Context(), caps); err != nil {
					t.Fatal(err)
				}
				mdir := dir + "/" + overlay.MergedDir
				f, ok := repo.branch[mdir+"/_cluster/s3.aws.upbound.io_Bucket/8d/b00.yaml"]
				if ok != tc.want {
					t.Fatalf("merged/ written: %v, want %v", ok, tc.want)
				}
				if !ok {
					continue
				}
				if !strings.Contains(string(f.Data), "crossplane.io/external-name: "+ext) {
					t.Errorf("merged b00 lacks external name %s:\n%s", ext, f.Data)
				}
				out, err := render.Build(repo.branch, mdir, nil)
				if err != nil {
					t.Fatalf("merged/ does not build: %v", err)
				}
				if n := strings.Count(string(out), "kind: Bucket"); n != 3 {
					t.Errorf("merged/ builds %d Buckets, want the base's 3", n)
				}
			}
		})
	}
}
