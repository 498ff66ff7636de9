package describe

import (
	"bytes"
	"strings"
)

// Why this file exists: a large cluster's first commit adds 100,000 files,
// and past the commit body's cap each added patch is named (external name,
// ARN, …) by its leaf paths, which meant a YAML parse per file: about a
// second of CPU per first commit at 50,000 objects, most of the commit
// message's cost. Those files come in a few shapes: the same keys at the
// same places, different values. A shape is the document with every
// value cut out; for documents in the plain subset of YAML below, two
// documents of one shape have the same leaf paths, so one parse per shape
// names every file of it.

// maxShapes bounds a classification's cache: files of more shapes than
// this are parsed each.
const maxShapes = 1024

// shapes names added patches by shape, for one worker of classifyRest.
type shapes struct {
	buf   []byte
	whats map[string]string
}

// addedWhat is patchWhat(changedPaths(nil, doc)): the name of an added
// patch, from the cache when a document of its shape was named before.
func (s *shapes) addedWhat(doc []byte) string {
	if !s.shape(doc) {
		return patchWhat(changedPaths(nil, doc))
	}
	if w, ok := s.whats[string(s.buf)]; ok {
		return w
	}
	w := patchWhat(changedPaths(nil, doc))
	if s.whats == nil {
		s.whats = map[string]string{}
	}
	if len(s.whats) < maxShapes {
		s.whats[string(s.buf)] = w
	}
	return w
}

// shape writes doc's shape into s.buf and reports whether doc is in the
// subset where the shape fixes the leaf paths: block mappings only, one
// `key: value` or `key:` per line, plain keys, and values that are one
// line and cannot change the structure (a plain scalar that does not
// start with an indicator and holds no ": ", a quoted one with no escape
// or inner quote, {} or []; ASCII only). A line deeper than the one
// before must follow a `key:` with no value: anything else is a
// continuation of a scalar, a list or a block scalar, which go-yaml reads
// by content, and the document is parsed instead.
func (s *shapes) shape(doc []byte) bool {
	s.buf = s.buf[:0]
	prevIndent, prevOpen := -1, false
	for len(doc) > 0 {
		line := doc
		if nl := bytes.IndexByte(doc, '\n'); nl >= 0 {
			line, doc = doc[:nl], doc[nl+1:]
		} else {
			doc = nil
		}
		ind := 0
		for ind < len(line) && line[ind] == ' ' {
			ind++
		}
		if ind == len(line) || (ind > prevIndent && prevIndent >= 0 && !prevOpen) {
			return false
		}
		k := ind
		for k < len(line) && isKeyByte(line[k]) {
			k++
		}
		if k == ind || k == len(line) || line[k] != ':' || !stringKey(line[ind:k]) {
			return false
		}
		val := line[k+1:]
		open := len(val) == 0
		if !open && (val[0] != ' ' || !plainValue(val[1:])) {
			return false
		}
		s.buf = append(s.buf, line[:k+1]...)
		if !open {
			s.buf = append(s.buf, '=')
		}
		s.buf = append(s.buf, '\n')
		prevIndent, prevOpen = ind, open
	}
	return true
}

// stringKey reports whether go-yaml reads key as the string it spells:
// it starts with a letter and is not one of YAML 1.1's booleans or null.
// A key read as a number or a boolean is turned back into a string by
// describe (stringKeys), and two of them can become one ("0" and "0.0").
func stringKey(key []byte) bool {
	if c := key[0]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
		return false
	}
	switch strings.ToLower(string(key)) {
	case "y", "n", "yes", "no", "on", "off", "true", "false", "null":
		return false
	}
	return true
}

func isKeyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '/' || c == '-'
}

// plainValue reports whether v, a value after "key: ", is one scalar on
// its line that leaves the structure alone in every document of a shape.
func plainValue(v []byte) bool {
	if len(v) == 0 {
		return false
	}
	for _, c := range v {
		if c < 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	switch {
	case bytes.Equal(v, []byte("{}")) || bytes.Equal(v, []byte("[]")):
		return true
	case v[0] == '"' || v[0] == '\'':
		// Quoted: closed at the end of the line, no quote inside.
		q := v[0]
		if len(v) < 2 || v[len(v)-1] != q {
			return false
		}
		for _, c := range v[1 : len(v)-1] {
			if c == '"' || c == '\'' {
				return false
			}
		}
		return true
	}
	switch v[0] {
	case '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '%', '@', '`', ' ':
		return false
	}
	if v[len(v)-1] == ':' || v[len(v)-1] == ' ' {
		return false
	}
	for i := 0; i+1 < len(v); i++ {
		if v[i] == ':' && v[i+1] == ' ' {
			return false
		}
	}
	return true
}
