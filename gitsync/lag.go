package gitsync

import (
	"context"
	"fmt"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

// maxLagWalk bounds the base history read to count how far a side branch
// is behind; past it the count is a lower bound.
const maxLagWalk = 1000

// Lag is how far a side branch is behind its base branch.
type Lag struct {
	// Commits on the base's first-parent line since the base commit the
	// side branch records (TrailerBase); 0 when it follows.
	Commits int
	// Since is when the side branch started to lag: the commit time of the
	// oldest base commit it lacks, but never before the side branch's own
	// tip (a commit dated in the past may have been pushed only now). Zero
	// when it follows.
	Since time.Time
	// BaseTip is the base branch's tip.
	BaseTip plumbing.Hash
}

// Lag fetches t.Branch and t.BaseBranch and reports how far the side branch
// is behind. A side branch that does not exist yet, or a target in direct
// mode, does not lag. It runs under Publish's lock, so a follower may call it
// between publishes of another goroutine.
func (r *Repo) Lag(ctx context.Context, t Target) (Lag, error) {
	if err := t.validate(); err != nil {
		return Lag{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.complete()
	tips, err := r.fetch(ctx, t.Branch, t.BaseBranch)
	if err != nil {
		return Lag{}, err
	}
	baseTip, hasBase := tips[t.BaseBranch]
	tip, hasBranch := tips[t.Branch]
	if t.mode() != ModeSide || !hasBase || !hasBranch {
		return Lag{BaseTip: baseTip}, nil
	}
	c, err := r.commit(tip)
	if err != nil {
		return Lag{}, err
	}
	recorded, _ := trailer(c.Message, TrailerBase)
	if plumbing.NewHash(recorded) == baseTip {
		return Lag{BaseTip: baseTip}, nil
	}
	lag := Lag{BaseTip: baseTip}
	b, err := r.commit(baseTip)
	if err != nil {
		return Lag{}, err
	}
	for range maxLagWalk {
		if b.Hash.String() == recorded {
			break
		}
		lag.Commits++
		lag.Since = b.Committer.When
		if len(b.ParentHashes) == 0 {
			break
		}
		if b, err = r.commit(b.ParentHashes[0]); err != nil {
			return Lag{}, fmt.Errorf("walk %s: %w", t.BaseBranch, err)
		}
	}
	if lag.Since.Before(c.Committer.When) {
		lag.Since = c.Committer.When
	}
	return lag, nil
}
