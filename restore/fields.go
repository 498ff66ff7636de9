package restore

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// A Leaf is one captured value and where it sits, e.g.
// status.conditions[0].type or metadata.annotations["crossplane.io/external-name"].
type Leaf struct {
	Path  string
	Value any
	// at is the path as map keys (string) and list indices (int).
	at []any
}

// Leaves lists the scalar values of v (and its empty maps and lists) with
// their paths under prefix, sorted.
func Leaves(prefix string, v any) []Leaf {
	var out []Leaf
	walkLeaves(prefix, nil, v, &out)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func walkLeaves(p string, at []any, v any, out *[]Leaf) {
	at = at[:len(at):len(at)] // appends below must not share a backing array
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 0 {
			*out = append(*out, Leaf{p, t, at})
		}
		for k, e := range t {
			walkLeaves(joinKey(p, k), append(at, k), e, out)
		}
	case []any:
		if len(t) == 0 {
			*out = append(*out, Leaf{p, t, at})
		}
		for i, e := range t {
			walkLeaves(fmt.Sprintf("%s[%d]", p, i), append(at, i), e, out)
		}
	default:
		*out = append(*out, Leaf{p, v, at})
	}
}

// get returns the value at a leaf's place in v.
func get(v any, at []any) (any, bool) {
	for _, s := range at {
		switch k := s.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[k]; !ok {
				return nil, false
			}
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil, false
			}
			v = l[k]
		}
	}
	return v, true
}

// joinKey writes keys with dots or slashes in brackets, as driftback's field
// path syntax does.
func joinKey(p, k string) string {
	if strings.ContainsAny(k, "./[]\"") {
		return fmt.Sprintf("%s[%q]", p, k)
	}
	if p == "" {
		return k
	}
	return p + "." + k
}

// contains reports whether every value of want is in got at the same place.
// got may hold more (fields the capture excluded, defaults, additions made
// since); lists must have the same length.
func contains(got, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok || !contains(gv, wv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !contains(g[i], w[i]) {
				return false
			}
		}
		return true
	default:
		return scalarEqual(got, want)
	}
}

// scalarEqual compares numbers by value: YAML and JSON decoders disagree on
// int64 versus float64 for the same number.
func scalarEqual(a, b any) bool {
	fa, aNum := number(a)
	fb, bNum := number(b)
	if aNum && bNum {
		return fa == fb
	}
	return reflect.DeepEqual(a, b)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case float64:
		return n, true
	case float32:
		return float64(n), true
	}
	return 0, false
}

// merge writes want into got: maps merge key by key, lists of the same
// length merge element by element (keeping live-only fields such as an
// excluded lastTransitionTime), anything else is replaced by want.
func merge(got, want any) any {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return deepCopy(w)
		}
		out := make(map[string]any, len(g)+len(w))
		for k, v := range g {
			out[k] = v
		}
		for k, wv := range w {
			out[k] = merge(g[k], wv)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return deepCopy(w)
		}
		out := make([]any, len(w))
		for i := range w {
			out[i] = merge(g[i], w[i])
		}
		return out
	default:
		return want
	}
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = deepCopy(e)
		}
		return out
	default:
		return v
	}
}

// differing lists the leaves of want that got lacks or holds differently;
// a list whose length differs is one leaf, the whole list.
func differing(prefix string, got, want any) []Leaf {
	var out []Leaf
	diffWalk(prefix, nil, got, want, &out)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func diffWalk(p string, at []any, got, want any, out *[]Leaf) {
	at = at[:len(at):len(at)]
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			walkLeaves(p, at, want, out)
			return
		}
		if len(w) == 0 && g == nil {
			*out = append(*out, Leaf{p, w, at})
		}
		for k, wv := range w {
			diffWalk(joinKey(p, k), append(at, k), g[k], wv, out)
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			*out = append(*out, Leaf{p, w, at})
			return
		}
		for i := range w {
			diffWalk(fmt.Sprintf("%s[%d]", p, i), append(at, i), g[i], w[i], out)
		}
	default:
		if !scalarEqual(got, want) {
			*out = append(*out, Leaf{p, want, at})
		}
	}
}
