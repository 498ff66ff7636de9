package describe

import (
	"slices"
	"testing"
)

func TestHiddenAt(t *testing.T) {
	tests := []struct {
		at     []any
		hidden bool
	}{
		{[]any{"metadata", "annotations", "crossplane.io/external-name"}, false},
		{[]any{"status", "atProvider", "arn"}, false},
		{[]any{"metadata", "labels", "monkey"}, false},
		{[]any{"spec", "forProvider", "masterPasswordSecretRef", "key"}, true},
		{[]any{"status", "adminPassword"}, true},
		{[]any{"status", "connection", "api-token"}, true},
		{[]any{"spec", "tls", 0, "privateKey"}, true},
		{[]any{"data", "password"}, true},
		{[]any{"stringData", "config.json"}, true},
		{[]any{"status", "kubeconfig"}, true},
	}
	for _, tc := range tests {
		if got := hiddenAt(tc.at); got != tc.hidden {
			t.Errorf("hiddenAt(%v) = %v, want %v", tc.at, got, tc.hidden)
		}
	}
}

// TestChangedPathsAsLeaves: changedPaths, which reads documents with go-yaml
// directly, finds the paths that leaves (through JSON, as the described
// fields are read) finds changed.
func TestChangedPathsAsLeaves(t *testing.T) {
	docs := []string{
		"",
		"apiVersion: v1\nkind: Bucket\nmetadata:\n  name: a\n  annotations:\n    crossplane.io/external-name: a-7f3a\n",
		"apiVersion: v1\nkind: Bucket\nmetadata:\n  name: a\n  annotations:\n    crossplane.io/external-name: a-7f3b\n",
		"kind: X\nspec:\n  ports:\n  - port: 80\n    name: http\n  - port: 443\n  empty: {}\n  none: []\n  n: null\n  on: yes\n  t: 2026-11-26T10:00:00Z\n  f: 1.5\n",
		"kind: X\nspec:\n  ports:\n  - port: 8080\n    name: http\n  empty: {}\n  on: no\n  t: 2026-11-27\n  f: 2\n  1: one\n  true: x\n",
		"status:\n  atProvider:\n    arn: arn:aws:s3:::b\n    tags: {a: \"1\", b: [x, {y: z}]}\n",
		"not: [valid\n",
	}
	reference := func(old, new []byte) []string {
		o, err := leaves(old)
		if err != nil {
			return nil
		}
		n, err := leaves(new)
		if err != nil {
			return nil
		}
		var out []string
		for p, nv := range n {
			if ov, ok := o[p]; (!ok || ov.value != nv.value) && !identity[p] {
				out = append(out, p)
			}
		}
		for p := range o {
			if _, ok := n[p]; !ok && !identity[p] {
				out = append(out, p)
			}
		}
		return out
	}
	for i, a := range docs {
		for j, b := range docs {
			got, want := changedPaths([]byte(a), []byte(b)), reference([]byte(a), []byte(b))
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("docs %d -> %d: changed %q, want %q", i, j, got, want)
			}
		}
	}
}
