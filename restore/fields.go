package restore

import (
	"sort"

	"github.com/driftback/driftback/capture"
)

// Leaf is one captured value and where it sits (capture's field-tree toolkit).
type Leaf = capture.Leaf

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
		return capture.JSONEqual(got, want)
	}
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
			capture.WalkLeaves(p, want, func(l Leaf) {
				l.At = append(at[:len(at):len(at)], l.At...)
				*out = append(*out, l)
			})
			return
		}
		if len(w) == 0 && g == nil {
			*out = append(*out, Leaf{Path: p, Value: w, At: at})
		}
		for k, wv := range w {
			diffWalk(capture.AppendKey(p, k), append(at, k), g[k], wv, out)
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			*out = append(*out, Leaf{Path: p, Value: w, At: at})
			return
		}
		for i := range w {
			diffWalk(capture.AppendIndex(p, i), append(at, i), g[i], w[i], out)
		}
	default:
		if !capture.JSONEqual(got, want) {
			*out = append(*out, Leaf{Path: p, Value: want, At: at})
		}
	}
}
