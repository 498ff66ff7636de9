package writeback

import (
	"testing"

	"github.com/driftback/driftback/capture"
)

// A fingerprint moves with anything that changes a capture's files and not
// with what does not (map order).
func TestFingerprint(t *testing.T) {
	base := func() capture.Capture {
		return capture.Capture{
			Ref:    capture.ObjectRef{Group: "g", Version: "v1", Kind: "K", Namespace: "ns", Name: "n"},
			Mode:   capture.ModePatch,
			Object: map[string]any{"apiVersion": "g/v1", "kind": "K", "metadata": map[string]any{"name": "n", "labels": map[string]any{"a": "1", "b": "2"}}},
			Status: map[string]any{"list": []any{"x", int64(1), 1.5, true, nil}},
		}
	}
	ref := base()
	want := fingerprint(capture.Pack(ref))
	for _, tc := range []struct {
		name  string
		edit  func(c *capture.Capture)
		moves bool
	}{
		{"nothing", func(*capture.Capture) {}, false},
		{"map built in another order", func(c *capture.Capture) {
			c.Object["metadata"] = map[string]any{"labels": map[string]any{"b": "2", "a": "1"}, "name": "n"}
		}, false},
		{"version", func(c *capture.Capture) { c.Ref.Version = "v2" }, true},
		{"mode", func(c *capture.Capture) { c.Mode = capture.ModeObject }, true},
		{"a value", func(c *capture.Capture) { c.Object["metadata"].(map[string]any)["labels"].(map[string]any)["a"] = "2" }, true},
		{"a value moves between keys", func(c *capture.Capture) {
			c.Object["metadata"].(map[string]any)["labels"] = map[string]any{"a": "2", "b": "1"}
		}, true},
		{"list order", func(c *capture.Capture) { c.Status["list"] = []any{int64(1), "x", 1.5, true, nil} }, true},
		{"a number", func(c *capture.Capture) { c.Status["list"].([]any)[1] = int64(2) }, true},
		{"a bool", func(c *capture.Capture) { c.Status["list"].([]any)[3] = false }, true},
		{"null to empty list", func(c *capture.Capture) { c.Status["list"].([]any)[4] = []any{} }, true},
		{"empty list to null list", func(c *capture.Capture) { c.Status["list"] = []any(nil) }, true},
		{"status gone", func(c *capture.Capture) { c.Status = nil }, true},
		{"applied", func(c *capture.Capture) { c.Applied = map[string]any{"spec": "x"} }, true},
		{"whole", func(c *capture.Capture) { c.Whole = map[string]any{"spec": "x"} }, true},
		{"encrypt keys", func(c *capture.Capture) { c.EncryptKeys = []string{"k"} }, true},
		{"an unknown type", func(c *capture.Capture) { c.Status["u"] = uint8(3) }, true},
		{"rules only (not rendered)", func(c *capture.Capture) { c.Rules = []string{"r"} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.edit(&c)
			if got := fingerprint(capture.Pack(c)); (got != want) != tc.moves {
				t.Errorf("fingerprint moved %v, want %v", got != want, tc.moves)
			}
		})
	}
	// The empty-list-to-null case compares against a capture with [].
	a, b := base(), base()
	a.Status["l"], b.Status["l"] = []any{}, []any(nil)
	if fingerprint(capture.Pack(a)) == fingerprint(capture.Pack(b)) {
		t.Error("[] and null share a fingerprint")
	}
}
