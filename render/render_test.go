package render

import (
	"bytes"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/overlay"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func sampleCaptures() []capture.Capture {
	return []capture.Capture{
		{
			Ref:  capture.ObjectRef{Group: "infra.example.com", Version: "v1alpha1", Kind: "KubernetesCluster", Namespace: "default", Name: "payments"},
			Mode: capture.ModePatch,
			Object: map[string]any{
				"apiVersion": "infra.example.com/v1alpha1", "kind": "KubernetesCluster",
				"metadata": map[string]any{"name": "payments", "namespace": "default"},
			},
			Status: map[string]any{"apiServerURL": "https://payments.k8s.internal:6443"},
		},
		{
			Ref:  capture.ObjectRef{Group: "s3.aws.upbound.io", Version: "v1beta1", Kind: "Bucket", Name: "logs"},
			Mode: capture.ModePatch,
			Object: map[string]any{
				"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket",
				"metadata": map[string]any{"name": "logs", "annotations": map[string]any{"crossplane.io/external-name": "logs-7f3a"}},
			},
			Status: map[string]any{"atProvider": map[string]any{"arn": "arn:aws:s3:::logs-7f3a"}},
		},
		{
			Ref:  capture.ObjectRef{Group: "", Version: "v1", Kind: "PersistentVolume", Name: "pv-1"},
			Mode: capture.ModeObject,
			Object: map[string]any{
				"apiVersion": "v1", "kind": "PersistentVolume",
				"metadata": map[string]any{"name": "pv-1"},
				"spec":     map[string]any{"capacity": map[string]any{"storage": "1Gi"}, "csi": map[string]any{"driver": "ebs.csi.aws.com", "volumeHandle": "vol-0abc"}},
			},
		},
	}
}

var sampleLayout = Layout{Cluster: "prod-eu1", ClusterUID: "8c1d1f9e-uid", Resources: []string{"../../../base"}}

func TestRenderGolden(t *testing.T) {
	tree, err := Render(sampleCaptures(), sampleLayout)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	for _, p := range tree.Paths() {
		got.WriteString("--- " + p + "\n")
		got.Write(tree[p])
	}
	golden := filepath.Join("testdata", "overlay.golden")
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./render -update to create it)", err)
	}
	if got.String() != string(want) {
		t.Errorf("rendered overlay differs from %s (run with -update after checking):\n%s", golden, got.String())
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	caps := sampleCaptures()
	first, err := Render(caps, sampleLayout)
	if err != nil {
		t.Fatal(err)
	}
	// Same captures in another order render the same bytes.
	caps[0], caps[2] = caps[2], caps[0]
	for i := 0; i < 20; i++ {
		again, err := Render(caps, sampleLayout)
		if err != nil {
			t.Fatal(err)
		}
		for p, b := range first {
			if !bytes.Equal(again[p], b) {
				t.Fatalf("render %d: %s differs", i, p)
			}
		}
		if len(again) != len(first) {
			t.Fatalf("render %d: %d files, want %d", i, len(again), len(first))
		}
	}
}

func TestRenderRefusesDuplicatesAndMissingIdentity(t *testing.T) {
	caps := sampleCaptures()
	if _, err := Render(append(caps, caps[0]), sampleLayout); err == nil || !strings.Contains(err.Error(), "captured twice") {
		t.Errorf("duplicate capture: err = %v", err)
	}
	if _, err := Render(caps, Layout{Cluster: "x"}); err == nil {
		t.Error("render without a cluster UID should fail")
	}
}

// TestRenderSortedTakesRefOrder: RenderSorted renders captures handed in
// ref order as RenderEach renders them, and refuses any other order
// instead of rendering a partial or duplicated listing.
func TestRenderSortedTakesRefOrder(t *testing.T) {
	caps := sampleCaptures()
	capture.Sort(caps)
	want, _, err := RenderEach(caps, sampleLayout)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := RenderSorted(slices.Values(caps), sampleLayout)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.EqualFunc(got, want, bytes.Equal) {
		t.Error("RenderSorted and RenderEach differ")
	}
	reversed := slices.Clone(caps)
	slices.Reverse(reversed)
	for _, tt := range []struct {
		name    string
		order   []capture.Capture
		wantErr string
	}{
		{"reversed", reversed, "out of ref order"},
		{"twice", append(slices.Clone(caps), caps[len(caps)-1]), "captured twice"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := RenderSorted(slices.Values(tt.order), sampleLayout); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one saying %q", err, tt.wantErr)
			}
		})
	}
}

// base is a repository holding the team's base next to the overlay.
func base() fstest.MapFS {
	return fstest.MapFS{
		"base/kustomization.yaml": {Data: []byte("resources: [bucket.yaml, cluster.yaml]\n")},
		"base/bucket.yaml":        {Data: []byte("apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata:\n  name: logs\nspec:\n  forProvider:\n    region: eu-west-1\n")},
		"base/cluster.yaml":       {Data: []byte("apiVersion: infra.example.com/v1alpha1\nkind: KubernetesCluster\nmetadata:\n  name: payments\n  namespace: default\nspec:\n  type: iks\n")},
		"other/unrelated.txt":     {Data: []byte("not read")},
	}
}

func TestBuildOverBase(t *testing.T) {
	tree, err := Render(sampleCaptures(), sampleLayout)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Build(base(), "clusters/prod-eu1/driftback", tree)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"crossplane.io/external-name: logs-7f3a", // the patch applied to the base
		"region: eu-west-1",                      // the base kept
		"volumeHandle: vol-0abc",                 // the runtime-only object added
		"kind: KubernetesCluster",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("build lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "apiServerURL") {
		t.Errorf("status must not be in the applied overlay (restore writes it):\n%s", out)
	}
}

