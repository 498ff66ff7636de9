package render

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"sigs.k8s.io/yaml"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/overlay"
)

// patchCapture is a patch-mode capture of ref with the given fields
// (besides identity) and status.
func patchCapture(ref capture.ObjectRef, fields map[string]any, status map[string]any) capture.Capture {
	obj := map[string]any{"apiVersion": ref.APIVersion(), "kind": ref.Kind}
	md := identityMetadata(ref)
	for k, v := range fields {
		if k == "metadata" {
			for mk, mv := range v.(map[string]any) {
				md[mk] = mv
			}
			continue
		}
		obj[k] = v
	}
	obj["metadata"] = md
	return capture.Capture{Ref: ref, Mode: capture.ModePatch, Object: obj, Status: status}
}

// TestMergedBuildsLikeTheOverlay: Argo CD or Flux pointed at merged/ apply
// exactly the objects they apply pointed at the overlay. Both are built with
// krusty and compared object by object.
func TestMergedBuildsLikeTheOverlay(t *testing.T) {
	bucket := capture.ObjectRef{Group: "s3.aws.upbound.io", Version: "v1beta1", Kind: "Bucket", Name: "logs"}
	db := capture.ObjectRef{Group: "example.com", Version: "v1", Kind: "Database", Namespace: "shop", Name: "orders"}
	deploy := capture.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "web"}
	pvc := capture.ObjectRef{Version: "v1", Kind: "PersistentVolumeClaim", Namespace: "shop", Name: "data"}
	pv := capture.ObjectRef{Version: "v1", Kind: "PersistentVolume", Name: "pvc-0a1b"}
	templated := capture.ObjectRef{Group: "example.com", Version: "v1", Kind: "Database", Namespace: "shop", Name: "prod-cache"}
	base := map[string]string{
		"apps/kustomization.yaml": `resources: [bucket.yaml, db.yaml, web.yaml, pvc.yaml, other.yaml, cache.yaml]
configMapGenerator:
- name: web-config
  namespace: shop
  literals: [mode=prod]
`,
		"apps/bucket.yaml": "apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata:\n  name: logs\nspec:\n  forProvider:\n    region: eu-west-1\n",
		// The base leaves the namespace to the GitOps tool... except here it is set.
		"apps/db.yaml":    "apiVersion: example.com/v1\nkind: Database\nmetadata:\n  name: orders\n  namespace: shop\nspec:\n  size: 10Gi\n  tags: [a, b]\n",
		"apps/web.yaml":   "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx\n        envFrom:\n        - configMapRef: {name: web-config}\n      - name: sidecar\n        image: envoy\n",
		"apps/pvc.yaml":   "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  namespace: shop\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests: {storage: 1Gi}\n",
		"apps/other.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: untouched\n  namespace: shop\ndata: {k: v}\n",
		"apps/cache.yaml": "apiVersion: example.com/v1\nkind: Database\nmetadata:\n  name: ${env}-cache\n  namespace: shop\nspec:\n  size: 1Gi\n",
	}
	caps := []capture.Capture{
		patchCapture(bucket, map[string]any{"metadata": map[string]any{"annotations": map[string]any{"crossplane.io/external-name": "logs-7f3a"}}},
			map[string]any{"atProvider": map[string]any{"arn": "arn:aws:s3:::logs-7f3a"}}),
		patchCapture(db, map[string]any{"spec": map[string]any{"size": "20Gi", "endpoint": "orders.db.internal"}}, nil),
		// A list merged by key: the patch names one container of two.
		patchCapture(deploy, map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
			"containers": []any{map[string]any{"name": "sidecar", "image": "envoy:v1.31"}}}}}}, nil),
		patchCapture(pvc, map[string]any{"spec": map[string]any{"volumeName": "pvc-0a1b"}}, nil),
		patchCapture(templated, map[string]any{"metadata": map[string]any{"annotations": map[string]any{"example.com/id": "db-42"}}}, nil),
		{Ref: pv, Mode: capture.ModeObject, Object: map[string]any{"apiVersion": "v1", "kind": "PersistentVolume",
			"metadata": map[string]any{"name": pv.Name},
			"spec":     map[string]any{"capacity": map[string]any{"storage": "1Gi"}, "csi": map[string]any{"driver": "ebs.csi.aws.com", "volumeHandle": "vol-0abc"}}}},
	}
	for _, tc := range []struct {
		name      string
		resources []string
		caps      []capture.Capture
		flux      string
	}{
		{"patches, a generated ConfigMap, a list merged by key, a Flux variable, a whole object", []string{"../../../apps"}, caps, ""},
		{"no captures: the base alone", []string{"../../../apps"}, nil, ""},
		{"no base: whole objects only", nil, caps[len(caps)-1:], ""},
		{"applied by a Flux Kustomization with targetNamespace", []string{"../../../apps"}, caps, "namespace: team-a\n"},
		{"applied by a Flux Kustomization with namePrefix", []string{"../../../apps"}, caps, "namePrefix: eu-\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for p, s := range base {
				fsys[p] = &fstest.MapFile{Data: []byte(s)}
			}
			const dir = "clusters/prod/driftback"
			idx, err := IndexBase(fsys, dir, tc.resources)
			if err != nil {
				t.Fatal(err)
			}
			tree, err := Render(tc.caps, Layout{Cluster: "prod", ClusterUID: "uid", Resources: tc.resources, Base: idx})
			if err != nil {
				t.Fatal(err)
			}
			want, err := Build(fsys, dir, tree)
			if err != nil {
				t.Fatal(err)
			}
			merged, err := Merged(idx, tree, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Build(nil, dir+"/"+overlay.MergedDir, under(merged, overlay.MergedDir))
			if err != nil {
				t.Fatal(err)
			}
			w, g := objectsByID(t, want), objectsByID(t, got)
			if tc.flux != "" {
				// Flux's generator adds its settings to the kustomization it is pointed at.
				tree[overlay.KustomizationFile] = append(tree[overlay.KustomizationFile], tc.flux...)
				mt := under(merged, overlay.MergedDir)
				mt[overlay.KustomizationFile] = append(mt[overlay.KustomizationFile], tc.flux...)
				if want, err = Build(fsys, dir, tree); err != nil {
					t.Fatal(err)
				}
				if got, err = Build(nil, dir+"/"+overlay.MergedDir, mt); err != nil {
					t.Fatal(err)
				}
				w, g = objectsByID(t, want), objectsByID(t, got)
			}
			if len(w) == 0 && len(tc.resources) > 0 {
				t.Fatal("the overlay built no objects")
			}
			if !reflect.DeepEqual(w, g) {
				t.Errorf("merged/ builds other objects than the overlay:\noverlay:\n%s\nmerged:\n%s", want, got)
			}
		})
	}
}

