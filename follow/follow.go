// Package follow keeps a side branch on its base branch's tip whether or not
// the cluster changes: Argo CD and Flux deploy the side branch, so a merge to
// the base must reach it even while the cluster is quiet, a publish is
// refused or the branch waits for adoption. It carries the overlay the side
// branch holds (the last good one) onto the new base tip; gitsync's side mode
// does the re-derivation and the compare-and-swap push. It knows nothing of
// Kubernetes.
package follow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/overlay"
	"github.com/driftback/driftback/render"
)

// Follower checks the base branch every Interval, and at once when poked.
type Follower struct {
	Repo     *gitsync.Repo
	Target   gitsync.Target
	Interval time.Duration
	// Active says whether this process writes (the leader); a standby only
	// measures. Nil: always.
	Active func() bool
	// Metrics are updated as the follower goes; NewMetrics.
	Metrics *Metrics
	// Rerender, when set, asks this process's writer for a publish of its
	// captures over the base: what it renders depends on the base (an
	// object the base defines is patched, one it does not is kept under
	// unmatched/). Called once each time the base branch's tip is seen to
	// move, whichever process moves the side branch: a base that drops an
	// object the overlay patches leaves an overlay that does not build
	// (carrying it cannot help; rendering again keeps the fields under
	// unmatched/, and that publish moves the side branch), and a base that
	// takes one back would leave its fields unapplied under unmatched/.
	Rerender func()

	mu      sync.Mutex
	trigger chan struct{}
	// seenBase is the base tip of the last check (Rerender).
	seenBase string
}

// ErrBuild marks a base move the overlay cannot be carried onto as it is
// (render.VerifyCarried, render.VerifyDownstream): nothing is committed.
var ErrBuild = errors.New("the overlay cannot be carried onto the new base as it is")

// Metrics are the follower's Prometheus series.
type Metrics struct {
	behindSeconds prometheus.Gauge
	behindCommits prometheus.Gauge
	rederived     prometheus.Counter
	failures      prometheus.Counter
}

// NewMetrics makes the follower's series (register them with Collectors).
func NewMetrics() *Metrics {
	return &Metrics{
		behindSeconds: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "driftback_side_branch_behind_seconds",
			Help: "How long the side branch has lacked a commit of its base branch (0 when it follows).",
		}),
		behindCommits: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "driftback_side_branch_behind_commits",
			Help: "Base branch commits (first parent) the side branch lacks.",
		}),
		rederived: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "driftback_side_branch_rederived_total",
			Help: "Times the side branch was rebuilt on a new base tip without a capture change.",
		}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "driftback_base_follow_failures_total",
			Help: "Base branch checks or re-derivations that failed (Git unreachable, the overlay cannot be carried onto the new base as it is).",
		}),
	}
}

// Collectors lists the series to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.behindSeconds, m.behindCommits, m.rederived, m.failures}
}

// Poke asks for a check now (a push event).
func (f *Follower) Poke() {
	select {
	case f.triggerCh() <- struct{}{}:
	default:
	}
}

func (f *Follower) triggerCh() chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.trigger == nil {
		f.trigger = make(chan struct{}, 1)
	}
	return f.trigger
}

