package writeback_test

import (
	"testing"
	"testing/fstest"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/writeback"
)

func configMap(ns, name, value string) capture.Capture {
	return capture.Capture{
		Ref:  capture.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: name},
		Mode: capture.ModePatch,
		Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": name, "namespace": ns, "annotations": map[string]any{"example.com/id": value}}},
	}
}

// Which changes an incremental publish verifies with the cheap checks and
// which build the whole overlay (writeback.checkCheaply); what is
// committed is the full path's in every case (TestIncrementalEqualsFull).
func TestIncrementalVerification(t *testing.T) {
	base := fstest.MapFS{
		"apps/kustomization.yaml": {Data: []byte("resources:\n- objects.yaml\n")},
		// shared has no namespace: the ConfigMaps a/shared and b/shared
		// both patch it.
		"apps/objects.yaml": {Data: []byte(bucketsBase("b00", "b01") +
			"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n" +
			"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: own\n  namespace: a\n")},
	}
	start := func() []capture.Capture {
		caps := bucketCaps(2)
		return append(caps, configMap("a", "shared", "1"), configMap("b", "shared", "1"), configMap("a", "own", "1"), clusterRole("r"))
	}
	for _, tc := range []struct {
		name  string
		edit  func([]capture.Capture) []capture.Capture
		whole bool
	}{
		{"a status", func(c []capture.Capture) []capture.Capture {
			c[0].Status["atProvider"].(map[string]any)["arn"] = "arn:2"
			return c
		}, false},
		{"a patch of its own target", func(c []capture.Capture) []capture.Capture { c[4] = configMap("a", "own", "2"); return c }, false},
		{"a patch of a target another patch has", func(c []capture.Capture) []capture.Capture { c[2] = configMap("a", "shared", "2"); return c }, true},
		{"a patch removed from a shared target", func(c []capture.Capture) []capture.Capture { return append(c[:2:2], c[3:]...) }, true},
		{"a patch removed", func(c []capture.Capture) []capture.Capture { return append(c[:4:4], c[5:]...) }, false},
		{"a resource changed in place", func(c []capture.Capture) []capture.Capture {
			c[5].Object["rules"] = []any{}
			return c
		}, false},
		{"a resource removed", func(c []capture.Capture) []capture.Capture { return c[:5] }, false},
		{"a resource added", func(c []capture.Capture) []capture.Capture { return append(c, clusterRole("s")) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Overlay.Resources = []string{"../../../apps"}
			branch := fstest.MapFS{}
			for p, f := range base {
				branch[p] = f
			}
			repo := &fakeRepo{hashed: true, branch: branch}
			w := writeback.New(cfg, repo, "uid-a", writeback.Options{MaxDeleteShare: 1})
			caps := start()
			if _, err := w.Publish(t.Context(), caps); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Publish(t.Context(), tc.edit(caps)); err != nil {
				t.Fatal(err)
			}
			inc, _ := w.Paths()
			cheap, whole := w.Builds()
			if inc != 1 || (whole == 1) != tc.whole || cheap+whole != 1 {
				t.Errorf("incremental %d, cheap %d, whole %d; want the whole overlay built: %v", inc, cheap, whole, tc.whole)
			}
		})
	}
}
