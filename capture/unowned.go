package capture

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// Redacted stands for every value of a Secret in discover's output.
const Redacted = "<redacted>"

// UnownedField is a field that runtime managers write on objects of one kind
// and that no GitOps manager owns: state Git lacks, a candidate for a rule.
type UnownedField struct {
	Group, Kind string
	// Path is in rule syntax; list elements are [*].
	Path string
	// Manager wrote it; "/status" is appended for the status subresource.
	Manager string
	// Objects counts the objects of the kind holding it.
	Objects int
	// Example is a value seen, as JSON (Redacted for Secrets), and
	// ExampleRef the object it was seen on.
	Example    string
	ExampleRef ObjectRef
}

// UnownedReport aggregates, over the objects it is fed, which fields runtime
// managers own. It is pure: listing the objects is capture/live's job.
type UnownedReport struct {
	managers []string
	fields   map[unownedKey]*UnownedField
	seen     map[kindKey]int
	// owned counts the objects of a kind that have a controller owner: a
	// rule for them needs includeOwned.
	owned map[kindKey]int
}

type unownedKey struct{ group, kind, path, manager string }

type kindKey struct{ group, kind string }

// NewUnownedReport starts a report; gitops are the GitOps field managers
// (names or globs).
func NewUnownedReport(gitops []string) *UnownedReport {
	return &UnownedReport{managers: gitops, fields: map[unownedKey]*UnownedField{}, seen: map[kindKey]int{}, owned: map[kindKey]int{}}
}

// exampleMax bounds an example value so that a large status does not flood
// the report.
const exampleMax = 60

// Add records the fields of u that runtime managers own and no GitOps
// manager does. Server bookkeeping under metadata (finalizers, owner
// references) and the last-applied annotation are not state to keep and are
// left out.
func (r *UnownedReport) Add(u *unstructured.Unstructured) {
	ref := RefOf(u)
	r.seen[kindKey{ref.Group, ref.Kind}]++
	if HasControllerOwner(u) {
		r.owned[kindKey{ref.Group, ref.Kind}]++
	}
	gitops := NewOwnership(u, r.managers).gitops
	secret := ref.Group == "" && ref.Kind == "Secret"
	inObject := map[unownedKey]bool{}
	for _, e := range u.GetManagedFields() {
		if e.FieldsV1 == nil || IsGitOpsManager(e.Manager, r.managers) {
			continue
		}
		var s fieldpath.Set
		if err := s.FromJSON(bytes.NewReader(e.FieldsV1.Raw)); err != nil {
			continue
		}
		manager := e.Manager
		if e.Subresource != "" {
			manager += "/" + e.Subresource
		}
		s.Leaves().Iterate(func(p fieldpath.Path) {
			if gitops.Has(p) || !worthKeeping(p) {
				return
			}
			k := unownedKey{ref.Group, ref.Kind, RulePath(p), manager}
			if inObject[k] {
				return
			}
			inObject[k] = true
			f := r.fields[k]
			if f == nil {
				f = &UnownedField{Group: ref.Group, Kind: ref.Kind, Path: k.path, Manager: manager}
				r.fields[k] = f
			}
			f.Objects++
			if f.Example == "" || ref.Less(f.ExampleRef) {
				f.ExampleRef = ref
				f.Example = Redacted
				if !secret {
					f.Example = example(u.Object, p)
				}
			}
		})
	}
}

// worthKeeping leaves out metadata other than labels and annotations, and
// the last-applied annotation (the GitOps tool's own copy of Git).
func worthKeeping(p fieldpath.Path) bool {
	if len(p) == 0 || p[0].FieldName == nil || *p[0].FieldName != "metadata" {
		return true
	}
	if len(p) < 2 || p[1].FieldName == nil {
		return false
	}
	switch *p[1].FieldName {
	case "labels":
		return true
	case "annotations":
		return len(p) < 3 || p[2].FieldName == nil || *p[2].FieldName != LastAppliedAnnotation
	}
	return false
}

// Objects returns how many objects of group/kind the report saw.
func (r *UnownedReport) Objects(group, kind string) int { return r.seen[kindKey{group, kind}] }

// Fields returns the fields sorted by group, kind, then most common first.
func (r *UnownedReport) Fields() []UnownedField {
	out := make([]UnownedField, 0, len(r.fields))
	for _, f := range r.fields {
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Group != b.Group || a.Kind != b.Kind {
			return a.Group < b.Group || a.Group == b.Group && a.Kind < b.Kind
		}
		if a.Objects != b.Objects {
			return a.Objects > b.Objects
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Manager < b.Manager
	})
	return out
}

// SuggestedRule is a rule discover proposes, in config terms.
type SuggestedRule struct {
	Name      string
	APIGroup  string
	Kind      string
	Fields    []string
	Exclude   []string
	Objects   int
	OfObjects int
	// IncludeOwned is set when some objects of the kind have a controller
	// owner (discover surveyed them with --include-owned).
	IncludeOwned bool
}

