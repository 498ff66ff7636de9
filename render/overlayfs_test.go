package render

import (
	"fmt"
	"path"
	"slices"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// TestOverlayFSReadsTheTreeInPlace: the overlay file system answers for the
// rendered tree, which it does not copy, what a kustomize in-memory file
// system holding the tree's files answers.
func TestOverlayFSReadsTheTreeInPlace(t *testing.T) {
	tree := Tree{
		"kustomization.yaml":                      []byte("resources: []\n"),
		".driftback.yaml":                         []byte("cluster: a\n"),
		"status/ns/apps_Deployment/4b/web.yaml":   []byte("status: {}\n"),
		"status/ns/apps_Deployment/7b/db.yaml":    []byte("status: {}\n"),
		"status/_cluster/core_Node/67/n1.yaml":    []byte("status: {}\n"),
		"unmatched/ns/core_ConfigMap/b5/cm.yaml":  []byte("data: {}\n"),
		"patches/ns/core_Service/34/svc.yaml":     []byte("spec: {}\n"),
		"resources/ns/core_Service/d9/other.yaml": []byte("spec: {}\n"),
	}
	for _, dir := range []string{"clusters/prod/driftback", "d", ""} {
		t.Run(fmt.Sprintf("dir=%q", dir), func(t *testing.T) {
			got, err := newOverlayFS(nil, dir, tree)
			if err != nil {
				t.Fatal(err)
			}
			want := filesys.MakeFsInMemory()
			root := path.Join("/", dir)
			for p, b := range tree {
				if err := want.WriteFile(path.Join(root, p), b); err != nil {
					t.Fatal(err)
				}
			}
			probes := []string{"/", "/clusters", "/clusters/prod", root, path.Join(root, "kustomization.yaml"), path.Join(root, ".driftback.yaml"),
				path.Join(root, "status"), path.Join(root, "status/ns"), path.Join(root, "status/ns/apps_Deployment"), path.Join(root, "status/ns/apps_Deployment/4b/web.yaml"),
				path.Join(root, "status/ns/apps_Deployment/../apps_Deployment/db.yaml"), path.Join(root, "patches/ns/core_Service/34/svc.yaml"),
				path.Join(root, "missing"), path.Join(root, "status/missing.yaml"), "/elsewhere", root + "x", path.Join(root, "kustomization.yaml/x")}
			for _, p := range probes {
				if g, w := got.Exists(p), want.Exists(p); g != w {
					t.Errorf("Exists(%q) = %v, want %v", p, g, w)
				}
				if g, w := got.IsDir(p), want.IsDir(p); g != w {
					t.Errorf("IsDir(%q) = %v, want %v", p, g, w)
				}
				gb, gerr := got.ReadFile(p)
				wb, werr := want.ReadFile(p)
				if (gerr == nil) != (werr == nil) || string(gb) != string(wb) {
					t.Errorf("ReadFile(%q) = %q, %v; want %q, %v", p, gb, gerr, wb, werr)
				}
				if want.IsDir(p) {
					gn, gerr := got.ReadDir(p)
					wn, werr := want.ReadDir(p)
					slices.Sort(wn)
					if (gerr == nil) != (werr == nil) || !slices.Equal(gn, wn) {
						t.Errorf("ReadDir(%q) = %q, %v; want %q, %v", p, gn, gerr, wn, werr)
					}
				}
			}
			for _, pat := range []string{path.Join(root, "*"), path.Join(root, "*.yaml"), path.Join(root, ".*"), path.Join(root, "status/*/*/*.yaml"), path.Join(root, "*/ns/*/*")} {
				gm, gerr := got.Glob(pat)
				wm, werr := want.Glob(pat)
				slices.Sort(wm)
				if (gerr == nil) != (werr == nil) || !slices.Equal(gm, wm) {
					t.Errorf("Glob(%q) = %q, %v; want %q, %v", pat, gm, gerr, wm, werr)
				}
			}
		})
	}
}

// BenchmarkVerifyStatusTree verifies the first commit of a cluster of
// 50,000 objects with status rules and no base: 100,000 status/ and
// unmatched/ files that kustomization.yaml does not list. krusty reads only
// what the kustomization names, so the cost should not follow the files.
func BenchmarkVerifyStatusTree(b *testing.B) {
	tree := Tree{"kustomization.yaml": []byte("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n")}
	for i := range 50000 {
		tree[fmt.Sprintf("status/_cluster/s3.aws.upbound.io_Bucket/bench-%06d.yaml", i)] = []byte(fmt.Sprintf("apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata:\n  name: bench-%06d\nstatus:\n  atProvider:\n    arn: arn:aws:s3:::bench-%06d\n", i, i))
		tree[fmt.Sprintf("unmatched/_cluster/s3.aws.upbound.io_Bucket/bench-%06d.yaml", i)] = []byte(fmt.Sprintf("apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata:\n  annotations:\n    crossplane.io/external-name: bench-%06d-7f3a\n  name: bench-%06d\n", i, i))
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := Verify(nil, "clusters/bench/driftback", tree); err != nil {
			b.Fatal(err)
		}
	}
}
