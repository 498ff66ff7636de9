package render

import (
	"bytes"
	"testing"
	"testing/fstest"

	"github.com/driftback/driftback/capture"
)

// RenderObject writes, object by object, the bytes RenderEach writes for
// all of them, and KustomizationFile the same kustomization.yaml from the
// listed paths: what lets a writer render only what changed.
func TestRenderObjectMatchesRenderEach(t *testing.T) {
	base := fstest.MapFS{
		"base/kustomization.yaml": {Data: []byte("resources:\n- bucket.yaml\n")},
		"base/bucket.yaml":        {Data: []byte("apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata:\n  name: logs\n")},
	}
	idx, err := IndexBase(base, "clusters/prod", []string{"../../base"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		l    Layout
	}{
		{"no base index", sampleLayout},
		{"with a base index", Layout{Cluster: "prod-eu1", ClusterUID: "u", Resources: []string{"../../base"}, Base: idx}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			caps := sampleCaptures()
			capture.Sort(caps)
			tree, err := Render(caps, tc.l)
			if err != nil {
				t.Fatal(err)
			}
			got := Tree{}
			var resources, patches []string
			for _, c := range caps {
				o, err := RenderObject(c, tc.l)
				if err != nil {
					t.Fatal(err)
				}
				for p, b := range o.Files {
					got[p] = b
				}
				if o.Resource != "" {
					resources = append(resources, o.Resource)
				}
				if o.Patch != "" {
					patches = append(patches, o.Patch)
				}
			}
			if got["kustomization.yaml"], err = KustomizationFile(tc.l, resources, patches); err != nil {
				t.Fatal(err)
			}
			if got[".driftback.yaml"], err = MetaFile(tc.l); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tree) {
				t.Fatalf("%d files, RenderEach %d: %v / %v", len(got), len(tree), got.Paths(), tree.Paths())
			}
			for p, b := range tree {
				if !bytes.Equal(got[p], b) {
					t.Errorf("%s:\n%s\nRenderEach:\n%s", p, got[p], b)
				}
			}
		})
	}
}
