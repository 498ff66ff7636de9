package capture

import "k8s.io/apimachinery/pkg/runtime"

// Needs is what Build reads of the objects of one kind, so that a watcher
// can keep less in memory: a metadata-only informer when MetadataOnly, or a
// transform calling Strip.
type Needs struct {
	// Whole is set when a rule keeps the whole object (object or auto mode):
	// nothing may be stripped but what Sanitize drops anyway.
	Whole bool
	// MetadataOnly is set when every path the rules read lies under
	// metadata (Crossplane's external name): metadata, managedFields
	// included, is all Build needs.
	MetadataOnly bool
	// Paths outside metadata that Build reads (fields and hasFields), when
	// not Whole.
	Paths []Path
}

// NeedsFor returns what the rules read of objects of group/kind. With no
// matching rule it returns MetadataOnly and no paths: the kind need not be
// watched at all.
func NeedsFor(rules []Rule, group, kind string) Needs {
	var n Needs
	for _, r := range rules {
		if !r.Match.MatchesKind(group, kind) {
			continue
		}
		if r.Mode != ModePatch {
			n.Whole = true
		}
		for _, p := range append(append([]Path(nil), r.Fields...), r.Match.HasFields...) {
			if p.Root() != "metadata" {
				n.Paths = append(n.Paths, p)
			}
		}
	}
	if n.Whole {
		n.Paths = nil
	}
	n.MetadataOnly = !n.Whole && len(n.Paths) == 0
	return n
}

// Strip returns a copy of obj holding what Build reads: apiVersion, kind,
// the whole metadata (labels, ownerReferences, managedFields and the
// annotations the GitOps filter reads stay) and the values at Paths. Build
// gives the same capture for the stripped copy as for obj.
func (n Needs) Strip(obj map[string]any) map[string]any {
	if n.Whole {
		return runtime.DeepCopyJSON(obj)
	}
	out := map[string]any{}
	for _, k := range []string{"apiVersion", "kind", "metadata"} {
		if v, ok := obj[k]; ok {
			out[k] = runtime.DeepCopyJSONValue(v)
		}
	}
	for _, p := range n.Paths {
		p.CopyInto(out, obj)
	}
	return out
}
