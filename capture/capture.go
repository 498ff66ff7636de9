// Package capture decides what runtime state is kept: rules select objects
// and field paths; the result is a set of Captures, the only thing handed on
// to render. It knows nothing about files or Git.
package capture

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ObjectRef identifies an object, version-agnostic for ordering and naming.
type ObjectRef struct {
	Group     string
	Version   string
	Kind      string
	Namespace string
	Name      string
}

// APIVersion is group/version, or version alone for the core group.
func (r ObjectRef) APIVersion() string {
	return schema.GroupVersion{Group: r.Group, Version: r.Version}.String()
}

func (r ObjectRef) String() string {
	gk := r.Kind
	if r.Group != "" {
		gk += "." + r.Group
	}
	if r.Namespace == "" {
		return gk + "/" + r.Name
	}
	return gk + "/" + r.Namespace + "/" + r.Name
}

// Less orders refs by group, kind, namespace and name.
func (r ObjectRef) Less(o ObjectRef) bool { return r.Compare(o) < 0 }

// Compare is Less as -1, 0 or +1, for slices.SortFunc.
func (r ObjectRef) Compare(o ObjectRef) int {
	if c := strings.Compare(r.Group, o.Group); c != 0 {
		return c
	}
	if c := strings.Compare(r.Kind, o.Kind); c != 0 {
		return c
	}
	if c := strings.Compare(r.Namespace, o.Namespace); c != 0 {
		return c
	}
	return strings.Compare(r.Name, o.Name)
}

// RefOf returns the ref of an object.
func RefOf(u *unstructured.Unstructured) ObjectRef {
	gvk := u.GroupVersionKind()
	return ObjectRef{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: u.GetNamespace(), Name: u.GetName()}
}

// A Capture is the runtime state kept for one object.
type Capture struct {
	Ref  ObjectRef
	Mode Mode
	// Object holds apiVersion, kind, metadata.name/namespace and the captured
	// fields (patch and auto mode), or the sanitized whole object (object
	// mode). It never holds status.
	Object map[string]any
	// Applied holds the captured leaves (outside status) that the GitOps tool
	// applied, shaped like Object; nil when none. Render leaves out of the
	// patch those the Git base holds with the same value: they are in Git
	// already. See Ownership for why capture cannot drop them itself.
	Applied map[string]any
	// Whole is the sanitized whole object in auto mode, written instead of
	// the patch when the Git base does not define the object; nil otherwise.
	Whole map[string]any
	// Status is the captured status subtree, nil when nothing was captured.
	// Kubernetes ignores status on create, so it is written back by restore.
	Status map[string]any
	// Rules names the rules that contributed, sorted.
	Rules []string
	// EncryptKeys are the map keys whose values are written SOPS-encrypted
	// (a rule with encrypt: true: the last key of each of its fields, and
	// every credential-looking key captured), sorted; nil: nothing is.
	EncryptKeys []string
	// Withheld are the field paths of credential-looking values no rule
	// encrypts or allows in clear text: left out of the capture, named so
	// the caller can say so.
	Withheld []string
}

// Empty reports whether the capture holds no runtime state at all.
func (c Capture) Empty() bool {
	if c.Mode == ModeObject || c.Mode == ModeAuto && c.Whole != nil {
		return false
	}
	return len(c.Status) == 0 && !hasFieldsBeyondIdentity(c.Object)
}

func hasFieldsBeyondIdentity(o map[string]any) bool {
	for k, v := range o {
		switch k {
		case "apiVersion", "kind":
		case "metadata":
			m, _ := v.(map[string]any)
			for mk := range m {
				if mk != "name" && mk != "namespace" {
					return true
				}
			}
		default:
			return true
		}
	}
	return false
}

