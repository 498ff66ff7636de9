package render

import (
	"slices"
	"strconv"
)

// A direct YAML encoder for the common shape of an overlay file: nested
// maps, lists of scalars or maps, and scalars that are written plain. It
// writes the bytes sigs.k8s.io/yaml.Marshal writes (JSON, then JSON to
// YAML through go-yaml v2, block style, two-space indent, lists inside a
// map not indented), without the round trip, which allocated about 30 KB
// per file and was most of a large first commit's CPU (issue 15, item 2).
// It knows only what it can write exactly; for anything else (a string
// that needs quoting or a literal block, a key order it cannot decide, a
// float, an empty map or list, a list in a list) it reports false and the
// caller marshals the file the usual way. TestDirectYAMLEqualsMarshal
// holds it to yaml.Marshal's bytes over random documents.

// appendYAML appends obj as YAML to b; ok is false when obj is outside what
// the direct encoder writes (b is then returned as it was given).
func appendYAML(b []byte, obj map[string]any) ([]byte, bool) {
	if len(obj) == 0 {
		return b, false
	}
	out, ok := appendMap(b, obj, 0, false)
	if !ok {
		return b, false
	}
	return out, true
}

// appendMap writes a non-empty map's entries at indent; inItem says the
// first entry follows a list item's "- " on the same line.
func appendMap(b []byte, m map[string]any, indent int, inItem bool) ([]byte, bool) {
	var small [8]string
	keys := small[:0]
	for k := range m {
		if !plainKey(k) {
			return b, false
		}
		keys = append(keys, k)
	}
	ok := true
	slices.SortFunc(keys, func(x, y string) int {
		less, known := keyLess(x, y)
		switch {
		case !known:
			ok = false
			return 0
		case less:
			return -1
		case x == y:
			return 0
		default:
			return 1
		}
	})
	if !ok {
		return b, false
	}
	for i, k := range keys {
		if i > 0 || !inItem {
			b = appendIndent(b, indent)
		}
		b = append(b, k...)
		b = append(b, ':')
		switch v := m[k].(type) {
		case map[string]any:
			if len(v) == 0 {
				return b, false
			}
			b = append(b, '\n')
			if b, ok = appendMap(b, v, indent+2, false); !ok {
				return b, false
			}
		case []any:
			if len(v) == 0 {
				return b, false
			}
			b = append(b, '\n')
			if b, ok = appendList(b, v, indent); !ok {
				return b, false
			}
		default:
			b = append(b, ' ')
			if b, ok = appendScalar(b, v); !ok {
				return b, false
			}
			b = append(b, '\n')
		}
	}
	return b, true
}

// appendList writes a list's items at indent ("- " then the item).
func appendList(b []byte, l []any, indent int) ([]byte, bool) {
	ok := true
	for _, e := range l {
		b = appendIndent(b, indent)
		b = append(b, '-', ' ')
		switch v := e.(type) {
		case map[string]any:
			if len(v) == 0 {
				return b, false
			}
			if b, ok = appendMap(b, v, indent+2, true); !ok {
				return b, false
			}
		case []any:
			return b, false
		default:
			if b, ok = appendScalar(b, v); !ok {
				return b, false
			}
			b = append(b, '\n')
		}
	}
	return b, true
}

func appendIndent(b []byte, n int) []byte {
	for range n {
		b = append(b, ' ')
	}
	return b
}

// appendScalar writes a scalar as go-yaml writes it after the JSON round
// trip: strings plain (only those plainString allows), integers in
// decimal (a float with an integral value is an integer in JSON, and
// go-yaml reads it back as one), true, false, null.
func appendScalar(b []byte, v any) ([]byte, bool) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), true
	case bool:
		return strconv.AppendBool(b, v), true
	case string:
		if !plainString(v) {
			return b, false
		}
		return append(b, v...), true
	case int:
		return strconv.AppendInt(b, int64(v), 10), true
	case int64:
		return strconv.AppendInt(b, v, 10), true
	case int32:
		return strconv.AppendInt(b, int64(v), 10), true
	case float64:
		// Integral and well inside the range JSON writes without an
		// exponent (and an int64 holds).
		if v != v || v < -1e15 || v > 1e15 || v != float64(int64(v)) {
			return b, false
		}
		return strconv.AppendInt(b, int64(v), 10), true
	default:
		return b, false
	}
}

// plainString reports whether go-yaml writes s as a plain scalar, by a
// rule narrower than go-yaml's own: ASCII letters, digits and - . _ / :
// only, a letter first (so it cannot read back as a number, a date or a
// document marker), not a word YAML 1.1 reads as a boolean or null, and no
// ':' last (": " or a final ':' would be a mapping indicator).
func plainString(s string) bool {
	if s == "" || !isLetter(s[0]) || s[len(s)-1] == ':' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isLetter(c) && !isDigit(c) && c != '-' && c != '.' && c != '_' && c != '/' && c != ':' {
			return false
		}
	}
	if len(s) <= 5 && yaml11Word(s) {
		return false
	}
	return true
}

// plainKey is plainString for a key, which must also stay a simple key
// (go-yaml writes a longer one as "? key").
func plainKey(k string) bool { return len(k) <= 128 && plainString(k) }

// yaml11Word reports whether s is, in any letter case, one of the words
// YAML 1.1 resolves to a boolean or null (y, yes, n, no, true, false, on,
// off, null).
func yaml11Word(s string) bool {
	var low [5]byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		low[i] = c
	}
	switch string(low[:len(s)]) {
	case "y", "yes", "n", "no", "true", "false", "on", "off", "null":
		return true
	}
	return false
}

// keyLess orders two map keys as go-yaml v2 orders a map's keys: at the
// first byte where they differ, letters compare by code, and a non-letter
// sorts before a letter; between two non-letters go-yaml compares runs of
// digits by value, which this encoder does not do: with a digit at that
// position known is false. A key that is a prefix of the other sorts
// first. Keys are plainKey (ASCII).
func keyLess(x, y string) (less, known bool) {
	n := min(len(x), len(y))
	for i := 0; i < n; i++ {
		a, c := x[i], y[i]
		if a == c {
			continue
		}
		al, cl := isLetter(a), isLetter(c)
		switch {
		case al && cl:
			return a < c, true
		case al || cl:
			return cl, true
		case isDigit(a) || isDigit(c):
			return false, false
		default:
			return a < c, true
		}
	}
	return len(x) < len(y), true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
