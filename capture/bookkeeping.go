package capture

import "strings"

// Bookkeeping: annotations a controller writes to record its own progress on
// an object. A whole object restored with them tells the rebuilt cluster's
// controller that work happened which did not happen there, so Sanitize
// removes them and leaves the controller to redo that work from the fields
// that identify the external state (which are kept).
//
// The PV binder (kubernetes pkg/controller/volume/persistentvolume/
// pv_controller.go) decides in syncClaim by pv.kubernetes.io/bind-completed:
// with it, syncBoundClaim requires the volume's claimRef.uid to equal the
// claim's UID, and a rebuilt claim has a new UID (the kept claimRef has
// none), so it marks the claim Lost (ClaimMisbound). Without it,
// syncUnboundClaim takes spec.volumeName as a request for that volume and
// binds it when isVolumeBoundToClaim holds (same name and namespace; the
// uid may be empty: a pre-binding). pv.kubernetes.io/bound-by-controller on
// the claim would make syncUnboundClaim treat a volume pre-bound elsewhere
// as an error of its own; on the volume it tells syncVolume the binding is
// the binder's to undo. volume.kubernetes.io/storage-provisioner (and its
// beta spelling) asks an external provisioner for a new volume, which a
// claim with spec.volumeName does not need; volume.kubernetes.io/selected-node
// is the scheduler's choice of a node the rebuilt cluster may not have.
var bookkeeping = map[[2]string][]string{
	{"", "PersistentVolumeClaim"}: {
		"pv.kubernetes.io/bind-completed",
		"pv.kubernetes.io/bound-by-controller",
		"volume.kubernetes.io/storage-provisioner",
		"volume.beta.kubernetes.io/storage-provisioner",
		"volume.kubernetes.io/selected-node",
	},
	{"", "PersistentVolume"}: {
		"pv.kubernetes.io/bound-by-controller",
	},
}

// bookkeepingOf returns the bookkeeping annotations of an object's kind.
func bookkeepingOf(obj map[string]any) []string {
	av, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	group := ""
	if i := strings.LastIndex(av, "/"); i >= 0 {
		group = av[:i]
	}
	return bookkeeping[[2]string{group, kind}]
}
