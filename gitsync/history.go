package gitsync

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// maxHistoryWalk bounds the search for driftback's last commit.
const maxHistoryWalk = 1000

// ErrNoCommit is returned when the branch holds no commit of driftback's
// for the directory.
var ErrNoCommit = fmt.Errorf("no driftback commit found")

// LastChange fetches branch and returns driftback's newest commit that wrote
// dir (trailer TrailerDir) and what it changed there against its parent.
func (r *Repo) LastChange(ctx context.Context, branch, dir string) (h Hash, ch []Change, err error) {
	r.mu.Lock() // the object storage is shared with Publish, Lag and the other readers
	defer r.mu.Unlock()
	err = r.again(func() error {
		var err error
		h, ch, err = r.lastChange(ctx, branch, dir)
		return err
	})
	return h, ch, err
}

func (r *Repo) lastChange(ctx context.Context, branch, dir string) (Hash, []Change, error) {
	if err := validPath(dir); err != nil {
		return "", nil, err
	}
	tips, err := r.fetch(ctx, branch)
	if err != nil {
		return "", nil, err
	}
	tip, ok := tips[branch]
	if !ok {
		return "", nil, fmt.Errorf("branch %s: %w", branch, ErrNoBranch)
	}
	c, err := r.commit(tip)
	if err != nil {
		return "", nil, err
	}
	for range maxHistoryWalk {
		if d, ok := trailer(c.Message, TrailerDir); ok && d == dir {
			ch, err := r.diffDir(c, dir)
			return hashOf(c.Hash), ch, err
		}
		if len(c.ParentHashes) == 0 {
			break
		}
		if c, err = r.commit(c.ParentHashes[0]); err != nil {
			return "", nil, err
		}
	}
	return "", nil, fmt.Errorf("branch %s, %s: %w in the last %d commits", branch, dir, ErrNoCommit, maxHistoryWalk)
}

// BranchChanges fetches branch and base and returns what branch holds below
// dir that base does not: a pull request's diff, whatever the history.
func (r *Repo) BranchChanges(ctx context.Context, branch, base, dir string) (ch []Change, err error) {
	r.mu.Lock() // the object storage is shared with Publish, Lag and the other readers
	defer r.mu.Unlock()
	err = r.again(func() error {
		var err error
		ch, err = r.branchChanges(ctx, branch, base, dir)
		return err
	})
	return ch, err
}

func (r *Repo) branchChanges(ctx context.Context, branch, base, dir string) ([]Change, error) {
	if err := validPath(dir); err != nil {
		return nil, err
	}
	tips, err := r.fetch(ctx, branch, base)
	if err != nil {
		return nil, err
	}
	tip, ok := tips[branch]
	if !ok {
		return nil, fmt.Errorf("branch %s: %w", branch, ErrNoBranch)
	}
	c, err := r.commit(tip)
	if err != nil {
		return nil, err
	}
	var from plumbing.Hash
	if b, ok := tips[base]; ok {
		bc, err := r.commit(b)
		if err != nil {
			return nil, err
		}
		from = bc.TreeHash
	}
	return r.diffTrees(from, c.TreeHash, dir)
}

// diffDir lists what commit c changed below dir against its first parent.
func (r *Repo) diffDir(c *object.Commit, dir string) ([]Change, error) {
	var from plumbing.Hash
	if len(c.ParentHashes) > 0 {
		p, err := r.commit(c.ParentHashes[0])
		if err != nil {
			return nil, err
		}
		from = p.TreeHash
	}
	return r.diffTrees(from, c.TreeHash, dir)
}

// diffTrees lists the changes below dir from root tree from to root tree to.
func (r *Repo) diffTrees(from, to plumbing.Hash, dir string) ([]Change, error) {
	parts := strings.Split(dir, "/")
	listing := func(root plumbing.Hash) (map[string]plumbing.Hash, error) {
		out := map[string]plumbing.Hash{}
		e, ok, err := r.tw.lookup(root, parts)
		if err != nil || !ok || e.Mode != filemode.Dir {
			return out, err
		}
		err = r.tw.walkFiles(e.Hash, "", func(p string, e object.TreeEntry) { out[p] = e.Hash })
		return out, err
	}
	now, err := listing(to)
	if err != nil {
		return nil, err
	}
	before, err := listing(from)
	if err != nil {
		return nil, err
	}
	var pend []pending
	for p, h := range now {
		old, ok := before[p]
		switch {
		case !ok:
			pend = append(pend, pending{path: p, op: Added, old: h})
		case old != h:
			pend = append(pend, pending{path: p, op: Modified, old: old})
		}
	}
	for p, h := range before {
		if _, ok := now[p]; !ok {
			pend = append(pend, pending{path: p, op: Deleted, old: h})
		}
	}
	sort.Slice(pend, func(i, j int) bool { return pend[i].path < pend[j].path })
	out := make([]Change, len(pend))
	for i, p := range pend {
		out[i] = Change{Path: p.path, Op: p.op}
		var err error
		if p.op != Added {
			if out[i].Old, err = readBlobHash(r.repo.Storer, before[p.path]); err != nil {
				return nil, err
			}
		}
		if p.op != Deleted {
			if out[i].New, err = readBlobHash(r.repo.Storer, now[p.path]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
