package render

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
)

// A kustomization on the branch (the base, written by anyone with push
// access) that names a remote resource must not make driftback fetch it:
// the request would leave the pod (request forgery). A local HTTP server
// counts what it receives; it must receive nothing.
func TestNoRemoteLoading(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fetched\n"))
	}))
	defer srv.Close()
	u := srv.URL
	tests := []struct {
		name  string
		files map[string]string
	}{
		{"http resource", map[string]string{"base/kustomization.yaml": "resources: [bucket.yaml, '" + u + "/meta']\n"}},
		{"git repository over http", map[string]string{"base/kustomization.yaml": "resources: ['" + u + "/repo.git//base?ref=main']\n"}},
		{"github shorthand", map[string]string{"base/kustomization.yaml": "resources: ['github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v1.0.6']\n"}},
		{"component", map[string]string{"base/kustomization.yaml": "resources: [bucket.yaml]\ncomponents: ['" + u + "/c']\n"}},
		{"patch path", map[string]string{"base/kustomization.yaml": "resources: [bucket.yaml]\npatches: [{path: '" + u + "/p.yaml'}]\n"}},
		{"generator file", map[string]string{"base/kustomization.yaml": "resources: [bucket.yaml]\nconfigMapGenerator: [{name: x, files: ['k=" + u + "/f']}]\n"}},
		{"nested base", map[string]string{
			"base/kustomization.yaml":     "resources: [bucket.yaml, sub]\n",
			"base/sub/kustomization.yaml": "resources: ['" + u + "/meta']\n",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			repo := base()
			for p, c := range tc.files {
				repo[p] = &fstest.MapFile{Data: []byte(c)}
			}
			tree, err := Render(sampleCaptures(), sampleLayout)
			if err != nil {
				t.Fatal(err)
			}
			before := hits.Load()
			if err := Verify(repo, "clusters/prod-eu1/driftback", tree); err == nil || !strings.Contains(err.Error(), "remote") {
				t.Errorf("Verify: err = %v, want a refusal of the remote reference", err)
			}
			if _, err := IndexBase(repo, "clusters/prod-eu1/driftback", sampleLayout.Resources); err == nil || !strings.Contains(err.Error(), "remote") {
				t.Errorf("IndexBase: err = %v, want a refusal of the remote reference", err)
			}
			if n := hits.Load() - before; n != 0 {
				t.Errorf("the server received %d requests from a build", n)
			}
		})
	}
}

// Local references of every kind still build.
func TestLocalReferencesStillBuild(t *testing.T) {
	repo := base()
	repo["base/kustomization.yaml"] = &fstest.MapFile{Data: []byte("resources: [bucket.yaml, cluster.yaml, sub]\nconfigMapGenerator: [{name: x, files: [k=f.txt]}]\npatches:\n- path: p.yaml\n")}
	repo["base/sub/kustomization.yaml"] = &fstest.MapFile{Data: []byte("resources: [cm.yaml]\n")}
	repo["base/sub/cm.yaml"] = &fstest.MapFile{Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub\n")}
	repo["base/f.txt"] = &fstest.MapFile{Data: []byte("v")}
	repo["base/p.yaml"] = &fstest.MapFile{Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub\ndata:\n  a: b\n")}
	tree, err := Render(sampleCaptures(), sampleLayout)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Build(repo, "clusters/prod-eu1/driftback", tree)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "name: sub") || !strings.Contains(string(out), "a: b") {
		t.Errorf("build:\n%s", out)
	}
}
