package capture

import (
	"reflect"
	"strings"
	"testing"
)

func TestAppendKey(t *testing.T) {
	tests := []struct {
		keys []string
		want string
	}{
		{[]string{"spec", "forProvider", "region"}, "spec.forProvider.region"},
		{[]string{"metadata", "annotations", "crossplane.io/external-name"}, `metadata.annotations["crossplane.io/external-name"]`},
		// restore once wrote this unquoted, a path ParsePath rejects.
		{[]string{"status", "foo:bar"}, `status["foo:bar"]`},
		{[]string{"status", `say "hi"\now`}, `status["say \"hi\"\\now"]`},
		{[]string{"status", "$ref", "with space"}, `status.$ref["with space"]`},
	}
	for _, tc := range tests {
		p := ""
		for _, k := range tc.keys {
			p = AppendKey(p, k)
		}
		if p != tc.want {
			t.Errorf("AppendKey(%q) = %s, want %s", tc.keys, p, tc.want)
		}
		parsed, err := ParsePath(p)
		if err != nil {
			t.Errorf("ParsePath(%s): %v", p, err)
			continue
		}
		if got := keysOf(parsed); !reflect.DeepEqual(got, tc.keys) {
			t.Errorf("ParsePath(%s) keys = %q, want %q", p, got, tc.keys)
		}
	}
	if got := AppendIndex("status.conditions", 3); got != "status.conditions[3]" {
		t.Errorf("AppendIndex = %s", got)
	}
}

func keysOf(p Path) []string {
	var out []string
	for _, s := range p.segs {
		if s.wildcard {
			out = append(out, wildcardKey)
		} else {
			out = append(out, s.key)
		}
	}
	return out
}

// wildcardKey stands for [*] among the keys of a test.
const wildcardKey = "\x01"

// FuzzPathRoundTrip: whatever the keys, the path the toolkit writes parses
// back to the same keys.
func FuzzPathRoundTrip(f *testing.F) {
	for _, s := range []string{
		"metadata\x00annotations\x00crossplane.io/external-name",
		"status\x00foo:bar",
		"spec\x00a\"b\\c\x00\x01\x00x.y",
		"status\x00conditions\x00\x01\x00type",
		"a\x00]\x00[\x00\"]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		keys := strings.Split(s, "\x00")
		// A path starts with a field name (ParsePath's rule).
		if !plainName(keys[0]) {
			return
		}
		p := ""
		for _, k := range keys {
			switch k {
			case "":
				return // map keys are never empty in a rule path
			case wildcardKey:
				p += "[*]"
			default:
				p = AppendKey(p, k)
			}
		}
		parsed, err := ParsePath(p)
		if err != nil {
			t.Fatalf("ParsePath(%s) of keys %q: %v", p, keys, err)
		}
		if got := keysOf(parsed); !reflect.DeepEqual(got, keys) {
			t.Fatalf("ParsePath(%s) keys = %q, want %q", p, got, keys)
		}
		if parsed.format() != p {
			t.Fatalf("format() = %s, want %s", parsed.format(), p)
		}
	})
}

func TestLeavesAndGet(t *testing.T) {
	obj := map[string]any{"status": map[string]any{
		"conditions": []any{map[string]any{"type": "Ready"}},
		"ids":        map[string]any{"aws.example/arn": "x"},
		"empty":      map[string]any{},
	}}
	var paths []string
	for _, l := range Leaves("", obj) {
		paths = append(paths, l.Path)
		if v, ok := Get(obj, l.At); !ok || !JSONEqual(v, l.Value) {
			t.Errorf("Get(%v) = %v, %v; want %v", l.At, v, ok, l.Value)
		}
	}
	want := []string{"status.conditions[0].type", "status.empty", `status.ids["aws.example/arn"]`}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("Leaves = %q, want %q", paths, want)
	}
}

func TestJSONEqual(t *testing.T) {
	tests := []struct {
		a, b any
		want bool
	}{
		{int64(3), float64(3), true},
		{int64(3), float64(3.5), false},
		{map[string]any{"n": int64(1), "l": []any{int64(2)}}, map[string]any{"n": 1.0, "l": []any{2.0}}, true},
		{map[string]any{"n": int64(1)}, map[string]any{"n": 1.0, "extra": true}, false},
		{[]any{"a"}, []string{"a"}, true},
		{"3", int64(3), false},
		{nil, map[string]any{}, false},
		{true, true, true},
	}
	for _, tc := range tests {
		if got := JSONEqual(tc.a, tc.b); got != tc.want {
			t.Errorf("JSONEqual(%#v, %#v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
