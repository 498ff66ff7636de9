package capture

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
)

// A Path names fields inside an object, e.g.
//
//	metadata.annotations["crossplane.io/external-name"]
//	status.conditions[*].lastTransitionTime
//
// Segments are separated by dots; a key that holds dots or slashes is written
// in brackets and double quotes; [*] stands for every element of a list (or
// every value of a map).
type Path struct {
	raw  string
	segs []segment
}

type segment struct {
	key      string
	wildcard bool
}

// pathSyntax is quoted in every parse error so the user sees what is allowed.
const pathSyntax = `allowed: dotted names (spec.forProvider.region), quoted keys in brackets (metadata.annotations["crossplane.io/external-name"]) and [*] for every list element`

// ParsePath parses the field path syntax described on Path.
func ParsePath(s string) (Path, error) {
	if strings.TrimSpace(s) == "" {
		return Path{}, fmt.Errorf("empty field path; %s", pathSyntax)
	}
	var segs []segment
	i := 0
	expectName := true
	for i < len(s) {
		switch c := s[i]; {
		case c == '.':
			if expectName || i == len(s)-1 {
				return Path{}, fmt.Errorf("field path %q: unexpected '.' at offset %d; %s", s, i, pathSyntax)
			}
			expectName = true
			i++
		case c == '[':
			seg, n, err := parseBracket(s, i)
			if err != nil {
				return Path{}, err
			}
			if len(segs) == 0 {
				return Path{}, fmt.Errorf("field path %q: must start with a field name; %s", s, pathSyntax)
			}
			segs = append(segs, seg)
			i += n
			expectName = false
		default:
			if !expectName {
				return Path{}, fmt.Errorf("field path %q: expected '.' or '[' at offset %d; %s", s, i, pathSyntax)
			}
			j := i
			for j < len(s) && isNameChar(s[j]) {
				j++
			}
			if j == i {
				return Path{}, fmt.Errorf("field path %q: unexpected %q at offset %d; %s", s, c, i, pathSyntax)
			}
			segs = append(segs, segment{key: s[i:j]})
			i = j
			expectName = false
		}
	}
	return Path{raw: s, segs: segs}, nil
}

// MustParsePath is ParsePath for paths written in the source (presets, tests).
func MustParsePath(s string) Path {
	p, err := ParsePath(s)
	if err != nil {
		panic(err)
	}
	return p
}

func isNameChar(c byte) bool {
	return c == '_' || c == '-' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// parseBracket parses [*] or ["key"] starting at s[i] == '['.
func parseBracket(s string, i int) (segment, int, error) {
	rest := s[i:]
	if strings.HasPrefix(rest, "[*]") {
		return segment{wildcard: true}, 3, nil
	}
	if !strings.HasPrefix(rest, `["`) {
		return segment{}, 0, fmt.Errorf("field path %q: bracket at offset %d must hold [*] or a double-quoted key; %s", s, i, pathSyntax)
	}
	var key strings.Builder
	for j := 2; j < len(rest); j++ {
		switch rest[j] {
		case '\\':
			if j+1 < len(rest) {
				key.WriteByte(rest[j+1])
				j++
				continue
			}
		case '"':
			if j+1 < len(rest) && rest[j+1] == ']' {
				if key.Len() == 0 {
					return segment{}, 0, fmt.Errorf("field path %q: empty key at offset %d; %s", s, i, pathSyntax)
				}
				return segment{key: key.String()}, j + 2, nil
			}
			return segment{}, 0, fmt.Errorf("field path %q: quoted key at offset %d must end with \"]; %s", s, i, pathSyntax)
		}
		key.WriteByte(rest[j])
	}
	return segment{}, 0, fmt.Errorf("field path %q: unterminated bracket at offset %d; %s", s, i, pathSyntax)
}

// String returns the path as written.
func (p Path) String() string { return p.raw }

// Root is the first field name of the path (metadata, spec, status, ...).
func (p Path) Root() string {
	if len(p.segs) == 0 {
		return ""
	}
	return p.segs[0].key
}

// HasPrefix reports whether p starts with the field names of q (no wildcards in q).
func (p Path) HasPrefix(q Path) bool {
	if len(q.segs) > len(p.segs) {
		return false
	}
	for i, s := range q.segs {
		if s != p.segs[i] {
			return false
		}
	}
	return true
}

// CopyInto copies the values found at p in src into dst, creating the
// intermediate maps and lists; it reports whether anything was found.
func (p Path) CopyInto(dst, src map[string]any) bool {
	v, ok := extract(src, p.segs)
	if !ok {
		return false
	}
	mergeInto(dst, v.(map[string]any))
	return true
}

// Present reports whether obj holds a non-empty value at p (for [*], at
// least one element does): nil, {} and [] count as absent.
func (p Path) Present(obj map[string]any) bool {
	v, ok := extract(obj, p.segs)
	if !ok {
		return false
	}
	_, keep := pruneValue(v)
	return keep
}

// Delete removes the values at p from obj, then prunes maps left empty by it.
func (p Path) Delete(obj map[string]any) {
	deleteAt(obj, p.segs)
}

// extract returns a value shaped like src that holds only what lies at segs.
func extract(src any, segs []segment) (any, bool) {
	if len(segs) == 0 {
		return runtime.DeepCopyJSONValue(src), true
	}
	s, rest := segs[0], segs[1:]
	switch v := src.(type) {
	case map[string]any:
		if s.wildcard {
			out := map[string]any{}
			for k, e := range v {
				if x, ok := extract(e, rest); ok {
					out[k] = x
				}
			}
			return out, len(out) > 0
		}
		e, ok := v[s.key]
		if !ok {
			return nil, false
		}
		x, ok := extract(e, rest)
		if !ok {
			return nil, false
		}
		return map[string]any{s.key: x}, true
	case []any:
		if !s.wildcard {
			return nil, false
		}
		out := make([]any, len(v))
		found := false
		for i, e := range v {
			if x, ok := extract(e, rest); ok {
				out[i] = x
				found = true
			} else {
				out[i] = map[string]any{}
			}
		}
		return out, found
	}
	return nil, false
}

// mergeInto deep-merges src into dst; lists of equal length merge element-wise,
// anything else in src replaces what dst holds.
func mergeInto(dst, src map[string]any) {
	for k, sv := range src {
		dst[k] = mergeValue(dst[k], sv)
	}
}

func mergeValue(dv, sv any) any {
	switch s := sv.(type) {
	case map[string]any:
		if d, ok := dv.(map[string]any); ok {
			mergeInto(d, s)
			return d
		}
	case []any:
		if d, ok := dv.([]any); ok && len(d) == len(s) {
			for i := range s {
				d[i] = mergeValue(d[i], s[i])
			}
			return d
		}
	}
	return sv
}

func deleteAt(v any, segs []segment) {
	if len(segs) == 0 {
		return
	}
	s, rest := segs[0], segs[1:]
	switch o := v.(type) {
	case map[string]any:
		keys := []string{s.key}
		if s.wildcard {
			keys = keys[:0]
			for k := range o {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			e, ok := o[k]
			if !ok {
				continue
			}
			if len(rest) == 0 {
				delete(o, k)
				continue
			}
			deleteAt(e, rest)
			if m, ok := e.(map[string]any); ok && len(m) == 0 {
				delete(o, k)
			}
		}
	case []any:
		if s.wildcard {
			for _, e := range o {
				deleteAt(e, rest)
			}
		}
	}
}
