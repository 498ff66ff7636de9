package writeback_test

import (
	"bytes"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/driftback/driftback/overlay"
	"github.com/driftback/driftback/render"
	"github.com/driftback/driftback/writeback"
)

// legacyLayout is branch as a driftback before bucket directories
// (overlay.Bucket) wrote it: every object file at overlay.LegacyFileName,
// and kustomization.yaml listing them there.
func legacyLayout(t *testing.T, branch fstest.MapFS) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	var moves []string
	for p, f := range branch {
		rel, ok := strings.CutPrefix(p, dir+"/")
		e, parsed := overlay.ParsePath(rel)
		if !ok || !parsed {
			out[p] = f
			continue
		}
		legacy := e.Dir + "/" + e.Key()
		out[dir+"/"+legacy] = f
		moves = append(moves, rel, legacy)
	}
	k := out[dir+"/"+overlay.KustomizationFile]
	out[dir+"/"+overlay.KustomizationFile] = &fstest.MapFile{Data: []byte(strings.NewReplacer(moves...).Replace(string(k.Data)))}
	return out
}

// The first publish after the upgrade moves every file into its bucket: not
// a deletion (the guards compare objects, overlay.Key, not paths), nothing
// left behind at the old paths, each file's content unchanged.
func TestPublishMovesALegacyBranchIntoBuckets(t *testing.T) {
	cfg := testConfig()
	cfg.Overlay.Resources = []string{"../../../apps"}
	caps := statusCaps(12)
	for i := range 3 { // patches too, listed in kustomization.yaml
		caps[i].Object["metadata"].(map[string]any)["annotations"] = map[string]any{"crossplane.io/external-name": caps[i].Ref.Name + "-ext"}
	}
	apps := fstest.MapFS{
		"apps/kustomization.yaml": {Data: []byte("resources:\n- buckets.yaml\n")},
		"apps/buckets.yaml":       {Data: []byte(bucketsBase("b00", "b01", "b02"))},
	}
	repo := &fakeRepo{keyed: true, branch: fstest.MapFS{}}
	for p, f := range apps {
		repo.branch[p] = f
	}
	opts := writeback.Options{MaxDeleteShare: 0.1}
	if _, err := writeback.New(cfg, repo, "uid-a", opts).Publish(t.Context(), caps); err != nil {
		t.Fatal(err)
	}
	want := repo.branch
	if !strings.Contains(string(want[dir+"/"+overlay.KustomizationFile].Data), "patches/_cluster/s3.aws.upbound.io_Bucket/8d/b00.yaml") {
		t.Fatalf("kustomization.yaml lists no bucketed patch:\n%s", want[dir+"/"+overlay.KustomizationFile].Data)
	}
	repo.branch = legacyLayout(t, want)
	if _, err := render.Build(repo.branch, dir, treeAt(repo.branch, dir)); err != nil {
		t.Fatalf("the legacy branch does not build: %v", err)
	}

	// A new process (no record of what it wrote), the same cluster.
	if _, err := writeback.New(cfg, repo, "uid-a", opts).Publish(t.Context(), caps); err != nil {
		t.Fatalf("publish over the legacy branch: %v", err)
	}
	if got, wantKeys := keysOf(repo.branch), keysOf(want); strings.Join(got, " ") != strings.Join(wantKeys, " ") {
		t.Fatalf("branch after the move:\n%v\nwant:\n%v", got, wantKeys)
	}
	for p, f := range want {
		if p == dir+"/"+overlay.MetaFile {
			continue
		}
		if !bytes.Equal(repo.branch[p].Data, f.Data) {
			t.Errorf("%s after the move:\n%s\nwant:\n%s", p, repo.branch[p].Data, f.Data)
		}
	}
}