// Suggest proposes one rule per kind keeping the fields that at least
// minShare of the kind's objects hold. Paths are shortened to a subtree a
// person would write (status.atProvider, spec.volumeName, one annotation),
// conditions and observedGeneration are left out as volatile, and Secrets
// get no rule (their values are never captured).
func (r *UnownedReport) Suggest(minShare float64) []SuggestedRule {
	byKind := map[kindKey]map[string]int{}
	for _, f := range r.Fields() {
		k := kindKey{f.Group, f.Kind}
		if k.group == "" && k.kind == "Secret" {
			continue
		}
		if float64(f.Objects) < minShare*float64(r.seen[k]) {
			continue
		}
		p, ok := suggestPath(f.Path)
		if !ok {
			continue
		}
		if byKind[k] == nil {
			byKind[k] = map[string]int{}
		}
		byKind[k][p] = max(byKind[k][p], f.Objects)
	}
	var out []SuggestedRule
	for k, ps := range byKind {
		s := SuggestedRule{Name: "discovered-" + strings.ToLower(k.kind), APIGroup: k.group, Kind: k.kind, OfObjects: r.seen[k], IncludeOwned: r.owned[k] > 0}
		if k.group != "" {
			s.Name += "-" + strings.ReplaceAll(k.group, ".", "-")
		}
		for p, n := range ps {
			s.Fields = append(s.Fields, p)
			s.Objects = max(s.Objects, n)
		}
		sort.Strings(s.Fields)
		s.Fields = dropNested(s.Fields)
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// suggestPath shortens a path to the subtree a rule would name; ok is false
// for volatile fields.
func suggestPath(s string) (string, bool) {
	p, err := ParsePath(s)
	if err != nil {
		return "", false
	}
	keep := 2
	if p.Root() == "metadata" {
		keep = 3 // one annotation or label
	}
	for i, seg := range p.segs {
		if seg.wildcard {
			keep = min(keep, i)
			break
		}
	}
	if keep > len(p.segs) {
		keep = len(p.segs)
	}
	short := Path{segs: p.segs[:keep]}
	short.raw = short.format()
	switch short.raw {
	case "status.conditions", "status.observedGeneration", "status":
		return "", false
	}
	return short.raw, keep > 0
}

// dropNested removes paths that a shorter path in the sorted list covers.
func dropNested(ps []string) []string {
	var out []string
	for _, p := range ps {
		if len(out) > 0 {
			last := out[len(out)-1]
			if strings.HasPrefix(p, last+".") || strings.HasPrefix(p, last+"[") {
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

// RulePath writes a managed-fields path in rule syntax: names dotted, keys
// with dots or slashes quoted in brackets, list elements as [*].
func RulePath(p fieldpath.Path) string {
	var segs []segment
	for _, pe := range p {
		if pe.FieldName != nil {
			segs = append(segs, segment{key: *pe.FieldName})
		} else {
			segs = append(segs, segment{wildcard: true})
		}
	}
	return Path{segs: segs}.format()
}

// format writes segments in the syntax ParsePath reads (AppendKey).
func (p Path) format() string {
	out := ""
	for _, s := range p.segs {
		if s.wildcard {
			out += "[*]"
			continue
		}
		out = AppendKey(out, s.key)
	}
	return out
}

// example returns the value at p in obj as short JSON.
func example(obj map[string]any, p fieldpath.Path) string {
	v, ok := valueAt(obj, p)
	if !ok {
		return "<absent>"
	}
	// A credential-looking value (status.adminPassword, data.token), or a
	// subtree holding one, is not printed: discover's output lands in
	// terminals, CI logs and issues.
	if credentialPath(p) {
		return Redacted
	}
	if paths, _ := credentialLeaves("", v); len(paths) > 0 {
		return Redacted
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	s := string(b)
	if len(s) > exampleMax {
		s = s[:exampleMax-3] + "..."
	}
	return s
}

// valueAt follows a managed-fields path through an object: field names in
// maps, keys, values and indexes in lists.
func valueAt(v any, p fieldpath.Path) (any, bool) {
	for _, pe := range p {
		switch {
		case pe.FieldName != nil:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[*pe.FieldName]; !ok {
				return nil, false
			}
		case pe.Index != nil:
			l, ok := v.([]any)
			if !ok || *pe.Index >= len(l) {
				return nil, false
			}
			v = l[*pe.Index]
		case pe.Value != nil:
			return (*pe.Value).Unstructured(), true
		case pe.Key != nil:
			l, ok := v.([]any)
			if !ok {
				return nil, false
			}
			found := false
			for _, e := range l {
				if m, ok := e.(map[string]any); ok && keyMatches(m, pe) {
					v, found = e, true
					break
				}
			}
			if !found {
				return nil, false
			}
		}
	}
	return v, true
}

func keyMatches(m map[string]any, pe fieldpath.PathElement) bool {
	for _, f := range *pe.Key {
		if !JSONEqual(m[f.Name], f.Value.Unstructured()) {
			return false
		}
	}
	return true
}

// credentialPath reports whether a key on a managed-fields path looks like
// a credential.
func credentialPath(p fieldpath.Path) bool {
	for _, pe := range p {
		if pe.FieldName != nil && LooksLikeCredential(*pe.FieldName) {
			return true
		}
		if pe.Key != nil {
			for _, f := range *pe.Key {
				if LooksLikeCredential(f.Name) {
					return true
				}
			}
		}
	}
	return false
}
