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
	// ModeAuto keeps both the selected fields and the sanitized whole object;
	// render writes the patch when the Git base defines the object and the
	// whole object otherwise. Capture cannot tell (it knows nothing about
	// Git), and render stays pure by choosing from what it is handed.
	ModeAuto Mode = "auto"
)

// weight orders modes when several rules match one object: a whole object
// subsumes a patch, and auto (which may become a whole object) sits between.
func (m Mode) weight() int {
	switch m {
	case ModeObject:
		return 2
	case ModeAuto:
		return 1
	}
	return 0
}

// A Rule selects objects and the fields of them worth keeping.
type Rule struct {
	Name  string
	Match Match
	Mode  Mode
	// Fields are the paths captured. In object mode the whole object is kept
	// and Fields only name the status subtrees to keep.
	Fields []Path
	// Exclude removes volatile sub-fields (timestamps, observedGeneration) from
	// what Fields selected, so that noise never makes a commit. In object and
	// auto mode it also applies to the whole object.
	Exclude []Path
	// IncludeOwned captures objects that have a controller ownerReference.
	// They are skipped by default: restoring a child its controller did not
	// create makes some operators refuse to reconcile (seed 000, CNPG).
	IncludeOwned bool
	// OnlyOwned captures only objects that have a controller ownerReference
	// (composed resources, say); it implies IncludeOwned.
	OnlyOwned bool
	// GitOpsManagers name the field managers that apply Git's content
	// (argocd-controller, kustomize-controller, ...). Selected fields whose
	// live value one of them applied are marked in Capture.Applied, and
	// render leaves them out when the Git base holds them (see managed.go).
	// Empty: nothing is marked.
	GitOpsManagers []string
	// Encrypt writes every leaf the rule's Fields select, and every
	// credential-looking value it captures, SOPS-encrypted for the
	// configured age recipients (Capture.EncryptKeys).
	Encrypt bool
	// AllowClearText lets credential-looking values this rule captures go
	// to Git in clear text; otherwise they are withheld (Capture.Withheld).
	AllowClearText bool
}

// Match selects objects. Empty lists match everything; group, kind and name
// entries are globs (path.Match syntax); "" is the core API group.
type Match struct {
	APIGroups []string
	// ExcludeAPIGroups are globs of groups never matched, even when
	// APIGroups would match them.
	ExcludeAPIGroups  []string
	Kinds             []string
	Namespaces        []string
	ExcludeNamespaces []string
	Names             []string
	Selector          labels.Selector
	// HasFields restricts the rule to objects where every path holds a
	// non-empty value (a bound PVC has spec.volumeName; a served load
	// balancer has status.loadBalancer.ingress).
	HasFields []Path
}

// MatchesKind reports whether the rule applies to objects of group/kind,
// whatever their version.
func (m Match) MatchesKind(group, kind string) bool {
	if len(m.ExcludeAPIGroups) > 0 && globAny(m.ExcludeAPIGroups, group) {
		return false
	}
	return globAny(m.APIGroups, group) && globAny(m.Kinds, kind)
}

// MatchesObject reports whether u passes the rule's namespace, name, label,
// field-presence and ownership filters. The kind is checked by MatchesKind.
func (r Rule) MatchesObject(u *unstructured.Unstructured) bool {
	m := r.Match
	if !m.matchesIdentity(u.GetNamespace(), u.GetName()) {
		return false
	}
	if m.Selector != nil && !m.Selector.Matches(labels.Set(u.GetLabels())) {
		return false
	}
	for _, p := range m.HasFields {
		if !p.Present(u.Object) {
			return false
		}
	}
	owned := HasControllerOwner(u)
	if r.OnlyOwned {
		return owned
	}
	return r.IncludeOwned || !owned
}

// HasControllerOwner reports whether a controller manages u: such children
// are recreated by their controller and are not captured by default.
func HasControllerOwner(u *unstructured.Unstructured) bool {
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
