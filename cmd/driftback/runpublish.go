package main

import (
	"context"
	"log/slog"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/capture/live"
	"github.com/driftback/driftback/config"
	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/render"
)

// runPublisher is run's publish step: publish.go's checks, plus the metrics
// and logs an unattended process needs, since a refusal cannot stop it.
type runPublisher struct {
	cfg  *config.Config
	repo *gitsync.Repo
	uid  string
	opts publishOptions
	m    *runMetrics
	// active says whether this replica writes (leader election); a standby
	// takes the captures and drops them: the leader's publish has them all.
	active func() bool
	// pr, when set, proposes each new commit in the pull request; nil: off.
	pr *prSyncer
}

func (p *runPublisher) publish(ctx context.Context, caps []capture.Capture, unlisted []live.Unlisted) error {
	if p.active != nil && !p.active() {
		slog.Debug("standby: not publishing", "objects", len(caps))
		return nil
	}
	// Publishing caps alone would delete the unlisted kinds' files: they are
	// carried over from the branch as they are.
	opts := p.opts
	opts.carryKinds = map[string]bool{}
	for _, u := range unlisted {
		opts.carryKinds[render.KindDir(u.Resource.GVR.Group, u.Resource.Kind)] = true
	}
	res, err := publish(ctx, p.cfg, p.repo, p.uid, caps, opts)
	if reason, ok := refusalReason(err); ok {
		p.m.refused.WithLabelValues(reason).Inc()
		p.m.blocked.Set(1)
		slog.Error("COMMIT REFUSED by a safety rule: Git no longer follows the cluster. driftback keeps watching and tries again when the cluster or the branch changes; see docs/run.md (When a commit is refused)",
			"reason", reason, "branch", p.cfg.Git.Branch, "objects", len(caps), "err", err)
		return err
	}
	if err != nil {
		p.m.errors.Inc()
		slog.Error("publish failed; trying again with backoff", "branch", p.cfg.Git.Branch, "err", err)
		return err
	}
	p.m.blocked.Set(0)
	if p.opts.allowDeletions {
		// The confirmation covers the state seen at start only: a cluster
		// emptied later is stopped by the guard again.
		slog.Warn("--allow-deletions used for this publish; the mass-deletion guard is armed again")
		p.opts.allowDeletions = false
	}
	if res.Commit.IsZero() {
		slog.Debug("no change", "branch", p.cfg.Git.Branch, "objects", len(caps))
		return nil
	}
	p.m.commits.Inc()
	p.m.lastCommit.SetToCurrentTime()
	slog.Info("committed", "commit", res.Commit.String(), "branch", p.cfg.Git.Branch, "files", len(res.Changes), "summary", capture.Summary(caps))
	// After the push: the pull request is the reviewers' view, synced in
	// the background; a failure there never fails this publish.
	p.pr.submit(ctx, p.repo, p.uid)
	return nil
}