// Build applies the rules to an object and returns its capture; ok is false
// when no rule matches or nothing was found at the selected paths.
//
// u may be a whole object or one stripped by a watcher to what the rules
// read (see NeedsFor): Build reads only apiVersion, kind, metadata and the
// paths the matching rules name, unless one of them keeps the whole object.
func Build(rules []Rule, u *unstructured.Unstructured) (Capture, bool) {
	ref := RefOf(u)
	c := Capture{Ref: ref, Mode: ModePatch, Object: identity(ref, u.GetAPIVersion())}
	var matched []Rule
	for _, r := range rules {
		if r.Match.MatchesKind(ref.Group, ref.Kind) && r.MatchesObject(u) {
			matched = append(matched, r)
			if r.Mode.weight() > c.Mode.weight() {
				c.Mode = r.Mode
			}
		}
	}
	if len(matched) == 0 {
		return Capture{}, false
	}
	var whole map[string]any
	if c.Mode != ModePatch {
		whole = Sanitize(u.Object)
	}
	owners := map[string]*Ownership{}
	encrypt := map[string]bool{}
	var withheld []string
	var anyEncrypt, anyClear bool
	status := map[string]any{}
	applied := map[string]any{}
	for _, r := range matched {
		c.Rules = append(c.Rules, r.Name)
		sel := map[string]any{}
		for _, p := range r.Fields {
			p.CopyInto(sel, u.Object)
		}
		for _, p := range r.Exclude {
			p.Delete(sel)
			if whole != nil {
				p.Delete(whole)
			}
		}
		dropToolMetadata(sel)
		switch {
		case r.Encrypt:
			for _, p := range r.Fields {
				if k := p.LastKey(); k != "" {
					encrypt[k] = true
				}
			}
			_, keys := credentialLeaves("", sel)
			for _, k := range keys {
				encrypt[k] = true
			}
		case !r.AllowClearText:
			withheld = append(withheld, withhold("", sel)...)
		}
		if r.Encrypt {
			anyEncrypt = true
		}
		if r.AllowClearText {
			anyClear = true
		}
		if len(r.GitOpsManagers) > 0 {
			key := strings.Join(r.GitOpsManagers, "\x00")
			if owners[key] == nil {
				owners[key] = NewOwnership(u, r.GitOpsManagers)
			}
			if a := owners[key].Applied(sel); a != nil {
				delete(a, "status")
				mergeInto(applied, a)
			}
		}
		if s, ok := sel["status"].(map[string]any); ok {
			mergeInto(status, s)
		}
		delete(sel, "status")
		if c.Mode != ModeObject {
			mergeInto(c.Object, sel)
		}
	}
	sort.Strings(c.Rules)
	pruneEmpty(status)
	if len(status) > 0 {
		c.Status = status
	}
	pruneEmpty(c.Object)
	if c.Mode != ModeObject {
		pruneEmpty(applied)
		if len(applied) > 0 {
			c.Applied = applied
		}
	}
	if whole != nil {
		// The whole object's credential-looking values: encrypted when a
		// matching rule encrypts, kept when one allows clear text, else
		// withheld.
		switch _, keys := credentialLeaves("", whole); {
		case anyEncrypt:
			for _, k := range keys {
				encrypt[k] = true
			}
		case !anyClear:
			withheld = append(withheld, withhold("", whole)...)
		}
		if c.Mode == ModeObject {
			c.Object = whole
		} else {
			c.Whole = whole
		}
	}
	for k := range encrypt {
		c.EncryptKeys = append(c.EncryptKeys, k)
	}
	sort.Strings(c.EncryptKeys)
	if len(withheld) > 0 {
		sort.Strings(withheld)
		c.Withheld = slices.Compact(withheld)
	}
	if c.Empty() {
		return Capture{}, false
	}
	return c, true
}

// dropToolMetadata removes from a patch selection what Sanitize removes
// from whole objects: a rule selecting metadata.annotations must not carry
// the last-applied manifest (for a Secret, its values in clear text) or Argo
// CD's tracking id into Git.
func dropToolMetadata(sel map[string]any) {
	md, ok := sel["metadata"].(map[string]any)
	if !ok {
		return
	}
	for _, k := range droppedMetadata {
		delete(md, k)
	}
	if ann, ok := md["annotations"].(map[string]any); ok {
		for _, k := range droppedAnnotations {
			delete(ann, k)
		}
	}
	dropToolLabels(md)
}

