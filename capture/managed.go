package capture

import (
	"bytes"
	"encoding/json"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// LastAppliedAnnotation holds the manifest `kubectl apply` (and Argo CD's
// client-side apply) last sent: what Git held at that time.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// DefaultGitOpsManagers are the field managers that write Git's content: Argo
// CD, Flux's kustomize-controller and kubectl's client-side apply.
var DefaultGitOpsManagers = []string{"argocd-controller", "kustomize-controller", "kubectl-client-side-apply"}

// ApplyManager is the field manager a rebuild applies Git's content as: the
// first plain name (not a glob) among the configured GitOps managers, else
// the first default name their globs match, else argocd-controller. A drill
// that applied as a manager outside that list would make every field it
// applied look like runtime state, and the rebuilt cluster's first capture
// would pin Git-held fields into the overlay.
func ApplyManager(managers []string) string {
	for _, m := range managers {
		if !strings.ContainsAny(m, "*?[\\") {
			return m
		}
	}
	// Only globs: the first default name one of them matches.
	for _, d := range DefaultGitOpsManagers {
		for _, m := range managers {
			if ok, _ := path.Match(m, d); ok {
				return d
			}
		}
	}
	return DefaultGitOpsManagers[0]
}

// Ownership says which fields of one object a GitOps tool applied, read from
// its managedFields and last-applied-configuration annotation.
//
// A captured leaf — a scalar, or a list taken whole — was applied by the
// GitOps tool when
//
//  1. the last-applied-configuration annotation, itself written by a GitOps
//     manager, holds an equal value at the same path; or
//  2. a GitOps manager's managedFields entry owns the leaf (for a list: the
//     list or anything in it) and no other manager's entry does.
//
// Everything else is runtime state: a field a runtime manager co-owns (it
// asserted the value too), a field no entry owns (defaulted, or written
// before managed fields existed), a value that drifted from the last apply.
// Entries of every operation and subresource count, status ones included:
// ownership is read straight from each entry's fieldsV1 with
// structured-merge-diff, because managedfields.ExtractInto only reads Apply
// entries.
//
// "Applied by the GitOps tool" is not "in Git's base": the tool also applies
// driftback's own overlay, so after a rebuild it is the sole owner of the
// external names the overlay restored, and its last-applied annotation holds
// them. Dropping such fields here would remove them from the overlay, and the
// next sync would delete them from the cluster. So capture only marks them
// (Capture.Applied) and render, which knows the base, leaves out those the
// base holds with the same value.
type Ownership struct {
	gitops, runtime *fieldpath.Set
	// lastApplied is the decoded annotation; nil when absent, unreadable or
	// not written by a GitOps manager.
	lastApplied map[string]any
}

// NewOwnership reads u's managedFields; managers are names or globs.
// Entries that cannot be parsed are ignored: their fields count as unowned,
// hence captured, which errs on the side of keeping state.
func NewOwnership(u *unstructured.Unstructured, managers []string) *Ownership {
	o := &Ownership{gitops: &fieldpath.Set{}, runtime: &fieldpath.Set{}}
	if !hasManager(u, managers) {
		// Nothing is applied by a GitOps tool, whatever the other entries
		// own: skip decoding them, which is most of the cost of a capture
		// (the watcher builds one per object as it syncs, and runtime
		// objects such as Crossplane's are rarely written by the tool).
		return o
	}
	for _, e := range u.GetManagedFields() {
		if e.FieldsV1 == nil {
			continue
		}
		var s fieldpath.Set
		if err := s.FromJSON(bytes.NewReader(e.FieldsV1.Raw)); err != nil {
			continue
		}
		if IsGitOpsManager(e.Manager, managers) {
			o.gitops = o.gitops.Union(&s)
		} else {
			o.runtime = o.runtime.Union(&s)
		}
	}
	la := fieldpath.MakePathOrDie("metadata", "annotations", LastAppliedAnnotation)
	if raw, ok := u.GetAnnotations()[LastAppliedAnnotation]; ok && o.gitops.Has(la) && !o.runtime.Has(la) {
		var m map[string]any
		if json.Unmarshal([]byte(raw), &m) == nil {
			o.lastApplied = m
		}
	}
	return o
}

// hasManager reports whether one of u's managedFields entries is by one of
// managers, reading the names straight from the object: the typed entries
// cost a JSON round trip each.
func hasManager(u *unstructured.Unstructured, managers []string) bool {
	v, _, _ := unstructured.NestedFieldNoCopy(u.Object, "metadata", "managedFields")
	entries, _ := v.([]any)
	for _, e := range entries {
		m, _ := e.(map[string]any)
		if name, ok := m["manager"].(string); ok && IsGitOpsManager(name, managers) {
			return true
		}
	}
	return false
}

// IsGitOpsManager reports whether a field manager name matches the list.
func IsGitOpsManager(name string, managers []string) bool {
	for _, g := range managers {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}

// Applied returns the leaves of sel (a selection shaped like the object)
// that the GitOps tool applied, shaped like sel; nil when there are none.
func (o *Ownership) Applied(sel map[string]any) map[string]any {
	if o.lastApplied == nil && o.gitops.Empty() {
		// No GitOps manager owns anything: no need to walk sel.
		return nil
	}
	out := o.applied(sel, fieldpath.Path{}, o.lastApplied)
	if len(out) == 0 {
		return nil
	}
	return out
}

func (o *Ownership) applied(m map[string]any, prefix fieldpath.Path, la map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		p := append(prefix.Copy(), fieldpath.FieldNameElement(k))
		av, inApplied := la[k]
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
			am, _ := av.(map[string]any)
			if a := o.applied(sub, p, am); len(a) > 0 {
				out[k] = a
			}
			continue
		}
		if inApplied && JSONEqual(av, v) || o.OwnedByGitOpsOnly(p) {
			// A copy: the capture's maps are merged into in place later.
			out[k] = runtime.DeepCopyJSONValue(v)
		}
	}
	return out
}

// OwnedByGitOpsOnly reports whether a GitOps manager owns p (or something
// under it) and no other manager does.
func (o *Ownership) OwnedByGitOpsOnly(p fieldpath.Path) bool {
	return owns(o.gitops, p) && !owns(o.runtime, p)
}

// owns reports whether s holds p or anything under it.
func owns(s *fieldpath.Set, p fieldpath.Path) bool {
	if s.Has(p) {
		return true
	}
	for _, pe := range p {
		var ok bool
		if s, ok = s.Children.Get(pe); !ok {
			return false
		}
	}
	return !s.Empty()
}
