package writeback_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/driftback/driftback/writeback"
)

// A later shard builds on this writer's directory (docs/sharding.md). When
// the base drops the object only the later shard patches, this writer's
// own overlay still builds, but a commit on that base would leave the last
// directory — what Argo CD and Flux apply — broken: it is refused, naming
// the later shard, and the branch keeps what it holds.
func TestPublishKeepsALaterShardBuilding(t *testing.T) {
	const later = "clusters/c1/driftback-volumes"
	cfg := testConfig()
	cfg.Overlay.Resources = []string{"../../../apps"}
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	repo := &fakeRepo{keyed: true, branch: fstest.MapFS{
		"apps/kustomization.yaml":     file("resources:\n- buckets.yaml\n"),
		"apps/buckets.yaml":           file(bucketsBase("b00", "vol")),
		later + "/.driftback.yaml":    file(meta("uid-a")),
		later + "/kustomization.yaml": file("resources:\n- ../driftback\npatches:\n- path: patches/vol.yaml\n"),
		later + "/patches/vol.yaml":   file("apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata:\n  name: vol\n  annotations:\n    crossplane.io/external-name: vol-ext\n"),
	}}
	w := writeback.New(cfg, repo, "uid-a", writeback.Options{MaxDeleteShare: 1})
	caps := statusCaps(1)
	caps[0].Object["metadata"].(map[string]any)["annotations"] = map[string]any{"crossplane.io/external-name": "b00-ext"}
	if _, err := w.Publish(t.Context(), caps); err != nil {
		t.Fatalf("first publish: %v", err)
	}
	if !hasFile(repo.branch, dir+"/patches/") {
		t.Fatalf("want b00 patched: %v", keysOf(repo.branch))
	}

	repo.branch["apps/buckets.yaml"] = file(bucketsBase("b00"))
	before := keysOf(repo.branch)
	caps[0].Status["atProvider"].(map[string]any)["arn"] = "arn:changed"
	_, err := w.Publish(t.Context(), caps)
	if reason, ok := writeback.RefusalReason(err); !ok || reason != writeback.RefusedBuild || !strings.Contains(err.Error(), later) {
		t.Fatalf("publish over a base the later shard does not build on: err = %v, want a build refusal naming %s", err, later)
	}
	if after := keysOf(repo.branch); strings.Join(after, " ") != strings.Join(before, " ") || strings.Contains(string(repo.branch[dir+"/status/_cluster/s3.aws.upbound.io_Bucket/8d/b00.yaml"].Data), "arn:changed") {
		t.Fatalf("the refused publish changed the branch")
	}

	// The later shard renders over the new base (its patch is kept under
	// unmatched/, not applied): this writer commits again.
	repo.branch[later+"/kustomization.yaml"] = file("resources:\n- ../driftback\n")
	repo.branch[later+"/unmatched/vol.yaml"] = repo.branch[later+"/patches/vol.yaml"]
	delete(repo.branch, later+"/patches/vol.yaml")
	if _, err := w.Publish(t.Context(), caps); err != nil {
		t.Fatalf("publish once the later shard builds again: %v", err)
	}
}