// under returns the files of t below dir, relative to it.
func under(t Tree, dir string) Tree {
	out := Tree{}
	for p, b := range t {
		if rest, ok := strings.CutPrefix(p, dir+"/"); ok {
			out[rest] = b
		}
	}
	return out
}

// objectsByID splits a build's YAML into objects keyed by kind, namespace
// and name.
func objectsByID(t *testing.T, built []byte) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, doc := range bytes.Split(built, []byte("\n---\n")) {
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var o map[string]any
		if err := yaml.Unmarshal(doc, &o); err != nil {
			t.Fatal(err)
		}
		md, _ := o["metadata"].(map[string]any)
		key := fmt.Sprintf("%v/%v/%v/%v", o["apiVersion"], o["kind"], md["namespace"], md["name"])
		if _, dup := out[key]; dup {
			t.Fatalf("%s twice in one build", key)
		}
		out[key] = o
	}
	return out
}

func TestMergedRefusesWhatItCannotMerge(t *testing.T) {
	idx := &BaseIndex{objects: map[baseKey]baseEntry{}}
	tree := Tree{
		overlay.KustomizationFile:                          []byte("resources: []\npatches:\n- path: patches/shop/example.com_Database/1c/orders.yaml\n"),
		"patches/shop/example.com_Database/1c/orders.yaml": []byte("apiVersion: example.com/v1\nkind: Database\nmetadata:\n  name: orders\n  namespace: shop\nspec:\n  size: 1Gi\n"),
	}
	if _, err := Merged(idx, tree, nil); err == nil || !strings.Contains(err.Error(), "the base defines no") {
		t.Errorf("a patch without a target: err = %v, want 'the base defines no'", err)
	}
	if _, err := Merged(idx, Tree{}, nil); err == nil || !strings.Contains(err.Error(), overlay.KustomizationFile) {
		t.Errorf("no kustomization: err = %v", err)
	}
}

// TestMergeCacheBuildsOnlyWhatChanged: a publish that changes one patch
// builds one object again, and the result is the same as without the cache.
func TestMergeCacheBuildsOnlyWhatChanged(t *testing.T) {
	fsys := fstest.MapFS{}
	var files []string
	var caps []capture.Capture
	for i := 0; i < 5; i++ {
		name := fmt.Sprintf("db-%d", i)
		fsys["apps/"+name+".yaml"] = &fstest.MapFile{Data: []byte("apiVersion: example.com/v1\nkind: Database\nmetadata:\n  name: " + name + "\n  namespace: shop\nspec:\n  size: 1Gi\n")}
		files = append(files, name+".yaml")
		ref := capture.ObjectRef{Group: "example.com", Version: "v1", Kind: "Database", Namespace: "shop", Name: name}
		caps = append(caps, patchCapture(ref, map[string]any{"spec": map[string]any{"endpoint": name + ".internal"}}, nil))
	}
	fsys["apps/kustomization.yaml"] = &fstest.MapFile{Data: []byte("resources: [" + strings.Join(files, ", ") + "]\n")}
	res := []string{"../../apps"}
	idx, err := IndexBase(fsys, "clusters/prod", res)
	if err != nil {
		t.Fatal(err)
	}
	var cache MergeCache
	render := func() (Tree, Tree) {
		t.Helper()
		tree, err := Render(caps, Layout{Cluster: "prod", ClusterUID: "uid", Resources: res, Base: idx})
		if err != nil {
			t.Fatal(err)
		}
		got, err := Merged(idx, tree, &cache)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Merged(idx, tree, nil)
		if err != nil {
			t.Fatal(err)
		}
		return got, want
	}
	for i, step := range []struct {
		change     func()
		wantBuilds int
	}{
		{func() {}, 5},
		{func() {}, 0},
		{func() { caps[2].Object["spec"] = map[string]any{"endpoint": "moved.internal"} }, 1},
	} {
		step.change()
		before := cache.builds
		got, want := render()
		if n := cache.builds - before; n != step.wantBuilds {
			t.Errorf("step %d: built %d objects, want %d", i, n, step.wantBuilds)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("step %d: the cache changed the result", i)
		}
	}
}
