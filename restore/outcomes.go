package restore

import (
	"context"
	"fmt"
	"io"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/driftback/driftback/overlay"
)

// The fields a drill verifies can all be in place while the workload still
// cannot use them: a claim restored with spec.volumeName is Lost when the
// PV binder does not accept the binding (kubernetes pkg/controller/volume/
// persistentvolume/pv_controller.go, syncBoundClaim: ClaimMisbound). So after
// the status restore the drill waits for the controllers' outcomes and
// checks them.

var (
	pvcGVR = schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}
	pvGVR  = schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumes"}
)

// ClaimOutcome is the state of one claim the overlay binds to a recorded
// volume.
type ClaimOutcome struct {
	Claim  string // namespace/name
	Volume string // the recorded volume
	// Problem is empty when the claim is Bound to the recorded volume and
	// the volume's claimRef names this claim by its UID; else what is wrong.
	Problem string
}

// Outcomes are the workload-level checks of a drill.
type Outcomes struct {
	Claims []ClaimOutcome
	// Recreated are objects a controller on the target made anew for an
	// object the branch records (recreated.go); nil when not checked.
	Recreated []Recreated
	// RecreatedChecked is set when the drill looked for them.
	RecreatedChecked bool
}

// Failed counts the outcomes with a problem.
func (o Outcomes) Failed() int {
	return o.unboundClaims() + len(o.Recreated)
}

func (o Outcomes) unboundClaims() int {
	n := 0
	for _, c := range o.Claims {
		if c.Problem != "" {
			n++
		}
	}
	return n
}

// recordedClaims are the claims the overlay binds to a volume: patches and
// whole claims with spec.volumeName.
func recordedClaims(ov *overlay.Overlay) []ClaimOutcome {
	var out []ClaimOutcome
	seen := map[string]bool{}
	for _, files := range [][]overlay.File{ov.Patches, ov.Resources} {
		for _, f := range files {
			if f.Object.GetAPIVersion() != "v1" || f.Object.GetKind() != "PersistentVolumeClaim" {
				continue
			}
			v, _, _ := unstructured.NestedString(f.Object.Object, "spec", "volumeName")
			if v == "" {
				continue
			}
			claim := f.Namespace() + "/" + f.Object.GetName()
			if seen[claim] {
				continue // a file read twice (layouts that list a path in two ways)
			}
			seen[claim] = true
			out = append(out, ClaimOutcome{Claim: claim, Volume: v})
		}
	}
	return out
}

// WaitOutcomes polls, until every recorded claim is bound to its recorded
// volume or wait has passed, and returns the last state seen.
func WaitOutcomes(ctx context.Context, c *Cluster, ov *overlay.Overlay, wait, poll time.Duration) Outcomes {
	claims := recordedClaims(ov)
	if poll <= 0 {
		poll = 200 * time.Millisecond
	}
	deadline := time.Now().Add(wait)
	for {
		bad := 0
		for i := range claims {
			claims[i].Problem = claimProblem(ctx, c, claims[i])
			if claims[i].Problem != "" {
				bad++
			}
		}
		if bad == 0 || !time.Now().Before(deadline) {
			return Outcomes{Claims: claims}
		}
		select {
		case <-ctx.Done():
			return Outcomes{Claims: claims}
		case <-time.After(poll):
		}
	}
}

// claimProblem says why a claim is not bound to its recorded volume, or "".
func claimProblem(ctx context.Context, c *Cluster, co ClaimOutcome) string {
	ns, name := splitClaim(co.Claim)
	pvc, err := c.Dyn.Resource(pvcGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "claim absent"
	}
	if err != nil {
		return fmt.Sprintf("read claim: %v", err)
	}
	if v, _, _ := unstructured.NestedString(pvc.Object, "spec", "volumeName"); v != co.Volume {
		return fmt.Sprintf("claim names volume %q", v)
	}
	if ph, _, _ := unstructured.NestedString(pvc.Object, "status", "phase"); ph != "Bound" {
		return fmt.Sprintf("claim is %s, not Bound (is the PV binder running?)", orNone(ph))
	}
	pv, err := c.Dyn.Resource(pvGVR).Get(ctx, co.Volume, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "volume absent"
	}
	if err != nil {
		return fmt.Sprintf("read volume: %v", err)
	}
	uid, _, _ := unstructured.NestedString(pv.Object, "spec", "claimRef", "uid")
	if uid != string(pvc.GetUID()) {
		return fmt.Sprintf("volume's claimRef.uid is %q, not the claim's %q", uid, pvc.GetUID())
	}
	if ph, _, _ := unstructured.NestedString(pv.Object, "status", "phase"); ph != "Bound" {
		return fmt.Sprintf("volume is %s, not Bound", orNone(ph))
	}
	return ""
}

func splitClaim(s string) (ns, name string) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return s[:i], s[i+1:]
		}
	}
	return "", s
}

func orNone(s string) string {
	if s == "" {
		return "(no phase)"
	}
	return s
}

// Print writes one line per failed outcome and the totals.
func (o Outcomes) Print(w io.Writer) {
	if len(o.Claims) > 0 {
		for _, c := range o.Claims {
			if c.Problem != "" {
				fmt.Fprintf(w, "  NOT BOUND claim %s to volume %s: %s\n", c.Claim, c.Volume, c.Problem)
			}
		}
		fmt.Fprintf(w, "claims:    %d of %d bound to their recorded volume\n", len(o.Claims)-o.unboundClaims(), len(o.Claims))
	}
	if o.RecreatedChecked {
		for _, r := range o.Recreated {
			fmt.Fprintln(w, r)
		}
		fmt.Fprintf(w, "re-created: %d object(s) made anew for objects the branch records\n", len(o.Recreated))
	}
}
