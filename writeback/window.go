package writeback

import (
	"fmt"
	"slices"
	"strconv"
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

// TrailerObjects is how many objects the overlay at the commit's
// directory (gitsync.TrailerDir) holds: the deletion window reads it
// instead of listing the directory's files, which after a restart it did for
// every commit of the window (20,000 commits of 50,000 files each).
const TrailerObjects = "Driftback-Objects"

// maxMemo bounds the counts a Writer remembers by directory tree hash.
const maxMemo = 10000

// WindowMemo is what a Writer remembers of the branch's recent history
// between publishes: the object count of each directory tree it counted or
// wrote, and the commits of its last walk. A commit's first-parent history
// never changes, so the next walk reads only the commits above the last
// walk's newest and takes the rest from it: reading every commit of a busy
// branch's 24 h window again cost each publish ≈ 7 µs per commit, 140 ms at
// the walk's bound (BenchmarkRecentPeak).
type WindowMemo struct {
	counts map[gitsync.Hash]int
	// walked is the last walk's commits, newest first: the first-parent
	// chain down from walked[0], ending where that walk stopped.
	walked []walkedCommit
}

type walkedCommit struct {
	commit  gitsync.Hash
	when    time.Time
	objects int
}

// NewWindowMemo is an empty memo.
func NewWindowMemo() *WindowMemo { return &WindowMemo{counts: map[gitsync.Hash]int{}} }

// remember records the object count of a directory tree.
func (m *WindowMemo) remember(dir gitsync.Hash, n int) {
	if len(m.counts) > maxMemo {
		clear(m.counts)
	}
	m.counts[dir] = n
}

// RecentPeak reads the most objects the overlay at dir held in the
// branch's commits since since, newest first, stopping at (and counting) a
// commit whose deletions were confirmed. A commit's count is its
// TrailerObjects when it wrote dir, else memo's count of its directory
// tree, else the tree's files counted. memo (nil: none) is read and updated.
func RecentPeak(h gitsync.History, dir string, since time.Time, memo *WindowMemo) (Peak, error) {
	if memo == nil {
		memo = NewWindowMemo()
	}
	var walked, older []walkedCommit
	err := h.Recent(dir, since, func(c gitsync.Recorded, files func() ([]string, error)) error {
		if len(memo.walked) > 0 && c.Commit == memo.walked[0].commit {
			older = memo.walked // this commit and all below it: walked before
			return gitsync.ErrStopWalk
		}
		n, ok := objectsTrailer(c.Message, dir)
		if !ok {
			n, ok = memo.counts[c.Dir]
		}
		if !ok {
			paths, err := files()
			if err != nil {
				return err
			}
			n = len(overlay.ObjectKeys(paths))
			memo.remember(c.Dir, n)
		}
		walked = append(walked, walkedCommit{commit: c.Commit, when: c.When, objects: n})
		if _, ok := gitsync.Trailer(c.Message, TrailerDeletionsConfirmed); ok {
			return gitsync.ErrStopWalk
		}
		return nil
	})
	if err != nil {
		return Peak{}, fmt.Errorf("read the branch's history for the deletion guard: %w", err)
	}
	// The earlier walk's commits, down to where this walk would have
	// stopped: the first older than the window, or the walk's bound.
	n := 0
	for n < len(older) && !older[n].when.Before(since) && len(walked)+n < gitsync.MaxRecentWalk {
		n++
	}
	if len(walked) == 0 {
		walked = older[:n] // no new commit: no copy
	} else if n > 0 {
		walked = append(slices.Grow(walked, n), older[:n]...)
	}
	memo.walked = walked
	var peak Peak
	for _, c := range walked {
		if c.objects > peak.Objects {
			peak = Peak{Objects: c.objects, Commit: c.commit, When: c.when}
		}
	}
	return peak, nil
}

// objectsTrailer reads TrailerObjects of a commit that wrote dir; ok is
// false for another directory's commit or a value that is not a count.
func objectsTrailer(msg, dir string) (int, bool) {
	if d, ok := gitsync.Trailer(msg, gitsync.TrailerDir); !ok || d != dir {
		return 0, false
	}
	v, ok := gitsync.Trailer(msg, TrailerObjects)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || strconv.Itoa(n) != v {
		return 0, false
	}
	return n, true
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