func TestVerifyFails(t *testing.T) {
	tests := []struct {
		name string
		base fstest.MapFS
		caps []capture.Capture
		want string
	}{
		{name: "base missing", base: fstest.MapFS{}, caps: sampleCaptures(), want: "base"},
		{name: "patch without a target in the base", base: base(), caps: append(sampleCaptures(), capture.Capture{
			Ref:  capture.ObjectRef{Group: "s3.aws.upbound.io", Version: "v1beta1", Kind: "Bucket", Name: "not-in-git"},
			Mode: capture.ModePatch,
			Object: map[string]any{"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket",
				"metadata": map[string]any{"name": "not-in-git", "annotations": map[string]any{"a": "b"}}},
		}), want: "not-in-git"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree, err := Render(tt.caps, sampleLayout)
			if err != nil {
				t.Fatal(err)
			}
			err = Verify(tt.base, "clusters/prod-eu1/driftback", tree)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Verify error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestMetaRoundTrip(t *testing.T) {
	tree, err := Render(nil, sampleLayout)
	if err != nil {
		t.Fatal(err)
	}
	m, err := overlay.ParseMeta(tree[overlay.MetaFile])
	if err != nil {
		t.Fatal(err)
	}
	if m.ClusterUID != sampleLayout.ClusterUID || m.Cluster != sampleLayout.Cluster || m.FormatVersion != overlay.FormatVersion {
		t.Errorf("meta = %+v", m)
	}
	for _, bad := range []string{"kind: Other\nclusterUID: x\n", "kind: Overlay\n", "kind: Overlay\nclusterUID: x\nformatVersion: 99\n", "kind: Overlay\nclusterUID: x\nextra: 1\n"} {
		if _, err := overlay.ParseMeta([]byte(bad)); err == nil {
			t.Errorf("ParseMeta(%q) should fail", bad)
		}
	}
}

func TestRenderAgainstBaseIndex(t *testing.T) {
	repo := base()
	// The base leaves the cluster's namespace to the GitOps tool.
	repo["base/cluster.yaml"] = &fstest.MapFile{Data: []byte("apiVersion: infra.example.com/v1alpha1\nkind: KubernetesCluster\nmetadata:\n  name: payments\nspec:\n  type: iks\n")}
	dir := "clusters/prod-eu1/driftback"
	idx, err := IndexBase(repo, dir, sampleLayout.Resources)
	if err != nil {
		t.Fatal(err)
	}
	caps := append(sampleCaptures(),
		capture.Capture{
			Ref:  capture.ObjectRef{Group: "s3.aws.upbound.io", Version: "v1beta1", Kind: "Bucket", Name: "not-in-git"},
			Mode: capture.ModePatch,
			Object: map[string]any{"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket",
				"metadata": map[string]any{"name": "not-in-git", "annotations": map[string]any{"crossplane.io/external-name": "x-1"}}},
		},
		capture.Capture{
			Ref:  capture.ObjectRef{Group: "infra.example.com", Version: "v1alpha1", Kind: "KubernetesCluster", Namespace: "default", Name: "payments"},
			Mode: capture.ModePatch,
			Object: map[string]any{"apiVersion": "infra.example.com/v1alpha1", "kind": "KubernetesCluster",
				"metadata": map[string]any{"name": "payments", "namespace": "default", "annotations": map[string]any{"id": "c-1"}}},
		},
	)
	caps = append(caps[:0], caps[1:]...) // drop the status-only payments capture, replaced above
	l := sampleLayout
	l.Base = idx
	tree, err := Render(caps, l)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tree["unmatched/_cluster/s3.aws.upbound.io_Bucket/b1/not-in-git.yaml"]; !ok {
		t.Errorf("a patch for an object the base lacks should be kept under unmatched/; files: %v", tree.Paths())
	}
	p := string(tree["patches/default/infra.example.com_KubernetesCluster/df/payments.yaml"])
	if p == "" || strings.Contains(p, "namespace:") {
		t.Errorf("the patch must address the object as the base does (no namespace):\n%s", p)
	}
	out, err := Build(repo, dir, tree)
	if err != nil {
		t.Fatalf("overlay with an unmatched capture must still build: %v", err)
	}
	if !strings.Contains(string(out), "id: c-1") || strings.Contains(string(out), "x-1") {
		t.Errorf("build should apply the matched patch only:\n%s", out)
	}
}

// An overlay must build whatever it holds: krusty rejects a kustomization
// with no field set ("kustomization.yaml is empty"), which an overlay of
// status files only, or of nothing, used to be.
func TestRenderedOverlayAlwaysBuilds(t *testing.T) {
	statusOnly := sampleCaptures()[:1]
	tests := []struct {
		name   string
		caps   []capture.Capture
		layout Layout
		want   string // in kustomization.yaml
	}{
		{name: "status only, no base", caps: statusOnly, layout: Layout{Cluster: "c", ClusterUID: "u"}, want: "resources: []"},
		{name: "nothing captured, no base", layout: Layout{Cluster: "c", ClusterUID: "u"}, want: "resources: []"},
		{name: "nothing captured, a base", layout: sampleLayout, want: "- ../../../base"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree, err := Render(tt.caps, tt.layout)
			if err != nil {
				t.Fatal(err)
			}
			if k := string(tree[overlay.KustomizationFile]); !strings.Contains(k, tt.want) {
				t.Errorf("kustomization.yaml lacks %q:\n%s", tt.want, k)
			}
			if err := Verify(base(), "clusters/prod-eu1/driftback", tree); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}
