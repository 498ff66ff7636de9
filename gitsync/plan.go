package gitsync

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// plan is what a commit is built on.
type plan struct {
	parent plumbing.Hash // first parent, zero for none
	root   plumbing.Hash // tree the commit edits: parent's, or the new base's with Dir carried over
	base   plumbing.Hash // side mode: base commit recorded in the trailer
	// rederive commits even with no change in Dir: the branch must follow
	// the new base.
	rederive bool
	// carried are the other writers' directories a re-derivation kept.
	carried []string
}

// plan picks the parent: the branch tip; in side mode, the base's new tip
// when the base moved and the branch is driftback's alone.
func (r *Repo) plan(t Target, tips map[string]plumbing.Hash) (plan, error) {
	tip, hasBranch := tips[t.Branch]
	baseTip := tips[t.BaseBranch]
	side := t.mode() == ModeSide
	if !hasBranch {
		p := plan{parent: baseTip}
		if side {
			p.base = baseTip
		}
		return p, r.fillRoot(&p)
	}
	p := plan{parent: tip}
	if err := r.fillRoot(&p); err != nil {
		return p, err
	}
	if !side || baseTip.IsZero() {
		return p, nil
	}
	c, err := r.commit(tip)
	if err != nil {
		return p, err
	}
	recorded, _ := trailer(c.Message, TrailerBase)
	p.base = plumbing.NewHash(recorded)
	if p.base == baseTip {
		return p, nil
	}
	owned, dirs, why, err := r.owned(c)
	if err != nil {
		return p, err
	}
	if !owned {
		// Appending is always safe; rewriting someone's commit is not.
		slog.Warn("the base branch moved but the side branch holds commits driftback did not write; appending instead of re-deriving it",
			"branch", t.Branch, "base", t.BaseBranch, "reason", why)
		return p, nil
	}
	// The push replaces tip only if it is still the branch's tip on the
	// server (the lease; see pushPack).
	np := plan{parent: baseTip, base: baseTip, rederive: true}
	if err := r.fillRoot(&np); err != nil {
		return p, err
	}
	// Every directory driftback wrote since the base is carried over, not
	// only this writer's: writers of other clusters share the branch.
	dirs = outermost(append(dirs, t.Dir))
	edits := make([]edit, 0, len(dirs))
	for _, d := range dirs {
		e, ok, err := r.tw.lookup(p.root, strings.Split(d, "/"))
		if err != nil {
			return p, err
		}
		h := plumbing.ZeroHash
		if ok && e.Mode == filemode.Dir {
			h = e.Hash
		}
		edits = append(edits, edit{path: d, hash: h, mode: filemode.Dir})
		if d != t.Dir {
			np.carried = append(np.carried, d)
		}
	}
	if np.root, err = r.tw.apply(np.root, edits); err != nil {
		return p, err
	}
	return np, nil
}

// outermost sorts dirs and drops duplicates and directories inside another.
func outermost(dirs []string) []string {
	sort.Strings(dirs)
	var out []string
	for _, d := range dirs {
		if n := len(out); n > 0 && (out[n-1] == d || strings.HasPrefix(d, out[n-1]+"/")) {
			continue
		}
		out = append(out, d)
	}
	return out
}

func (r *Repo) fillRoot(p *plan) error {
	if p.parent.IsZero() {
		return nil
	}
	c, err := r.commit(p.parent)
	if err != nil {
		return err
	}
	p.root = c.TreeHash
	return nil
}

// maxOwnedWalk bounds the history read to prove a side branch is driftback's.
const maxOwnedWalk = 10000

// owned says whether every commit from tip back to the base it records is
// driftback's, so replacing them loses nobody's work, and lists the
// directories those commits wrote (TrailerDir and TrailerCarried).
func (r *Repo) owned(tip *object.Commit) (bool, []string, string, error) {
	c := tip
	var dirs []string
	for range maxOwnedWalk {
		base, ok := trailer(c.Message, TrailerBase)
		if !ok {
			return false, nil, fmt.Sprintf("commit %s has no %s trailer", c.Hash, TrailerBase), nil
		}
		if len(c.ParentHashes) != 1 {
			return false, nil, fmt.Sprintf("commit %s is a merge", c.Hash), nil
		}
		for _, key := range []string{TrailerDir, TrailerCarried} {
			for _, d := range trailers(c.Message, key) {
				if validPath(d) == nil {
					dirs = append(dirs, d)
				}
			}
		}
		if c.ParentHashes[0].String() == base {
			return true, dirs, "", nil
		}
		next, err := r.commit(c.ParentHashes[0])
		if err != nil {
			return false, nil, "", err
		}
		c = next
	}
	return false, nil, fmt.Sprintf("more than %d commits since the base", maxOwnedWalk), nil
}

// trailer returns the value of a "Key: value" line of a message's last paragraph.
func trailer(msg, key string) (string, bool) {
	if v := trailers(msg, key); len(v) > 0 {
		return v[0], true
	}
	return "", false
}

// trailers returns every value of key in a message's last paragraph.
func trailers(msg, key string) []string {
	paras := strings.Split(strings.TrimRight(msg, "\n"), "\n\n")
	var out []string
	for _, line := range strings.Split(paras[len(paras)-1], "\n") {
		if v, ok := strings.CutPrefix(line, key+": "); ok {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}
