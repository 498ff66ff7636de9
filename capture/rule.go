package capture

import (
	"path"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

// Mode says how an object's runtime state is kept in Git.
type Mode string

const (
	// ModePatch keeps only the selected runtime fields, as a patch over an
	// object that Git already holds.
	ModePatch Mode = "patch"
	// ModeObject keeps a sanitized whole object that exists only at run time
	// (a composed Crossplane resource, a bound PV).
	ModeObject Mode = "object"
)

// A Rule selects objects and the fields of them worth keeping.
type Rule struct {
	Name  string
	Match Match
	Mode  Mode
	// Fields are the paths captured. In object mode the whole object is kept
	// and Fields only name the status subtrees to keep.
	Fields []Path
	// Exclude removes volatile sub-fields (timestamps, observedGeneration) from
	// what Fields selected, so that noise never makes a commit.
	Exclude []Path
	// IncludeOwned captures objects that have a controller ownerReference.
	// They are skipped by default: restoring a child its controller did not
	// create makes some operators refuse to reconcile (seed 000, CNPG).
	IncludeOwned bool
}

// Match selects objects. Empty lists match everything; group, kind and name
// entries are globs (path.Match syntax); "" is the core API group.
type Match struct {
	APIGroups         []string
	Kinds             []string
	Namespaces        []string
	ExcludeNamespaces []string
	Names             []string
	Selector          labels.Selector
}

// MatchesKind reports whether the rule applies to objects of group/kind,
// whatever their version.
func (m Match) MatchesKind(group, kind string) bool {
	return globAny(m.APIGroups, group) && globAny(m.Kinds, kind)
}

// MatchesObject reports whether u passes the rule's namespace, name and label
// filters. The kind is checked by MatchesKind.
func (r Rule) MatchesObject(u *unstructured.Unstructured) bool {
	m := r.Match
	ns := u.GetNamespace()
	if len(m.Namespaces) > 0 && !globAny(m.Namespaces, ns) {
		return false
	}
	if len(m.ExcludeNamespaces) > 0 && ns != "" && globAny(m.ExcludeNamespaces, ns) {
		return false
	}
	if !globAny(m.Names, u.GetName()) {
		return false
	}
	if m.Selector != nil && !m.Selector.Matches(labels.Set(u.GetLabels())) {
		return false
	}
	if !r.IncludeOwned && hasControllerOwner(u) {
		return false
	}
	return true
}

func hasControllerOwner(u *unstructured.Unstructured) bool {
	for _, o := range u.GetOwnerReferences() {
		if o.Controller != nil && *o.Controller {
			return true
		}
	}
	return false
}

// globAny reports whether s matches one of the globs; no globs match all.
func globAny(globs []string, s string) bool {
	if len(globs) == 0 {
		return true
	}
	for _, g := range globs {
		if ok, _ := path.Match(g, s); ok {
			return true
		}
	}
	return false
}
