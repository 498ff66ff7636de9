package capture

import (
	"encoding/json"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// The field-tree toolkit: how driftback writes a place in an object
// (AppendKey, AppendIndex, the syntax ParsePath reads), walks an object's
// leaves (Leaves, WalkLeaves, Get) and compares values decoded by different
// decoders (JSONEqual). Capture, render, restore and describe all use it, so
// a path means the same thing in a rule, a commit message and a report.

// AppendKey extends path p with the map key k: a plain name (letters,
// digits, _, - and $) is dotted, any other key is written in brackets and
// double quotes with " and \ escaped. It is the one quoting rule; ParsePath
// reads what it writes.
func AppendKey(p, k string) string {
	if plainName(k) {
		if p == "" {
			return k
		}
		return p + "." + k
	}
	// Only " and \ are escaped: ParsePath reads a backslash as "take the
	// next byte", not JSON escapes.
	return p + `["` + keyEscaper.Replace(k) + `"]`
}

var keyEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// AppendIndex extends path p with list element i: p[i]. Rules select list
// elements with [*] only; indices appear in reports and commit messages.
func AppendIndex(p string, i int) string { return p + "[" + strconv.Itoa(i) + "]" }

func plainName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return false
		}
	}
	return true
}

// A Leaf is one value of an object and where it sits, e.g.
// status.conditions[0].type or metadata.annotations["crossplane.io/external-name"].
type Leaf struct {
	Path  string
	Value any
	// At is the path as map keys (string) and list indices (int); Get
	// follows it.
	At []any
}

// Leaves lists the scalar values of v (and its empty maps and lists) with
// their paths under prefix, sorted by path.
func Leaves(prefix string, v any) []Leaf {
	var out []Leaf
	WalkLeaves(prefix, v, func(l Leaf) { out = append(out, l) })
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// WalkLeaves calls fn for each leaf of v (see Leaves), in no set order.
func WalkLeaves(prefix string, v any, fn func(Leaf)) {
	walkLeaves(prefix, nil, v, fn)
}

func walkLeaves(p string, at []any, v any, fn func(Leaf)) {
	at = at[:len(at):len(at)] // appends below must not share a backing array
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 0 {
			fn(Leaf{p, t, at})
		}
		for k, e := range t {
			walkLeaves(AppendKey(p, k), append(at, k), e, fn)
		}
	case []any:
		if len(t) == 0 {
			fn(Leaf{p, t, at})
		}
		for i, e := range t {
			walkLeaves(AppendIndex(p, i), append(at, i), e, fn)
		}
	default:
		fn(Leaf{p, v, at})
	}
}

// Get returns the value at a leaf's place (Leaf.At) in v.
func Get(v any, at []any) (any, bool) {
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
			if !ok || k < 0 || k >= len(l) {
				return nil, false
			}
			v = l[k]
		}
	}
	return v, true
}

// JSONEqual reports whether a and b are the same JSON value. Numbers compare
// by value: the apiserver's objects hold int64 where YAML and JSON decoders
// give float64 for the same number. Generic maps and lists are walked;
// other Go types are compared through a JSON round trip.
func JSONEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return viaJSON(a, b)
		}
		if len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !JSONEqual(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok {
			return viaJSON(a, b)
		}
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if !JSONEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	fa, aNum := number(a)
	fb, bNum := number(b)
	switch {
	case aNum && bNum:
		return fa == fb
	case aNum || bNum:
		return viaJSON(a, b)
	}
	switch a.(type) {
	case nil, string, bool:
		switch b.(type) {
		case nil, string, bool:
			return a == b
		}
	}
	return viaJSON(a, b)
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

// viaJSON compares values of any Go type as their JSON round trips.
func viaJSON(a, b any) bool {
	na, errA := normalizeJSON(a)
	nb, errB := normalizeJSON(b)
	return errA == nil && errB == nil && reflect.DeepEqual(na, nb)
}

func normalizeJSON(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(b, &out)
	return out, err
}
