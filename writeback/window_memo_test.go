package writeback_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/writeback"
)

// historyCommit is one commit of fakeHistory.
type historyCommit struct {
	rec   gitsync.Recorded
	files []string
}

// fakeHistory is a branch's first-parent history, newest first, as
// gitsync.History walks it; listed counts the directory listings read and
// read the commits handed to the callback.
type fakeHistory struct {
	commits      []historyCommit
	listed, read int
}

func (h *fakeHistory) Recent(_ string, since time.Time, fn func(gitsync.Recorded, func() ([]string, error)) error) error {
	for i := len(h.commits) - 1; i >= 0; i-- {
		c := h.commits[i]
		if c.rec.When.Before(since) {
			return nil
		}
		h.read++
		err := fn(c.rec, func() ([]string, error) { h.listed++; return c.files, nil })
		if errors.Is(err, gitsync.ErrStopWalk) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// TestRecentPeakMemo: over random histories, the peak with the writer's
// memo (its last walk, the counts it remembers, the commits' TrailerObjects)
// is always the one counted from every commit's files, and a walk on top
// of the last reads only the new commits. Commits carry a well-formed count,
// none (an older driftback), a malformed one, or another directory's.
func TestRecentPeakMemo(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 7))
		h := &fakeHistory{}
		memo := writeback.NewWindowMemo()
		start := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
		since := start
		for step := range 200 {
			n := rng.IntN(30)
			files := make([]string, 0, 2*n)
			for i := range n {
				files = append(files, fmt.Sprintf("status/ns/g_K/o%d.yaml", i), fmt.Sprintf("patches/ns/g_K/o%d.yaml", i))
			}
			msg := "capture\n\n" + gitsync.TrailerDir + ": " + dir + "\n"
			switch rng.IntN(5) {
			case 0: // an older driftback's commit
			case 1: // not a count: must not be believed
				msg += fmt.Sprintf("%s: %s\n", writeback.TrailerObjects, []string{"-1", "07", "1e3", " ", "x"}[rng.IntN(5)])
			case 2: // another directory's commit, its own count
				msg = fmt.Sprintf("capture\n\n%s: clusters/other\n%s: 999\n", gitsync.TrailerDir, writeback.TrailerObjects)
			default:
				msg += fmt.Sprintf("%s: %d\n", writeback.TrailerObjects, n)
			}
			if rng.IntN(25) == 0 {
				msg += writeback.TrailerDeletionsConfirmed + ": --allow-deletions\n"
			}
			h.commits = append(h.commits, historyCommit{
				rec: gitsync.Recorded{Commit: gitsync.Hash(fmt.Sprintf("%040d", step)), When: start.Add(time.Duration(step) * time.Minute),
					Message: msg, Dir: gitsync.Hash(fmt.Sprintf("d%039d", n))},
				files: files,
			})
			if rng.IntN(10) == 0 {
				since = since.Add(time.Duration(rng.IntN(20)) * time.Minute)
			}
			want := peakByFiles(h, since)
			h.read = 0
			got, err := writeback.RecentPeak(h, dir, since, memo)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("seed %d step %d: peak with the memo %+v, counted %+v", seed, step, got, want)
			}
			if h.read > 1+1 {
				t.Fatalf("seed %d step %d: read %d commits for one new commit", seed, step, h.read)
			}
		}
	}
}

// peakByFiles is the window's peak by definition: the most objects of the
// commits since since, newest first, down to a confirmed one.
func peakByFiles(h *fakeHistory, since time.Time) writeback.Peak {
	var peak writeback.Peak
	for i := len(h.commits) - 1; i >= 0; i-- {
		c := h.commits[i]
		if c.rec.When.Before(since) {
			break
		}
		if n := len(c.files) / 2; n > peak.Objects {
			peak = writeback.Peak{Objects: n, Commit: c.rec.Commit, When: c.rec.When}
		}
		if _, ok := gitsync.Trailer(c.rec.Message, writeback.TrailerDeletionsConfirmed); ok {
			break
		}
	}
	return peak
}

// After a restart (an empty memo), commits that carry their count are not
// listed.
func TestRecentPeakReadsTheTrailer(t *testing.T) {
	h := &fakeHistory{}
	for i := range 10 {
		h.commits = append(h.commits, historyCommit{
			rec: gitsync.Recorded{Commit: gitsync.Hash(fmt.Sprintf("%040d", i)), When: time.Now(),
				Message: fmt.Sprintf("x\n\n%s: %s\n%s: 1\n", gitsync.TrailerDir, dir, writeback.TrailerObjects), Dir: gitsync.Hash(fmt.Sprintf("%040d", i))},
			files: []string{"status/ns/g_K/o.yaml"},
		})
	}
	p, err := writeback.RecentPeak(h, dir, time.Now().Add(-time.Hour), writeback.NewWindowMemo())
	if err != nil || p.Objects != 1 {
		t.Fatalf("peak %+v, %v", p, err)
	}
	if h.listed != 0 {
		t.Errorf("listed %d directories, want none: every commit carries its count", h.listed)
	}
}
