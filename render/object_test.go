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

// The cheap checks judge one object: a patch the base object takes, one
// it cannot, one that renames the object; a resource changed in place
// under its id or under another.
func TestCheapChecks(t *testing.T) {
	base := fstest.MapFS{
		"base/kustomization.yaml": {Data: []byte("resources:\n- bucket.yaml\n")},
		"base/bucket.yaml":        {Data: []byte("apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata:\n  name: logs\nspec:\n  forProvider:\n    region: eu\n")},
	}
	idx, err := IndexBase(base, "clusters/prod", []string{"../../base"})
	if err != nil {
		t.Fatal(err)
	}
	ref := capture.ObjectRef{Group: "s3.aws.upbound.io", Version: "v1beta1", Kind: "Bucket", Name: "logs"}
	head := "apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata:\n  name: logs\n"
	for _, tc := range []struct {
		name, patch string
		ok          bool
	}{
		{"an annotation", head + "  annotations:\n    crossplane.io/external-name: logs-1\n", true},
		{"a list for a map", head + "spec:\n  forProvider: [a]\n", false},
		{"annotations as a list (kyaml panics)", head + "  annotations: [a]\n", false},
		{"another version", "apiVersion: s3.aws.upbound.io/v1\nkind: Bucket\nmetadata:\n  name: logs\n  labels:\n    a: b\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := idx.CheckPatch(ref, []byte(tc.patch)); (err == nil) != tc.ok {
				t.Errorf("CheckPatch = %v, want ok %v", err, tc.ok)
			}
		})
	}
	if err := idx.CheckPatch(capture.ObjectRef{Group: "s3.aws.upbound.io", Kind: "Bucket", Name: "other"}, []byte(head)); err == nil {
		t.Error("CheckPatch passed a patch for an object the base lacks")
	}
	role := func(name, rules string) []byte {
		return []byte("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: " + name + "\nrules: " + rules + "\n")
	}
	for _, tc := range []struct {
		name      string
		file, old []byte
		ok        bool
	}{
		{"changed in place", role("r", "[{verbs: [get]}]"), role("r", "[]"), true},
		{"renamed", role("s", "[]"), role("r", "[]"), false},
		{"not an object", []byte("just: a map\n"), role("r", "[]"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := CheckResource(tc.file, tc.old); (err == nil) != tc.ok {
				t.Errorf("CheckResource = %v, want ok %v", err, tc.ok)
			}
		})
	}
}
