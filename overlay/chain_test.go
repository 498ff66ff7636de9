package overlay_test

import (
	"slices"
	"testing"
	"testing/fstest"

	"github.com/driftback/driftback/overlay"
)

func TestDownstream(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	repo := fstest.MapFS{
		"apps/kustomization.yaml": file("resources: [app.yaml]\n"),
		// a chain of three shards, listed out of order on purpose
		"c/x-3/.driftback.yaml":    file("cluster: c\n"),
		"c/x-3/kustomization.yaml": file("resources: [../x-2]\n"),
		"c/x-1/.driftback.yaml":    file("cluster: c\n"),
		"c/x-1/kustomization.yaml": file("resources: [../../apps]\n"),
		"c/x-2/.driftback.yaml":    file("cluster: c\n"),
		"c/x-2/kustomization.yaml": file("resources:\n- ../x-1\n- extra.yaml\n"),
		// a user's kustomization over the last shard: not driftback's
		"c/app/kustomization.yaml": file("resources: [../x-3]\n"),
		// another cluster's overlay on the same base: not downstream
		"d/x/.driftback.yaml":    file("cluster: d\n"),
		"d/x/kustomization.yaml": file("resources: [../../apps]\n"),
		// a shard whose first commit has not landed yet
		"c/new/.driftback.yaml": file("cluster: c\n"),
	}
	for _, tc := range []struct {
		dir  string
		want []string
	}{
		{"c/x-1", []string{"c/x-2", "c/x-3"}},
		{"c/x-2/", []string{"c/x-3"}},
		{"c/x-3", nil},
		{"d/x", nil},
		{"apps", []string{"c/x-1", "d/x", "c/x-2", "c/x-3"}},
	} {
		got, err := overlay.Downstream(repo, tc.dir)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Downstream(%s) = %v, want %v", tc.dir, got, tc.want)
		}
	}
	bad := fstest.MapFS{"c/x/.driftback.yaml": file("cluster: c\n"), "c/x/kustomization.yaml": file("resources: {a: b}\n")}
	if _, err := overlay.Downstream(bad, "apps"); err == nil {
		t.Error("an unreadable kustomization.yaml was accepted")
	}
}
