package overlay_test

import (
	"testing"
	"testing/fstest"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/overlay"
)

func TestObjectKeys(t *testing.T) {
	// One object in two directories and both layouts (a branch written
	// before buckets, half rewritten), and one other object.
	got := overlay.ObjectKeys([]string{"patches/ns/g_K/ca/a.yaml", "status/ns/g_K/a.yaml", "resources/_cluster/core_PersistentVolume/07/pv.yaml", "kustomization.yaml", ".driftback.yaml"})
	if len(got) != 2 || !got["ns/g_K/a.yaml"] || !got["_cluster/core_PersistentVolume/pv.yaml"] {
		t.Errorf("ObjectKeys = %v", got)
	}
}

func TestBucket(t *testing.T) {
	// The first two hex digits of the name's SHA-256 (`printf a | sha256sum`):
	// a branch's layout must not change with the implementation.
	for name, want := range map[string]string{"a": "ca", "pv": "07", "payments": "df"} {
		if got := overlay.Bucket(name); got != want {
			t.Errorf("Bucket(%q) = %q, want %q", name, got, want)
		}
	}
	// A file in another object's bucket is not an object file.
	for _, p := range []string{"status/ns/g_K/00/a.yaml", "status/ns/g_K/CA/a.yaml", "status/ns/g_K/c/a.yaml", "status/ns/g_K/ca/x/a.yaml"} {
		if e, ok := overlay.ParsePath(p); ok {
			t.Errorf("ParsePath(%q) = %+v, want refused", p, e)
		}
	}
}

func TestFileNameParsesBack(t *testing.T) {
	tests := []struct {
		ref       capture.ObjectRef
		want      string
		wantGroup string
	}{
		{capture.ObjectRef{Group: "infra.example.com", Version: "v1", Kind: "Cluster", Namespace: "team-a", Name: "payments"}, "team-a/infra.example.com_Cluster/df/payments.yaml", "infra.example.com"},
		{capture.ObjectRef{Version: "v1", Kind: "PersistentVolume", Name: "pv-1"}, "_cluster/core_PersistentVolume/57/pv-1.yaml", "core"},
	}
	for _, tc := range tests {
		got := overlay.FileName(tc.ref)
		if got != tc.want {
			t.Errorf("FileName(%v) = %q, want %q", tc.ref, got, tc.want)
		}
		for _, dir := range overlay.ObjectDirs {
			e, ok := overlay.ParsePath(dir + "/" + got)
			if !ok || e.Dir != dir || e.Namespace != tc.ref.Namespace || e.Group != tc.wantGroup || e.Kind != tc.ref.Kind || e.Name != tc.ref.Name {
				t.Errorf("ParsePath(%s/%s) = %+v, %v", dir, got, e, ok)
			}
			if e.Key() != overlay.LegacyFileName(tc.ref) {
				t.Errorf("Key() = %q, want %q", e.Key(), overlay.LegacyFileName(tc.ref))
			}
		}
	}
	for _, p := range []string{"kustomization.yaml", ".driftback.yaml", "other/ns/g_K/n.yaml", "status/ns/n.yaml"} {
		if e, ok := overlay.ParsePath(p); ok {
			t.Errorf("ParsePath(%q) = %+v, want not an object file", p, e)
		}
	}
}

func TestReadMeta(t *testing.T) {
	rec := "apiVersion: driftback.dev/v1alpha1\nkind: Overlay\nformatVersion: 1\ncluster: c1\nclusterUID: uid-1\n"
	tests := []struct {
		name      string
		fsys      fstest.MapFS
		wantFound bool
		wantErr   bool
	}{
		{"no record", fstest.MapFS{"o/kustomization.yaml": {Data: []byte("resources: []\n")}}, false, false},
		{"record", fstest.MapFS{"o/.driftback.yaml": {Data: []byte(rec)}}, true, false},
		{"not a record", fstest.MapFS{"o/.driftback.yaml": {Data: []byte("kind: Other\n")}}, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, found, err := overlay.ReadMeta(tc.fsys, "o")
			if (err != nil) != tc.wantErr || found != tc.wantFound {
				t.Fatalf("ReadMeta = %+v, %v, %v", m, found, err)
			}
			if found && (m.Cluster != "c1" || m.ClusterUID != "uid-1") {
				t.Errorf("meta = %+v", m)
			}
		})
	}
}
