package restore

import (
	"context"
	"fmt"
	"regexp"
	"sort"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/driftback/driftback/overlay"
)

// Every recorded field can be back while a controller on the rebuilt
// cluster, not finding what it made (by a UID, a generated name), made a
// second one: a composition composing a new managed resource, a StatefulSet
// a new claim. The drill looks for such objects after the controllers had
// their time: of each kind the overlay records, in the namespaces it
// records, an object the overlay does not record whose owner it records.

// Recreated is an object on the target the branch does not record, made by
// a controller for an object the branch records.
type Recreated struct {
	Object string // Kind.group/namespace/name
	Owner  string // Kind.group/name
	// Problem is set when the kind could not be listed; Object names the kind.
	Problem string
}

func (r Recreated) String() string {
	if r.Problem != "" {
		return fmt.Sprintf("  CANNOT CHECK %s for re-created objects: %s", r.Object, r.Problem)
	}
	return fmt.Sprintf("  RE-CREATED under a new identity: %s owned by %s, not recorded on the branch (a controller on the rebuilt cluster made a second one)", r.Object, r.Owner)
}

var statefulSetGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}

// stsClaim is the name the StatefulSet controller gives a claim:
// <template>-<statefulset>-<ordinal> (kubernetes pkg/controller/statefulset/
// stateful_set_utils.go, getPersistentVolumeClaimName).
var ordinal = regexp.MustCompile(`-[0-9]+$`)

// FindRecreated lists the target's objects of the overlay's kinds and
// returns those not recorded whose owner is recorded.
func FindRecreated(ctx context.Context, c *Cluster, ov *overlay.Overlay) []Recreated {
	recorded := map[string]bool{}          // Kind.group/ns/name
	kinds := map[schema.GroupKind]string{} // a version to map it with
	namespaces := map[string]bool{}
	for _, files := range [][]overlay.File{ov.Patches, ov.Resources, ov.Status, ov.Unmatched} {
		for _, f := range files {
			recorded[f.Describe()] = true
		}
	}
	for _, files := range [][]overlay.File{ov.Patches, ov.Resources, ov.Status} {
		for _, f := range files {
			gvk := f.Object.GroupVersionKind()
			kinds[gvk.GroupKind()] = gvk.Version
			if ns := f.Namespace(); ns != "" {
				namespaces[ns] = true
			}
		}
	}
	owned := func(u *unstructured.Unstructured, gk schema.GroupKind) string {
		for _, ref := range u.GetOwnerReferences() {
			gv, _ := schema.ParseGroupVersion(ref.APIVersion)
			okind := schema.GroupKind{Group: gv.Group, Kind: ref.Kind}.String()
			for _, ns := range []string{u.GetNamespace(), ""} {
				if recorded[overlay.ObjectName(okind, ns, ref.Name)] {
					return overlay.ObjectName(okind, ns, ref.Name)
				}
			}
		}
		if gk == (schema.GroupKind{Kind: "PersistentVolumeClaim"}) {
			return claimOwner(ctx, c, u, recorded)
		}
		return ""
	}

	var out []Recreated
	for _, gk := range sortedKinds(kinds) {
		gvk := gk.WithVersion(kinds[gk])
		m, err := c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			out = append(out, Recreated{Object: gvk.GroupKind().String(), Problem: err.Error()})
			continue
		}
		scopes := []string{""}
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			scopes = sortedKeys(namespaces)
		}
		for _, ns := range scopes {
			list, err := c.Dyn.Resource(m.Resource).Namespace(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				out = append(out, Recreated{Object: gvk.GroupKind().String(), Problem: err.Error()})
				continue
			}
			for i := range list.Items {
				u := &list.Items[i]
				name := overlay.ObjectName(gvk.GroupKind().String(), u.GetNamespace(), u.GetName())
				if recorded[name] {
					continue
				}
				if owner := owned(u, gvk.GroupKind()); owner != "" {
					out = append(out, Recreated{Object: name, Owner: owner})
				}
			}
		}
	}
	return out
}

// claimOwner names the StatefulSet a claim was made for when the overlay
// records another claim of the same StatefulSet and template: the claims a
// StatefulSet keeps carry no ownerReference (unless its retention policy
// deletes them), only its naming.
func claimOwner(ctx context.Context, c *Cluster, pvc *unstructured.Unstructured, recorded map[string]bool) string {
	ns := pvc.GetNamespace()
	list, err := c.Dyn.Resource(statefulSetGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return ""
	}
	stem := ordinal.ReplaceAllString(pvc.GetName(), "")
	if stem == pvc.GetName() {
		return ""
	}
	for _, sts := range list.Items {
		tmpls, _, _ := unstructured.NestedSlice(sts.Object, "spec", "volumeClaimTemplates")
		for _, t := range tmpls {
			tm, _ := t.(map[string]any)
			tn, _, _ := unstructured.NestedString(tm, "metadata", "name")
			if tn == "" || stem != tn+"-"+sts.GetName() {
				continue
			}
			for key := range recorded {
				prefix := overlay.ObjectName("PersistentVolumeClaim", ns, stem+"-")
				if len(key) > len(prefix) && key[:len(prefix)] == prefix && ordinal.MatchString("-"+key[len(prefix):]) {
					return overlay.ObjectName("StatefulSet.apps", ns, sts.GetName())
				}
			}
		}
	}
	return ""
}

func sortedKinds(m map[schema.GroupKind]string) []schema.GroupKind {
	out := make([]schema.GroupKind, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
