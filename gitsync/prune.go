package gitsync

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// defaultPruneAfter is how many commits a Repo builds between prunes.
const defaultPruneAfter = 100

// A Repo keeps every Git object it fetched or built in memory: each commit
// adds the trees it rewrote and the blobs it wrote, and a start fetches the
// branch's whole history, every version of every tree. A watcher runs for
// months, so every PruneAfter commits (maybePrune) the Repo moves to a new
// object store that holds only what later calls read:
//
//   - every commit (the history walks: the deletion window, ownership, lag);
//   - the trees on the path from each commit's root to the target
//     directory's parent (the window and signature checks look the
//     directory up in each commit they walk, not into it);
//   - every tree and blob of the commits the references point at (the
//     tips: what the next publish builds on and diffs against).
//
// The old store is dropped, not emptied: a file system handed out earlier
// (ReadBranch) keeps reading it. If a later call does need a dropped
// object (an old commit's directory), the read fails, the store is marked
// incomplete, and the Repo starts afresh with a full fetch (complete).
// Fetching afresh instead of pruning, as before, brought the whole history
// back each time (BenchmarkPublishGrowth: fresh-repo-MB).

// maybePrune prunes once PruneAfter commits were built since the last. A
// prune that fails (an object it reads is missing) is logged and skipped:
// it only saves memory, and must never stop a publish.
func (r *Repo) maybePrune(dir string) {
	limit := r.PruneAfter
	if limit == 0 {
		limit = defaultPruneAfter
	}
	if limit < 0 || r.built < limit {
		return
	}
	if err := r.prune(dir); err != nil {
		slog.Warn("could not prune the in-memory Git objects; trying again after as many commits", "error", r.scrub(err))
		r.built = 0
	}
}

// prune moves r to a store of the objects it keeps (see above).
func (r *Repo) prune(dir string) error {
	old := r.store()
	keep := make(map[plumbing.Hash]bool, len(old.objs)/4)
	whole := map[plumbing.Hash]bool{} // trees kept with everything below
	var parents []string
	if dir != "" {
		parts := strings.Split(dir, "/")
		parents = parts[:len(parts)-1]
	}
	for h, o := range old.objs {
		if o.typ != plumbing.CommitObject {
			continue
		}
		c, err := object.GetCommit(old, h)
		if err != nil {
			return fmt.Errorf("prune: read commit %s: %w", h, err)
		}
		if err := keepPath(old, c.TreeHash, parents, keep); err != nil {
			return err
		}
	}
	iter, err := r.repo.Storer.IterReferences()
	if err != nil {
		return fmt.Errorf("prune: list references: %w", err)
	}
	var refs []*plumbing.Reference
	if err := iter.ForEach(func(ref *plumbing.Reference) error { refs = append(refs, ref); return nil }); err != nil {
		return fmt.Errorf("prune: list references: %w", err)
	}
	for _, ref := range refs {
		if ref.Type() != plumbing.HashReference {
			continue
		}
		c, err := object.GetCommit(old, ref.Hash())
		if err != nil {
			continue // a reference to something else than a fetched commit
		}
		if err := keepTree(old, c.TreeHash, keep, whole); err != nil {
			return err
		}
	}
	fresh, err := newLocal(r.url)
	if err != nil {
		return err
	}
	ns := fresh.Storer.(*storage)
	dropped, bytes := 0, 0
	for h, o := range old.objs {
		if o.typ == plumbing.TreeObject || o.typ == plumbing.BlobObject {
			if !keep[h] {
				dropped++
				bytes += len(o.content)
				continue
			}
		}
		ns.objs[h] = o
	}
	ns.pruned = true
	// The references, so the next fetch tells the server what it has.
	for _, ref := range refs {
		if ref.Name() == plumbing.HEAD {
			continue
		}
		if err := ns.SetReference(ref); err != nil {
			return fmt.Errorf("prune: copy references: %w", err)
		}
	}
	slog.Debug("pruned in-memory Git objects no tip needs", "commits", r.built, "dropped", dropped, "droppedBytes", bytes, "kept", len(ns.objs))
	r.setStore(fresh)
	r.built = 0
	return nil
}

// keepPath keeps tree root and the trees along names below it.
func keepPath(s storer.EncodedObjectStorer, root plumbing.Hash, names []string, keep map[plumbing.Hash]bool) error {
	cur := root
	for i := 0; ; i++ {
		keep[cur] = true
		if i == len(names) {
			return nil
		}
		t, err := object.GetTree(s, cur)
		if err != nil {
			return fmt.Errorf("prune: read tree %s: %w", cur, err)
		}
		e, err := t.FindEntry(names[i])
		if err != nil || e.Mode != filemode.Dir {
			return nil // the commit lacks the directory
		}
		cur = e.Hash
	}
}

// keepTree keeps tree h and everything below it.
func keepTree(s storer.EncodedObjectStorer, h plumbing.Hash, keep, whole map[plumbing.Hash]bool) error {
	if whole[h] {
		return nil
	}
	keep[h], whole[h] = true, true
	t, err := object.GetTree(s, h)
	if err != nil {
		return fmt.Errorf("prune: read tree %s: %w", h, err)
	}
	for _, e := range t.Entries {
		switch e.Mode {
		case filemode.Dir:
			if err := keepTree(s, e.Hash, keep, whole); err != nil {
				return err
			}
		case filemode.Submodule:
		default:
			keep[e.Hash] = true
		}
	}
	return nil
}

// store is r's object store.
func (r *Repo) store() *storage { return r.repo.Storer.(*storage) }

// complete starts afresh (a full fetch at the next call) when a read needed
// an object a prune dropped.
func (r *Repo) complete() {
	if !r.store().incomplete {
		return
	}
	fresh, err := newLocal(r.url)
	if err != nil {
		return // kept: the next call tries again
	}
	slog.Info("an old Git object dropped from memory was needed: fetching the history afresh")
	r.setStore(fresh)
	r.built = 0
}

// again runs fn, and once more on a fresh store when it read an object a
// prune dropped. The caller holds r.mu.
func (r *Repo) again(fn func() error) error {
	r.complete()
	err := fn()
	if err != nil && r.store().incomplete {
		r.complete()
		err = fn()
	}
	return err
}