// apiVersion is the object's own string, kept when it spells ref's group
// and version: a watcher sets one string for all objects of a resource, and
// a string made per capture would be a copy each.
func identity(ref ObjectRef, apiVersion string) map[string]any {
	md := map[string]any{"name": ref.Name}
	if ref.Namespace != "" {
		md["namespace"] = ref.Namespace
	}
	if !spellsGroupVersion(apiVersion, ref.Group, ref.Version) {
		apiVersion = ref.APIVersion()
	}
	return map[string]any{"apiVersion": apiVersion, "kind": ref.Kind, "metadata": md}
}

// spellsGroupVersion reports whether s is group/version (version alone for
// the core group), without building that string.
func spellsGroupVersion(s, group, version string) bool {
	if group == "" {
		return s == version
	}
	return len(s) == len(group)+1+len(version) && strings.HasPrefix(s, group) && s[len(group)] == '/' && strings.HasSuffix(s, version)
}

// droppedMetadata are the fields of a live object that must not be recreated
// from Git: server-assigned identity, bookkeeping, and owner links whose UIDs
// will differ in a rebuilt cluster (the garbage collector would delete the
// object).
var droppedMetadata = []string{
	"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
	"ownerReferences", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds", "generateName",
}

// droppedAnnotations are written by tools, not by the controllers whose state
// driftback keeps; Argo CD's tracking id would make Argo CD prune or adopt the
// object as its own.
var droppedAnnotations = []string{
	"kubectl.kubernetes.io/last-applied-configuration",
	"argocd.argoproj.io/tracking-id",
}

// droppedLabels are Flux's ownership labels, set on whatever it applies: a
// whole object restored through the overlay would otherwise come back with
// them and make a commit of its own.
var droppedLabels = []string{
	"kustomize.toolkit.fluxcd.io/name",
	"kustomize.toolkit.fluxcd.io/namespace",
}

// dropToolLabels removes droppedLabels from metadata, and the labels map
// when it is left empty.
func dropToolLabels(md map[string]any) {
	l, ok := md["labels"].(map[string]any)
	if !ok {
		return
	}
	for _, k := range droppedLabels {
		delete(l, k)
	}
	if len(l) == 0 {
		delete(md, "labels")
	}
}

// Sanitize returns a copy of a whole live object fit to be recreated from Git:
// no status, no server-assigned metadata, no owner references, none of its
// controller's bookkeeping annotations (bookkeeping.go).
func Sanitize(obj map[string]any) map[string]any {
	u := unstructured.Unstructured{Object: obj}
	out := u.DeepCopy().Object
	delete(out, "status")
	md, _ := out["metadata"].(map[string]any)
	for _, k := range droppedMetadata {
		delete(md, k)
	}
	if ann, ok := md["annotations"].(map[string]any); ok {
		for _, k := range droppedAnnotations {
			delete(ann, k)
		}
		for _, k := range bookkeepingOf(out) {
			delete(ann, k)
		}
		if len(ann) == 0 {
			delete(md, "annotations")
		}
	}
	dropToolLabels(md)
	// Empty maps stay: in a whole object they mean something (emptyDir: {},
	// a required forProvider: {}).
	return out
}

// Sort orders captures by ref, so that everything downstream is deterministic.
func Sort(cs []Capture) {
	sort.Slice(cs, func(i, j int) bool { return cs[i].Ref.Less(cs[j].Ref) })
}

// Summary counts captures by mode for logs, e.g. "3 patches, 1 object, 2 statuses".
func Summary(cs []Capture) string {
	var patches, objects, statuses int
	for _, c := range cs {
		if c.Mode == ModeObject {
			objects++
		} else if hasFieldsBeyondIdentity(c.Object) {
			patches++
		}
		if c.Status != nil {
			statuses++
		}
	}
	return strings.Join([]string{plural(patches, "patch", "patches"), plural(objects, "object", "objects"), plural(statuses, "status", "statuses")}, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Equal reports whether two captures (nil for none) hold the same state, so
// a watcher can tell a change worth a commit from noise in excluded fields.
func Equal(a, b *Capture) bool {
	if a == nil || b == nil {
		return a == b
	}
	return reflect.DeepEqual(*a, *b)
}
