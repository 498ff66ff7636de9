package describe

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
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
	add := func(p string, ov, nv string) {
		if identity[p] {
			return
		}
		f := Field{Path: p, Old: ov, New: nv}
		if secretObject || hiddenPath(p) {
			f.Hidden, f.Old, f.New = true, hide(ov), hide(nv)
		}
		out = append(out, f)
	}
	for p, nv := range n {
		if ov, ok := o[p]; !ok || ov != nv {
			add(p, o[p], nv)
		}
	}
	for p, ov := range o {
		if _, ok := n[p]; !ok {
			add(p, ov, "")
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// changedPaths is diffFields without values, hiding or order: the paths
// that changed, or none when either side is not YAML.
func changedPaths(old, new []byte) []string {
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

// hiddenPath is true when any key on the path looks like a secret, or the
// path is in a Secret's data.
func hiddenPath(p string) bool {
	if strings.HasPrefix(p, "data") || strings.HasPrefix(p, "stringData") {
		return true
	}
	for _, k := range splitKeys(p) {
		if secretLike.MatchString(k) {
			return true
		}
	}
	return false
}

var pathPart = regexp.MustCompile(`\["([^"]*)"\]|\[\d+\]|[^.\[\]]+`)

// splitKeys returns the keys of a field path, quotes and indices removed.
func splitKeys(p string) []string {
	var out []string
	for _, part := range pathPart.FindAllStringSubmatch(p, -1) {
		switch {
		case part[1] != "":
			out = append(out, part[1])
		case !strings.HasPrefix(part[0], "["):
			out = append(out, part[0])
		}
	}
	return out
}

// leaves flattens a YAML document to field path → scalar value.
func leaves(doc []byte) (map[string]string, error) {
	out := map[string]string{}
	if len(doc) == 0 {
		return out, nil
	}
	var v any
	if err := yaml.Unmarshal(doc, &v); err != nil {
		return nil, err
	}
	flatten("", v, out)
	return out, nil
}

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func flatten(prefix string, v any, out map[string]string) {
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 0 && prefix != "" {
			out[prefix] = "{}"
		}
		for k, c := range t {
			p := prefix + "." + k
			if !plainKey.MatchString(k) {
				p = prefix + `["` + k + `"]`
			} else if prefix == "" {
				p = k
			}
			flatten(p, c, out)
		}
	case []any:
		if len(t) == 0 {
			out[prefix] = "[]"
		}
		for i, c := range t {
			flatten(prefix+"["+strconv.Itoa(i)+"]", c, out)
		}
	case string:
		out[prefix] = t
	case nil:
		out[prefix] = "null"
	default:
		b, _ := json.Marshal(t)
		out[prefix] = string(b)
	}
}
