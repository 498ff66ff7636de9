package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/render"
)

// baseFollower keeps the side branch on its base branch's tip whether or not
// the cluster changes: Argo CD and Flux deploy the side branch, so a merge
// to the base must reach it even while the cluster is quiet, a publish is
// refused or the branch waits for adoption. It carries the overlay the side
// branch holds (the last good one) onto the new base tip; gitsync's side
// mode does the re-derivation (plan) and the compare-and-swap push.
type baseFollower struct {
	repo     *gitsync.Repo
	target   gitsync.Target
	interval time.Duration
	// trigger asks for a check now (the push webhook); buffered, one is enough.
	trigger chan struct{}
	// active says whether this process writes (the leader); a standby only
	// measures.
	active func() bool
	m      *followMetrics
}

type followMetrics struct {
	behindSeconds prometheus.Gauge
	behindCommits prometheus.Gauge
	rederived     prometheus.Counter
	failures      prometheus.Counter
}

func newFollowMetrics() *followMetrics {
	return &followMetrics{
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
			Help: "Base branch checks or re-derivations that failed (Git unreachable, the overlay does not build on the new base).",
		}),
	}
}

func (m *followMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.behindSeconds, m.behindCommits, m.rederived, m.failures}
}

// poke asks for a check now.
func (f *baseFollower) poke() {
	select {
	case f.trigger <- struct{}{}:
	default:
	}
}

// run checks the base every interval, and at once when poked, until ctx ends.
func (f *baseFollower) run(ctx context.Context) {
	t := time.NewTicker(f.interval)
	defer t.Stop()
	for {
		if err := f.once(ctx); err != nil && ctx.Err() == nil {
			f.m.failures.Inc()
			slog.Error("the side branch could not follow its base branch; trying again", "branch", f.target.Branch, "base", f.target.BaseBranch, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-f.trigger:
		}
	}
}

// once measures the lag and, when the base moved and this process writes,
// re-derives the side branch with the overlay it holds.
func (f *baseFollower) once(ctx context.Context) error {
	lag, err := f.repo.Lag(ctx, f.target)
	if err != nil {
		return err
	}
	f.record(lag)
	if lag.Commits == 0 || !f.active() {
		return nil
	}
	res, err := f.repo.Publish(ctx, f.target, f.carry)
	if err != nil {
		return err
	}
	if res.Rederived {
		f.m.rederived.Inc()
		slog.Info("side branch follows its base", "branch", f.target.Branch, "base", f.target.BaseBranch, "base_commit", lag.BaseTip.String(), "commit", res.Commit.String(), "was_behind", lag.Commits)
	}
	after, err := f.repo.Lag(ctx, f.target)
	if err != nil {
		return err
	}
	f.record(after)
	return nil
}

func (f *baseFollower) record(l gitsync.Lag) {
	f.m.behindCommits.Set(float64(l.Commits))
	if l.Commits == 0 || l.Since.IsZero() {
		f.m.behindSeconds.Set(0)
		return
	}
	f.m.behindSeconds.Set(max(0, time.Since(l.Since).Seconds()))
}

// carry keeps Dir as the side branch holds it: gitsync has already put the
// old tip's Dir on the new base (parent), so nothing changes but the base.
// The overlay must still build on the new base, or nothing is committed.
func (f *baseFollower) carry(parent fs.FS) (gitsync.Content, error) {
	dir := f.target.Dir
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
	if err := render.Verify(parent, dir, tree); err != nil {
		return gitsync.Content{}, &refusal{refusedBuild, fmt.Errorf("the overlay does not build on the new tip of %s, the side branch stays where it is: %w", f.target.BaseBranch, err)}
	}
	return gitsync.Content{
		Update: &gitsync.Update{},
		Message: func([]gitsync.Change) string {
			return fmt.Sprintf("follow %s in %s\n\nThe base branch moved; the overlay is carried over unchanged.", f.target.BaseBranch, dir)
		},
	}, nil
}

// followFlags configure how `run` follows the base branch.
type followFlags struct {
	poll        time.Duration
	webhookAddr string
	secretFile  string
}

func (o *followFlags) addFlags(f *pflag.FlagSet) {
	f.DurationVar(&o.poll, "base-poll", 30*time.Second, "how often to check whether the base branch moved (the side branch is rebuilt on it, captures or not)")
	f.StringVar(&o.webhookAddr, "webhook-addr", "", "address serving POST /hooks/push for GitHub, GitLab and Gitea push events, so the side branch follows at once (off when empty; needs --webhook-secret-file)")
	f.StringVar(&o.secretFile, "webhook-secret-file", "", "file holding the webhook secret the Git host signs push events with")
}

// start runs the follower (side mode only) and the webhook, if asked for,
// until ctx ends or stop is called.
func (o *followFlags) start(ctx context.Context, repo *gitsync.Repo, t gitsync.Target, m *followMetrics, active func() bool) (stop func(), err error) {
	if o.poll <= 0 {
		return nil, fmt.Errorf("--base-poll: %v is not allowed: a positive duration (the side branch must follow its base)", o.poll)
	}
	if t.Mode == gitsync.ModeDirect || t.BaseBranch == "" || t.Branch == t.BaseBranch {
		if o.webhookAddr != "" {
			slog.Warn("--webhook-addr ignored: git.mode is direct, there is no side branch to follow")
		}
		return func() {}, nil
	}
	f := &baseFollower{repo: repo, target: t, interval: o.poll, trigger: make(chan struct{}, 1), active: active, m: m}
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); f.run(fctx) }()
	stopHook := func() {}
	if o.webhookAddr != "" {
		if stopHook, err = o.serveHook(t.BaseBranch, f.poke); err != nil {
			cancel()
			<-done
			return nil, err
		}
	}
	return func() { stopHook(); cancel(); <-done }, nil
}

func (o *followFlags) serveHook(branch string, poke func()) (func(), error) {
	if o.secretFile == "" {
		return nil, fmt.Errorf("--webhook-addr needs --webhook-secret-file: push events are accepted only signed with a secret")
	}
	secret, err := os.ReadFile(o.secretFile)
	if err != nil {
		return nil, fmt.Errorf("--webhook-secret-file: %w", err)
	}
	secret = bytes.TrimSpace(secret)
	if len(secret) == 0 {
		return nil, fmt.Errorf("--webhook-secret-file %s: empty", o.secretFile)
	}
	ln, err := net.Listen("tcp", o.webhookAddr)
	if err != nil {
		return nil, fmt.Errorf("--webhook-addr %s: %w", o.webhookAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/hooks/push", &pushHook{secret: secret, branch: branch, poke: poke})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("webhook server stopped", "err", err)
		}
	}()
	slog.Info("serving push webhooks on /hooks/push", "addr", ln.Addr().String(), "base", branch)
	return func() {
		sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		_ = srv.Shutdown(sctx)
	}, nil
}
