package writeback

import (
	"fmt"
	"time"

	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/overlay"
	"github.com/driftback/driftback/render"
)

// TrailerDeletionsConfirmed marks a commit whose deletions a person
// confirmed (--allow-deletions): the window guard counts from it on, so a
// confirmed clean-up is not refused again for the rest of the window.
const TrailerDeletionsConfirmed = "Driftback-Deletions-Confirmed"

// Peak is the most objects the overlay held in the branch's recent commits.
type Peak struct {
	Objects int
	Commit  gitsync.Hash
	When    time.Time
}

// maxMemo bounds the counts a Writer remembers by directory tree hash.
const maxMemo = 10000

// RecentPeak reads the most objects the overlay at dir held in the
// branch's commits since since, newest first, stopping at (and counting) a
// commit whose deletions were confirmed. counts memoizes the object count
// of each directory tree by hash (nil: no memo): a tree is counted once,
// however many commits and publishes see it.
func RecentPeak(h gitsync.History, dir string, since time.Time, counts map[gitsync.Hash]int) (Peak, error) {
	var peak Peak
	err := h.Recent(dir, since, func(c gitsync.Recorded, files func() ([]string, error)) error {
		n, ok := counts[c.Dir]
		if !ok {
			paths, err := files()
			if err != nil {
				return err
			}
			n = len(overlay.ObjectKeys(paths))
			if counts != nil {
				counts[c.Dir] = n
			}
		}
		if n > peak.Objects {
			peak = Peak{Objects: n, Commit: c.Commit, When: c.When}
		}
		if _, ok := gitsync.Trailer(c.Message, TrailerDeletionsConfirmed); ok {
			return gitsync.ErrStopWalk
		}
		return nil
	})
	if err != nil {
		return Peak{}, fmt.Errorf("read the branch's history for the deletion guard: %w", err)
	}
	return peak, nil
}

// CheckWindow stops a deletion spread over many commits: it refuses a
// commit that would leave fewer than (1 - maxShare) of the most objects
// recorded within the window (peak), each of those commits having stayed
// under the per-commit limit.
func CheckWindow(peak Peak, dir string, tree render.Tree, window time.Duration, maxShare float64) error {
	return checkWindow(peak, dir, len(overlay.ObjectKeys(tree.Paths())), window, maxShare)
}

// checkWindow is CheckWindow over the count of objects the commit holds.
func checkWindow(peak Peak, dir string, now int, window time.Duration, maxShare float64) error {
	gone := peak.Objects - now
	if peak.Objects == 0 || gone <= 0 {
		return nil
	}
	share := float64(gone) / float64(peak.Objects)
	if share <= maxShare {
		return nil
	}
	return fmt.Errorf("%w: this commit would leave %d of the %d objects recorded in %s within the last %s (the most, at commit %.12s, %s): %.0f%% gone, limit %.0f%% (deletionGuard.maxShareInWindow); if they are really gone, run again with --allow-deletions",
		ErrGuard, now, peak.Objects, dir, window, peak.Commit, peak.When.UTC().Format(time.RFC3339), share*100, maxShare*100)
}
