package describe

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
	goyaml "sigs.k8s.io/yaml/goyaml.v2"

	"github.com/driftback/driftback/capture"
)

// Field is one changed leaf of an object, addressed by a field path.
type Field struct {
	// Path in driftback's field path syntax:
	// metadata.annotations["crossplane.io/external-name"], spec.ports[0].port.
	Path string
	// Old and New are the values as YAML scalars ("" when absent).
	Old, New string
	// Hidden is set for values of Secret-like fields: they are never shown.
	Hidden bool
}

// identity fields name the object; they are in every file and never "change".
var identity = map[string]bool{"apiVersion": true, "kind": true, "metadata.name": true, "metadata.namespace": true}

// secretLike matches keys whose values must not be shown in a commit or a
// pull request, whatever object holds them.
var secretLike = regexp.MustCompile(`(?i)(password|passwd|secret|token|credential|private.?key|api.?key|access.?key|\bkey$|cert.?data|kubeconfig)`)

// diffFields compares two YAML documents leaf by leaf.
func diffFields(old, new []byte, secretObject bool) ([]Field, error) {
	o, err := leaves(old)
	if err != nil {
		return nil, fmt.Errorf("old content: %w", err)
	}
	n, err := leaves(new)
	if err != nil {
		return nil, fmt.Errorf("new content: %w", err)
	}
	var out []Field
	add := func(p string, ov, nv string, hidden bool) {
		if identity[p] {
			return
		}
		f := Field{Path: p, Old: ov, New: nv}
		if secretObject || hidden {
			f.Hidden, f.Old, f.New = true, hide(ov), hide(nv)
		}
		out = append(out, f)
	}
	for p, nv := range n {
		if ov, ok := o[p]; !ok || ov.value != nv.value {
			add(p, o[p].value, nv.value, nv.hidden)
		}
	}
	for p, ov := range o {
		if _, ok := n[p]; !ok {
			add(p, ov.value, "", ov.hidden)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// changedPaths is diffFields without values, hiding or order: the paths
// that changed, or none when either side is not YAML.
func changedPaths(old, new []byte) []string {
	o, err := leafValues(old)
	if err != nil {
		return nil
	}
	n, err := leafValues(new)
	if err != nil {
		return nil
	}
	var out []string
	for p, nv := range n {
		if ov, ok := o[p]; (!ok || ov != nv) && !identity[p] {
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

func hide(v string) string {
	if v == "" {
		return ""
	}
	return "(hidden)"
}

// hiddenAt is true when any key on the path looks like a secret, or the
// path is in a Secret's data.
func hiddenAt(at []any) bool {
	for i, s := range at {
		k, ok := s.(string)
		if !ok {
			continue
		}
		if i == 0 && (strings.HasPrefix(k, "data") || strings.HasPrefix(k, "stringData")) {
			return true
		}
		if secretLike.MatchString(k) {
			return true
		}
	}
	return false
}

// leaf is one flattened value and whether it must be hidden.
type leaf struct {
	value  string
	hidden bool
}

// leaves flattens a YAML document to field path (capture's syntax) →
// scalar value as YAML shows it.
func leaves(doc []byte) (map[string]leaf, error) {
	out := map[string]leaf{}
	if len(doc) == 0 {
		return out, nil
	}
	var v any
	if err := yaml.Unmarshal(doc, &v); err != nil {
		return nil, err
	}
	walkScalars(v, func(l capture.Leaf, s string) {
		out[l.Path] = leaf{value: s, hidden: hiddenAt(l.At)}
	})
	return out, nil
}

// leafValues is leaves without hiding, for changedPaths, which runs on
// every patch of a commit (100,000 at a large cluster's first commit):
// go-yaml decodes the document directly instead of through JSON, and no
// key is matched against secretLike. Both sides of a comparison are read
// the same way.
func leafValues(doc []byte) (map[string]string, error) {
	out := map[string]string{}
	if len(doc) == 0 {
		return out, nil
	}
	var v any
	if err := goyaml.Unmarshal(doc, &v); err != nil {
		return nil, err
	}
	walkScalars(stringKeys(v), func(l capture.Leaf, s string) { out[l.Path] = s })
	return out, nil
}

// stringKeys turns go-yaml's maps (any keys) into JSON's (string keys), as
// sigs.k8s.io/yaml does.
func stringKeys(v any) any {
	switch t := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			ks, ok := k.(string)
			if !ok {
				ks = fmt.Sprint(k)
			}
			m[ks] = stringKeys(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = stringKeys(e)
		}
		return t
	default:
		return v
	}
}

// walkScalars calls fn with each leaf of a decoded document and its value
// as a string (an empty map or list as {} or []).
func walkScalars(v any, fn func(capture.Leaf, string)) {
	capture.WalkLeaves("", v, func(l capture.Leaf) {
		var s string
		switch t := l.Value.(type) {
		case map[string]any:
			if l.Path == "" {
				return
			}
			s = "{}"
		case []any:
			s = "[]"
		case string:
			s = t
		case nil:
			s = "null"
		default:
			b, _ := json.Marshal(t)
			s = string(b)
		}
		fn(l, s)
	})
}