// Run checks the base every Interval, and at once when poked, until ctx ends.
func (f *Follower) Run(ctx context.Context) {
	trigger := f.triggerCh()
	t := time.NewTicker(f.Interval)
	defer t.Stop()
	for {
		if err := f.Once(ctx); err != nil && ctx.Err() == nil {
			f.Metrics.failures.Inc()
			slog.Error("the side branch could not follow its base branch; trying again", "branch", f.Target.Branch, "base", f.Target.BaseBranch, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-trigger:
		}
	}
}

// Once measures the lag and, when the base moved and this process writes,
// re-derives the side branch with the overlay it holds.
func (f *Follower) Once(ctx context.Context) error {
	lag, err := f.Repo.Lag(ctx, f.Target)
	if err != nil {
		return err
	}
	f.record(lag)
	if f.Active != nil && !f.Active() {
		return nil
	}
	f.rerenderOnNewBase(lag.BaseTip.String())
	if lag.Commits == 0 {
		return nil
	}
	res, err := f.Repo.Publish(ctx, f.Target, f.carry)
	if err != nil {
		return err
	}
	if res.Rederived {
		f.Metrics.rederived.Inc()
		slog.Info("side branch follows its base", "branch", f.Target.Branch, "base", f.Target.BaseBranch, "base_commit", lag.BaseTip.String(), "commit", res.Commit.String(), "was_behind", lag.Commits)
	}
	after, err := f.Repo.Lag(ctx, f.Target)
	if err != nil {
		return err
	}
	f.record(after)
	return nil
}

func (f *Follower) record(l gitsync.Lag) {
	f.Metrics.behindCommits.Set(float64(l.Commits))
	if l.Commits == 0 || l.Since.IsZero() {
		f.Metrics.behindSeconds.Set(0)
		return
	}
	f.Metrics.behindSeconds.Set(max(0, time.Since(l.Since).Seconds()))
}

// remerge renders merged/ (overlay.MergedDir) again on the new base when
// the overlay holds one: it stands for the base's objects, so it must move
// with them. Everything else in Dir is carried unchanged.
func remerge(parent fs.FS, dir string, tree render.Tree) (*gitsync.Update, error) {
	u := &gitsync.Update{}
	prefix := overlay.MergedDir + "/"
	if _, ok := tree[prefix+overlay.KustomizationFile]; !ok {
		return u, nil
	}
	record := render.Tree{}
	for p, b := range tree {
		if !strings.HasPrefix(p, prefix) {
			record[p] = b
		}
	}
	merged, err := render.Remerge(parent, dir, record)
	if err != nil {
		return nil, err
	}
	u.Changed = map[string][]byte{}
	for p, b := range merged {
		if !bytes.Equal(tree[p], b) {
			u.Changed[p] = b
		}
	}
	for p := range tree {
		if _, kept := merged[p]; strings.HasPrefix(p, prefix) && !kept {
			u.Removed = append(u.Removed, p)
		}
	}
	sort.Strings(u.Removed)
	return u, nil
}

// carry keeps Dir as the side branch holds it: gitsync has already put the
// old tip's Dir on the new base (parent), so nothing changes but the base.
// The overlay must still build on the new base, or nothing is committed.
func (f *Follower) carry(parent fs.FS) (gitsync.Content, error) {
	dir := f.Target.Dir
	tree := render.Tree{}
	err := fs.WalkDir(parent, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(parent, p)
		if err != nil {
			return err
		}
		tree[strings.TrimPrefix(p, dir+"/")] = b
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return gitsync.Content{Update: &gitsync.Update{}}, nil // no overlay yet: the base alone
	}
	if err != nil {
		return gitsync.Content{}, fmt.Errorf("read %s: %w", dir, err)
	}
	if err := render.VerifyCarried(parent, dir, tree); err != nil {
		return gitsync.Content{}, fmt.Errorf("%w (tip of %s), the side branch stays where it is until the overlay is rendered again over it: %v", ErrBuild, f.Target.BaseBranch, err)
	}
	// The later shards build on this directory: the move must leave the
	// last of them, what Argo CD and Flux apply, building too. One that
	// does not is rendered again by its own shard's follower (Rerender).
	later, err := overlay.Downstream(parent, dir)
	if err != nil {
		return gitsync.Content{}, fmt.Errorf("find the shards that build on %s: %w", dir, err)
	}
	if err := render.VerifyDownstream(parent, dir, tree, later); err != nil {
		return gitsync.Content{}, fmt.Errorf("%w (tip of %s), the side branch stays where it is: %v", ErrBuild, f.Target.BaseBranch, err)
	}
	update, err := remerge(parent, dir, tree)
	if err != nil {
		return gitsync.Content{}, fmt.Errorf("%w (tip of %s), the side branch stays where it is: %v", ErrBuild, f.Target.BaseBranch, err)
	}
	return gitsync.Content{
		Update: update,
		Message: func([]gitsync.Change) string {
			if len(update.Changed)+len(update.Removed) > 0 {
				return fmt.Sprintf("follow %s in %s\n\nThe base branch moved; the overlay is carried over unchanged, and %s/ is built again on the new base (%d files changed, %d removed).",
					f.Target.BaseBranch, dir, overlay.MergedDir, len(update.Changed), len(update.Removed))
			}
			return fmt.Sprintf("follow %s in %s\n\nThe base branch moved; the overlay is carried over unchanged.", f.Target.BaseBranch, dir)
		},
	}, nil
}

// rerenderOnNewBase calls Rerender when the base tip moved since the last
// check (not at the first: the writer's first publish renders over the
// base anyway).
func (f *Follower) rerenderOnNewBase(tip string) {
	moved := f.seenBase != "" && tip != f.seenBase
	f.seenBase = tip
	if moved && f.Rerender != nil {
		slog.Info("the base branch moved: rendering the captures again over it", "dir", f.Target.Dir, "base", f.Target.BaseBranch, "base_commit", tip)
		f.Rerender()
	}
}
