package gitsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"
)

// Publish fetches the branch, builds Dir from prepare on top of its tip (see
// Mode), commits when anything changed and pushes. Rejected pushes and an
// unreachable server are retried with exponential backoff, each time on a
// fresh fetch, so nobody's commit is lost; a hook's refusal, bad credentials
// and errors from prepare are returned at once. Until a change is pushed,
// driftback_git_pending_seconds grows.
func (r *Repo) Publish(ctx context.Context, t Target, prepare Prepare) (Result, error) {
	if err := t.validate(); err != nil {
		return Result{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.metrics.markPending()
	attempts := t.Attempts
	if attempts <= 0 {
		attempts = 6
	}
	wait := t.MinBackoff
	if wait <= 0 {
		wait = 200 * time.Millisecond
	}
	maxWait := t.MaxBackoff
	if maxWait <= 0 {
		maxWait = 30 * time.Second
	}
	timeout := t.AttemptTimeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	var lastErr error
	for i := 1; i <= attempts; i++ {
		r.complete()
		actx, cancel := context.WithTimeout(ctx, timeout)
		res, err := r.publishOnce(actx, t, prepare)
		cancel()
		if err != nil && r.store().incomplete {
			// Not the caller's: an object a prune dropped was needed. The
			// next attempt fetches afresh.
			err = fmt.Errorf("an old Git object was needed after a prune, fetching afresh: %v", err)
		}
		// Every error leaving Publish, and every log line, is scrubbed here
		// too, whatever path it took (a caller's error may quote a URL).
		err = r.scrub(err)
		if err == nil {
			r.metrics.clearPending()
			res.Attempts = i
			return res, nil
		}
		lastErr = err
		if !errors.As(err, new(callerError)) {
			r.metrics.failures.Inc()
		}
		if isPermanent(err) || ctx.Err() != nil {
			return Result{}, err
		}
		if i == attempts {
			break
		}
		d := wait/2 + rand.N(wait/2+1)
		slog.Info("git write-back failed, trying again", "branch", t.Branch, "attempt", i, "in", d.Round(time.Millisecond), "error", err)
		select {
		case <-ctx.Done():
			return Result{}, fmt.Errorf("publish to %s: %w (last error: %v)", t.Branch, ctx.Err(), lastErr)
		case <-time.After(d):
		}
		wait = min(wait*2, maxWait)
	}
	return Result{}, fmt.Errorf("publish to %s after %d attempts: %w", t.Branch, attempts, lastErr)
}

func (r *Repo) publishOnce(ctx context.Context, t Target, prepare Prepare) (Result, error) {
	r.written.take() // objects of an earlier attempt: not this commit's
	var took Timings
	start := time.Now()
	lap := func(d *time.Duration) { now := time.Now(); *d, start = now.Sub(start), now }
	tips, err := r.fetch(ctx, t.Branch, t.BaseBranch)
	if err != nil {
		return Result{}, err
	}
	// After the fetch: the references name the tips this attempt builds on.
	r.maybePrune(t.Dir)
	p, err := r.plan(t, tips)
	if err != nil {
		return Result{}, err
	}
	var tree *object.Tree
	if !p.root.IsZero() {
		if tree, err = object.GetTree(r.repo.Storer, p.root); err != nil {
			return Result{}, fmt.Errorf("read tree %s: %w", p.root, err)
		}
	}
	lap(&took.Fetch)
	content, err := prepare(parentFS{treeFS: treeFS{root: tree}, repo: r, tip: tips[t.Branch]})
	if err != nil {
		return Result{}, callerError{err}
	}
	lap(&took.Prepare)
	h, changes, dir, err := r.build(p, t, content)
	if err != nil {
		return Result{}, permanent(err)
	}
	lap(&took.Build)
	if h.IsZero() {
		return Result{Parent: hashOf(p.parent), Dir: hashOf(dir), Took: took}, nil
	}
	// The branch moves from the tip this commit was built on (or, when
	// re-derived, replaces it: the lease); zero creates it.
	if err := r.pushPack(ctx, t.Branch, tips[t.Branch], h, r.written.take()); err != nil {
		return Result{}, err
	}
	lap(&took.Push)
	return Result{Commit: hashOf(h), Changes: changes, Parent: hashOf(p.parent), Dir: hashOf(dir), Rederived: p.rederive, Took: took}, nil
}
