package render

import (
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/driftback/driftback/capture"
)

// withoutBase returns the patch of c without the leaves that the GitOps tool
// applied (c.Applied) and that the Git base holds with the same value: those
// are in Git already. A leaf only the overlay holds (a restored external
// name, which the tool then applied) stays, or the next sync would delete it.
// c is not modified; with no base, or an object the base lacks, the patch is
// c.Object unchanged.
func withoutBase(c capture.Capture, base *BaseIndex) map[string]any {
	if len(c.Applied) == 0 || base == nil {
		return c.Object
	}
	e, ok := base.find(c.Ref)
	if !ok {
		return c.Object
	}
	out := runtime.DeepCopyJSON(c.Object)
	dropInBase(out, c.Applied, e.obj)
	return out
}

// dropInBase deletes from patch each leaf of applied whose value patch and
// base both hold, then maps left empty.
func dropInBase(patch, applied, base map[string]any) {
	for k, av := range applied {
		pv, inPatch := patch[k]
		bv, inBase := base[k]
		if !inPatch || !inBase {
			continue
		}
		am, isMap := av.(map[string]any)
		pm, _ := pv.(map[string]any)
		bm, _ := bv.(map[string]any)
		if isMap && len(am) > 0 {
			if pm == nil || bm == nil {
				continue
			}
			dropInBase(pm, am, bm)
			if len(pm) == 0 {
				delete(patch, k)
			}
			continue
		}
		if capture.JSONEqual(pv, av) && (capture.JSONEqual(pv, bv) || substitutes(bv, pv)) {
			delete(patch, k)
		}
	}
}

// substitutes reports whether the base value is a string holding Flux
// postBuild variables (${var}) that the applied value is a substitution of:
// Git holds that field, and writing the substituted value into the overlay
// would freeze one cluster's variables into a literal.
func substitutes(base, applied any) bool {
	b, ok := base.(string)
	a, ok2 := applied.(string)
	return ok && ok2 && hasVar(b) && varPattern(b).MatchString(a)
}
