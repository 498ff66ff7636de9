package render

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"sigs.k8s.io/yaml"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/internal/benchenv"
)

// BenchmarkOverlayShape measures what Argo CD and Flux pay on every
// reconcile: one krusty build (the kustomize both run) of a base of N
// managed resources, and of the same base with one captured external name
// and one captured spec field per object, in each overlay shape:
//
//   - base: the base alone, the floor;
//   - per-object: driftback's overlay (Render), one patch file per object;
//   - multi-doc: the same patches as documents of one file, one patches entry;
//   - merged: merged/ (Merged), the overlay's objects with the captured
//     fields merged in, as plain resources (no patches, no base).
//
// Each reports x-base, its time over the base's in the same run.
// DRIFTBACK_BENCH_OBJECTS (e.g. "2000,10000") overrides the sizes, 1000 and
// 2000; a base of 10,000 objects takes minutes per build.
func BenchmarkOverlayShape(b *testing.B) {
	sizes, err := benchenv.Objects(1000, 2000)
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range sizes {
		shapes := shapeFixtures(b, n)
		var baseNs float64
		for _, s := range []string{"base", "per-object", "multi-doc", "merged"} {
			b.Run(fmt.Sprintf("%s/%d", s, n), func(b *testing.B) {
				fsys, dir := shapes[s].fsys, shapes[s].dir
				for i := 0; i < b.N; i++ {
					out, err := Build(fsys, dir, nil)
					if err != nil {
						b.Fatal(err)
					}
					if got := strings.Count(string(out), "\nkind: Bucket\n"); got != n {
						b.Fatalf("%s built %d Buckets, want %d", s, got, n)
					}
				}
				ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
				if s == "base" {
					baseNs = ns
				}
				if baseNs > 0 {
					b.ReportMetric(ns/baseNs, "x-base")
				}
			})
		}
	}
}

type shapeFixture struct {
	fsys fstest.MapFS
	dir  string
}

// shapeFixtures lays out the four shapes over one base of n Buckets, each
// about 1.5 KiB of YAML as a base in Git holds them (no status, no
// managedFields), in ten namespaces.
func shapeFixtures(b *testing.B, n int) map[string]shapeFixture {
	b.Helper()
	base := fstest.MapFS{}
	var files []string
	bucket := func(i int) map[string]any {
		tags := map[string]any{}
		for j := 0; j < 20; j++ {
			tags[fmt.Sprintf("tag-%02d", j)] = strings.Repeat("v", 40)
		}
		return map[string]any{
			"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket",
			"metadata": map[string]any{"name": fmt.Sprintf("bucket-%05d", i), "namespace": fmt.Sprintf("team-%d", i%10),
				"labels": map[string]any{"app.kubernetes.io/part-of": "storage"}},
			"spec": map[string]any{"forProvider": map[string]any{"region": "eu-west-1", "tags": tags},
				"providerConfigRef": map[string]any{"name": "default"}},
		}
	}
	for i := 0; i < n; i++ {
		y, err := yaml.Marshal(bucket(i))
		if err != nil {
			b.Fatal(err)
		}
		f := fmt.Sprintf("bucket-%05d.yaml", i)
		base["apps/"+f] = &fstest.MapFile{Data: y}
		files = append(files, f)
	}
	base["apps/kustomization.yaml"] = &fstest.MapFile{Data: []byte("resources:\n- " + strings.Join(files, "\n- ") + "\n")}

	caps := make([]capture.Capture, n)
	for i := range caps {
		ref := capture.ObjectRef{Group: "s3.aws.upbound.io", Version: "v1beta1", Kind: "Bucket", Namespace: fmt.Sprintf("team-%d", i%10), Name: fmt.Sprintf("bucket-%05d", i)}
		caps[i] = capture.Capture{Ref: ref, Mode: capture.ModePatch, Object: map[string]any{
			"apiVersion": ref.APIVersion(), "kind": ref.Kind,
			"metadata": map[string]any{"name": ref.Name, "namespace": ref.Namespace,
				"annotations": map[string]any{"crossplane.io/external-name": fmt.Sprintf("bucket-%05d-7f3a9c", i)}},
			"spec": map[string]any{"forProvider": map[string]any{"objectLockEnabled": false}},
		}}
	}
	idx, err := IndexBase(base, "driftback/prod", []string{"../../apps"})
	if err != nil {
		b.Fatal(err)
	}
	tree, err := Render(caps, Layout{Cluster: "prod", ClusterUID: "uid", Resources: []string{"../../apps"}, Base: idx})
	if err != nil {
		b.Fatal(err)
	}
	perObject := clone(base)
	var patches []string
	for p, data := range tree {
		perObject["driftback/prod/"+p] = &fstest.MapFile{Data: data}
		if strings.HasPrefix(p, "patches/") {
			patches = append(patches, string(data))
		}
	}

	multi := clone(base)
	multi["driftback/prod/patches.yaml"] = &fstest.MapFile{Data: []byte(strings.Join(patches, "---\n"))}
	multi["driftback/prod/kustomization.yaml"] = &fstest.MapFile{Data: []byte("resources:\n- ../../apps\npatches:\n- path: patches.yaml\n")}

	m, err := Merged(idx, tree, nil)
	if err != nil {
		b.Fatal(err)
	}
	merged := fstest.MapFS{}
	for p, data := range m {
		merged["driftback/prod/"+p] = &fstest.MapFile{Data: data}
	}

	return map[string]shapeFixture{
		"base":       {base, "apps"},
		"per-object": {perObject, "driftback/prod"},
		"multi-doc":  {multi, "driftback/prod"},
		"merged":     {merged, "driftback/prod/merged"},
	}
}

func clone(m fstest.MapFS) fstest.MapFS {
	out := make(fstest.MapFS, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
