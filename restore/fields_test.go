package restore

import (
	"reflect"
	"testing"
)

func TestContainsAndMerge(t *testing.T) {
	cond := func(typ, status string, extra ...string) map[string]any {
		m := map[string]any{"type": typ, "status": status}
		if len(extra) > 0 {
			m["lastTransitionTime"] = extra[0]
		}
		return m
	}
	tests := []struct {
		name      string
		got, want any
		contains  bool
		merged    any
		differing []string
	}{
		{name: "empty live status", got: nil, want: map[string]any{"apiServerURL": "https://a"},
			merged: map[string]any{"apiServerURL": "https://a"}, differing: []string{"status.apiServerURL"}},
		{name: "equal", got: map[string]any{"apiServerURL": "https://a", "extra": true}, want: map[string]any{"apiServerURL": "https://a"},
			contains: true, merged: map[string]any{"apiServerURL": "https://a", "extra": true}},
		{name: "different scalar keeps the rest", got: map[string]any{"url": "b", "phase": "Ready"}, want: map[string]any{"url": "a"},
			merged: map[string]any{"url": "a", "phase": "Ready"}, differing: []string{"status.url"}},
		{name: "numbers compare by value", got: map[string]any{"n": float64(3)}, want: map[string]any{"n": int64(3)},
			contains: true, merged: map[string]any{"n": int64(3)}},
		{name: "same-length lists merge element-wise and keep excluded fields",
			got:       map[string]any{"conditions": []any{cond("Ready", "False", "t1")}},
			want:      map[string]any{"conditions": []any{cond("Ready", "True")}},
			merged:    map[string]any{"conditions": []any{cond("Ready", "True", "t1")}},
			differing: []string{"status.conditions[0].status"}},
		{name: "lists of another length are replaced",
			got:       map[string]any{"conditions": []any{cond("A", "True"), cond("B", "True")}},
			want:      map[string]any{"conditions": []any{cond("Ready", "True")}},
			merged:    map[string]any{"conditions": []any{cond("Ready", "True")}},
			differing: []string{"status.conditions"}},
		{name: "key with dots", got: map[string]any{}, want: map[string]any{"ids": map[string]any{"aws.example/arn": "x"}},
			merged: map[string]any{"ids": map[string]any{"aws.example/arn": "x"}}, differing: []string{`status.ids["aws.example/arn"]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := contains(tt.got, tt.want); got != tt.contains {
				t.Errorf("contains = %v, want %v", got, tt.contains)
			}
			if got := merge(tt.got, tt.want); !contains(got, tt.merged) || !contains(tt.merged, got) {
				t.Errorf("merge = %v, want %v", got, tt.merged)
			}
			var paths []string
			for _, l := range differing("status", tt.got, tt.want) {
				paths = append(paths, l.Path)
			}
			if !reflect.DeepEqual(paths, tt.differing) {
				t.Errorf("differing = %q, want %q", paths, tt.differing)
			}
		})
	}
}

func TestMergeDoesNotAliasWant(t *testing.T) {
	want := map[string]any{"a": map[string]any{"b": "c"}}
	out := merge(nil, want).(map[string]any)
	out["a"].(map[string]any)["b"] = "changed"
	if want["a"].(map[string]any)["b"] != "c" {
		t.Error("merge returned want's own map; a later write would change the captured status")
	}
}
