package writeback

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/driftback/driftback/config"
	"github.com/driftback/driftback/describe"
	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/overlay"
	"github.com/driftback/driftback/pullrequest"
)

// Proposer keeps the pull request from the side branch into its base: it
// turns what the side branch adds to the base into the pull request's spec
// and hands it to the host's provider. A pull request never fails a
// publish: the side branch is pushed before it is proposed.
type Proposer struct {
	cfg    *config.Config
	pr     *config.PullRequest
	opener *pullrequest.Opener
	m      *pullrequest.Metrics
}

// NewProposer reads the token and makes the provider; nil (and no error)
// when pull requests are off (pr nil). A nil Proposer does nothing.
func NewProposer(cfg *config.Config, pr *config.PullRequest) (*Proposer, error) {
	if pr == nil {
		return nil, nil
	}
	b, err := os.ReadFile(pr.TokenFile)
	if err != nil {
		// The path is named, never the content.
		return nil, fmt.Errorf("git.pullRequest.tokenFile: %w", err)
	}
	p, err := pullrequest.New(pullrequest.Options{
		Provider: pr.Provider, APIURL: pr.APIURL, Repository: pr.Repository, Token: strings.TrimSpace(string(b)),
	})
	if err != nil {
		return nil, err
	}
	m := pullrequest.NewMetrics(p.Name())
	return &Proposer{cfg: cfg, pr: pr, opener: pullrequest.NewOpener(p, m), m: m}, nil
}

// Collectors are the pull request series (none when off).
func (p *Proposer) Collectors() []prometheus.Collector {
	if p == nil {
		return nil
	}
	return p.m.Collectors()
}

// Run syncs submitted pull requests in the background until ctx ends,
// beside the captures and never in their way (docs/pullrequests.md).
func (p *Proposer) Run(ctx context.Context) {
	if p != nil {
		p.opener.Run(ctx)
	}
}

// spec describes everything the side branch holds under the overlay's
// directory that the base lacks; ok is false when there is nothing (the
// base holds it all, e.g. right after a merge): no pull request is opened
// for an empty diff.
func (p *Proposer) spec(ctx context.Context, repo *gitsync.Repo, uid string) (pullrequest.Spec, bool, error) {
	title, body, n, err := PullRequestText(ctx, p.cfg, repo, uid)
	if err != nil {
		return pullrequest.Spec{}, false, err
	}
	pr := p.pr
	return pullrequest.Spec{
		Head: p.cfg.Git.Branch, Base: p.cfg.Git.BaseBranch, Title: title, Body: body,
		Marker: describe.PullRequestMarker(p.cfg.Cluster, p.cfg.Git.Path),
		Labels: pr.Labels, Reviewers: pr.Reviewers, Assignees: pr.Assignees, Draft: pr.Draft, AutoMerge: pr.AutoMerge,
	}, n > 0, nil
}

// PullRequestText is the pull request's title and body, and the number of
// changed files they describe. uid is the cluster's identity when known;
// else it is read from the branch's record.
func PullRequestText(ctx context.Context, cfg *config.Config, repo *gitsync.Repo, uid string) (title, body string, files int, err error) {
	changes, err := repo.BranchChanges(ctx, cfg.Git.Branch, cfg.Git.BaseBranch, cfg.Git.Path)
	if err != nil {
		return "", "", 0, err
	}
	if uid == "" {
		uid = branchUID(ctx, repo, cfg.Git.Branch, cfg.Git.Path)
	}
	r := Describe(cfg.Cluster, changes)
	body = r.PullRequestBody(describe.PullRequestInfo{
		Cluster: cfg.Cluster, ClusterUID: uid, Dir: cfg.Git.Path, Head: cfg.Git.Branch, Base: cfg.Git.BaseBranch,
	})
	return r.PullRequestTitle(), body, len(changes), nil
}

// branchUID reads the cluster identity the branch records ("" when it
// cannot: the body then leaves it out).
func branchUID(ctx context.Context, repo *gitsync.Repo, branch, dir string) string {
	fsys, _, err := repo.ReadBranch(ctx, branch)
	if err != nil {
		return ""
	}
	m, _, err := overlay.ReadMeta(fsys, dir)
	if err != nil {
		return ""
	}
	return m.ClusterUID
}

// Submit hands the pull request to the background opener after a publish.
func (p *Proposer) Submit(ctx context.Context, repo *gitsync.Repo, uid string) {
	if p == nil {
		return
	}
	spec, ok, err := p.spec(ctx, repo, uid)
	if err != nil {
		slog.Error("pull request: could not describe the branch against the base; trying at the next capture", "branch", p.cfg.Git.Branch, "base", p.cfg.Git.BaseBranch, "err", err)
		return
	}
	if !ok {
		slog.Info("pull request: the base already holds the branch's overlay; nothing to propose", "branch", p.cfg.Git.Branch, "base", p.cfg.Git.BaseBranch)
		return
	}
	p.opener.Submit(spec)
}

// SyncNow is snapshot's one-shot sync: it waits for the host (retrying an
// outage or a rate limit until within ends). ok is false when nothing
// needs proposing.
func (p *Proposer) SyncNow(ctx context.Context, repo *gitsync.Repo, uid string, within time.Duration) (res pullrequest.Result, ok bool) {
	spec, ok, err := p.spec(ctx, repo, uid)
	if err != nil {
		return pullrequest.Result{Err: err}, true
	}
	if !ok {
		return pullrequest.Result{}, false
	}
	return p.opener.SyncWithin(ctx, spec, within), true
}
