package capture

import (
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Restorable is what the rules let a restore write from one recorded status
// file: the branch is written by whoever can push to it, so a restore
// writes back only what a capture under the same rules could have recorded.
type Restorable struct {
	// Status is the part of the file's status that a rule selects (nil
	// when nothing is).
	Status map[string]any
	// Refused are the paths of the file's status leaves no rule selects,
	// sorted. A file of a kind, namespace or name no rule matches is
	// refused whole: Refused is ["status"].
	Refused []string
	// KindMatched reports whether a rule matches the object at all.
	KindMatched bool
}

// SelectStatus splits the status that obj (a recorded status file: identity
// and status) holds into what the rules select and what they do not, with
// the same paths and exclusions Build applies when it captures.
//
// A rule applies when it matches the object's group, kind, namespace and
// name. Label selectors, HasFields and ownership are not checked: they are
// about the live object, which in a rebuilt cluster has no status yet (so
// HasFields such as "status" would refuse everything) and whose labels the
// status file does not record. What a rule can select, by kind and field, is
// what bounds a restore.
func SelectStatus(rules []Rule, obj *unstructured.Unstructured) Restorable {
	status, _ := obj.Object["status"].(map[string]any)
	gvk := obj.GroupVersionKind()
	var out Restorable
	selected := map[string]any{}
	for _, r := range rules {
		if !r.Match.MatchesKind(gvk.Group, gvk.Kind) || !r.Match.matchesIdentity(obj.GetNamespace(), obj.GetName()) {
			continue
		}
		out.KindMatched = true
		sel := map[string]any{}
		for _, p := range r.Fields {
			if p.Root() == "status" {
				p.CopyInto(sel, obj.Object)
			}
		}
		for _, p := range r.Exclude {
			p.Delete(sel)
		}
		if s, ok := sel["status"].(map[string]any); ok {
			mergeInto(selected, s)
		}
	}
	if !out.KindMatched {
		out.Refused = []string{"status"}
		return out
	}
	WalkLeaves("status", status, func(l Leaf) {
		if _, ok := Get(selected, l.At); !ok {
			out.Refused = append(out.Refused, l.Path)
		}
	})
	sort.Strings(out.Refused)
	pruneEmpty(selected)
	if len(selected) > 0 {
		out.Status = selected
	}
	return out
}

// matchesIdentity reports whether the namespace and name filters of m let
// an object with this namespace and name through.
func (m Match) matchesIdentity(ns, name string) bool {
	if len(m.Namespaces) > 0 && !globAny(m.Namespaces, ns) {
		return false
	}
	if len(m.ExcludeNamespaces) > 0 && ns != "" && globAny(m.ExcludeNamespaces, ns) {
		return false
	}
	return globAny(m.Names, name)
}
