package writeback

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/driftback/driftback/overlay"
	"github.com/driftback/driftback/render"
)

// ErrGuard marks a write refused by a safety rule; nothing was committed.
var ErrGuard = errors.New("refused by a safety rule")

// Reasons a commit is refused, as counted by driftback_commits_refused_total.
const (
	RefusedIdentity     = "identity"
	RefusedMassDeletion = "mass-deletion"
	RefusedBuild        = "build"
)

// Reasons lists every refusal reason, so metrics can export zeros.
var Reasons = []string{RefusedIdentity, RefusedMassDeletion, RefusedBuild}

// refusal is an error that says which safety rule refused the commit.
type refusal struct {
	reason string
	err    error
}

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

// RefusalReason returns the safety rule that refused a commit, if one did.
func RefusalReason(err error) (string, bool) {
	var r *refusal
	if errors.As(err, &r) {
		return r.reason, true
	}
	return "", false
}

// CheckIdentity refuses to overwrite an overlay another cluster wrote: after
// a rebuild, the new cluster's partial state must not replace the record of
// the lost one. adopt lets this cluster (uid) take the overlay over.
func CheckIdentity(parent fs.FS, dir, uid string, adopt bool) error {
	m, found, err := overlay.ReadMeta(parent, dir)
	if err != nil || !found {
		return err
	}
	if m.ClusterUID != uid && !adopt {
		return fmt.Errorf("%w: %s was written by cluster %q (kube-system UID %s), this is cluster UID %s; restore from it, then pass --adopt to make this cluster its owner",
			ErrGuard, dir, m.Cluster, m.ClusterUID, uid)
	}
	return nil
}

// CheckShrink stops a commit that would drop more than maxShare of the
// objects the overlay at dir of parent holds, and always one that would drop
// them all: an empty or half-started cluster must never erase the record.
func CheckShrink(parent fs.FS, dir string, tree render.Tree, maxShare float64) error {
	var oldPaths []string
	err := fs.WalkDir(parent, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			oldPaths = append(oldPaths, strings.TrimPrefix(p, dir+"/"))
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %s: %w", dir, err)
	}
	if len(oldPaths) == 0 {
		// Nothing recorded, nothing to drop: a first commit's 100,000
		// paths are not parsed for keys (half a second at 50,000 objects).
		return nil
	}
	old := overlay.ObjectKeys(oldPaths)
	now := overlay.ObjectKeys(tree.Paths())
	var gone []string
	for k := range old {
		if !now[k] {
			gone = append(gone, k)
		}
	}
	return checkShrink(dir, len(old), len(now), gone, maxShare)
}

// checkShrink is CheckShrink's rule over counts: old objects recorded, now
// objects in the commit, gone the keys (overlay.ObjectKeys) of those it
// drops. The incremental publish knows them without reading the tree.
func checkShrink(dir string, old, now int, gone []string, maxShare float64) error {
	if old == 0 || len(gone) == 0 {
		return nil
	}
	share := float64(len(gone)) / float64(old)
	if now == 0 || share > maxShare {
		sort.Strings(gone)
		return fmt.Errorf("%w: this commit would drop %d of the %d objects recorded in %s (%.0f%%, limit %.0f%%), e.g. %s; if they are really gone, run again with --allow-deletions",
			ErrGuard, len(gone), old, dir, share*100, maxShare*100, gone[0])
	}
	return nil
}
