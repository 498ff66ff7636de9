package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/driftback/driftback/config"
	"github.com/driftback/driftback/describe"
	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/overlay"
	"github.com/driftback/driftback/pullrequest"
	"github.com/driftback/driftback/writeback"
)

// prFlags override git.pullRequest; --pull-request-provider alone turns
// pull requests on for a config without the block.
type prFlags struct {
	provider, apiURL, repository, tokenFile string
	labels, reviewers, assignees            []string
	draft, autoMerge, off                   bool
}

func (p *prFlags) addFlags(f *pflag.FlagSet) {
	f.StringVar(&p.provider, "pull-request-provider", "", "open and update a pull request on this host: github, gitlab, gitea or forgejo (overrides git.pullRequest.provider)")
	f.StringVar(&p.apiURL, "pull-request-api-url", "", "the host's API URL (overrides git.pullRequest.apiURL)")
	f.StringVar(&p.repository, "pull-request-repository", "", "owner/name of the repository on the host (overrides git.pullRequest.repository; default read from git.url)")
	f.StringVar(&p.tokenFile, "pull-request-token-file", "", "file holding the host's API token (overrides git.pullRequest.tokenFile)")
	f.StringSliceVar(&p.labels, "pull-request-label", nil, "label of the pull request (repeatable; overrides git.pullRequest.labels)")
	f.StringSliceVar(&p.reviewers, "pull-request-reviewer", nil, "reviewer asked when the pull request is opened (repeatable)")
	f.StringSliceVar(&p.assignees, "pull-request-assignee", nil, "assignee of the pull request (repeatable)")
	f.BoolVar(&p.draft, "pull-request-draft", false, "open the pull request as a draft")
	f.BoolVar(&p.autoMerge, "pull-request-auto-merge", false, "ask the host to merge the pull request once its checks pass")
	f.BoolVar(&p.off, "no-pull-request", false, "do not open or update a pull request, whatever git.pullRequest says")
}

// apply merges the flags into cfg.Git.PullRequest and validates the result;
// it returns nil when pull requests are off.
func (p *prFlags) apply(f *pflag.FlagSet, cfg *config.Config, allowHTTP bool) (*config.PullRequest, error) {
	if p.off {
		return nil, nil
	}
	pr := cfg.Git.PullRequest
	if pr == nil {
		if p.provider == "" {
			return nil, nil
		}
		pr = &config.PullRequest{}
	}
	c := *pr
	set := func(name string, apply func()) {
		if f.Changed(name) {
			apply()
		}
	}
	set("pull-request-provider", func() { c.Provider = p.provider })
	set("pull-request-api-url", func() { c.APIURL = p.apiURL })
	set("pull-request-repository", func() { c.Repository = p.repository })
	set("pull-request-token-file", func() { c.TokenFile = p.tokenFile })
	set("pull-request-label", func() { c.Labels = p.labels })
	set("pull-request-reviewer", func() { c.Reviewers = p.reviewers })
	set("pull-request-assignee", func() { c.Assignees = p.assignees })
	set("pull-request-draft", func() { c.Draft = p.draft })
	set("pull-request-auto-merge", func() { c.AutoMerge = p.autoMerge })
	if err := c.Validate(cfg.Git.URL, cfg.Git.Branch, cfg.Git.BaseBranch, allowHTTP || cfg.Git.AllowInsecureHTTP); err != nil {
		return nil, fmt.Errorf("%w (flags --pull-request-*)", err)
	}
	if c.Repository == "" {
		return nil, fmt.Errorf("git.pullRequest.repository: required: git.url %q names no hosted repository", cfg.Git.URL)
	}
	return &c, nil
}

// prSyncer turns what the side branch adds to the base into the pull
// request's spec and hands it to the provider.
type prSyncer struct {
	cfg    *config.Config
	pr     *config.PullRequest
	opener *pullrequest.Opener
	m      *pullrequest.Metrics
}

// newPRSyncer reads the token and makes the provider; nil when pull
// requests are off.
func newPRSyncer(cfg *config.Config, pr *config.PullRequest) (*prSyncer, error) {
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
	return &prSyncer{cfg: cfg, pr: pr, opener: pullrequest.NewOpener(p, m), m: m}, nil
}

// spec describes everything the side branch holds under the overlay's
// directory that the base lacks; ok is false when there is nothing (the
// base holds it all, e.g. right after a merge): no pull request is opened
// for an empty diff.
func (s *prSyncer) spec(ctx context.Context, repo *gitsync.Repo, uid string) (pullrequest.Spec, bool, error) {
	title, body, n, err := prText(ctx, s.cfg, repo, uid)
	if err != nil {
		return pullrequest.Spec{}, false, err
	}
	pr := s.pr
	return pullrequest.Spec{
		Head: s.cfg.Git.Branch, Base: s.cfg.Git.BaseBranch, Title: title, Body: body,
		Marker: describe.PullRequestMarker(s.cfg.Cluster, s.cfg.Git.Path),
		Labels: pr.Labels, Reviewers: pr.Reviewers, Assignees: pr.Assignees, Draft: pr.Draft, AutoMerge: pr.AutoMerge,
	}, n > 0, nil
}

// prText is the pull request's title and body, and the number of changed
// files they describe. uid is the cluster's identity when known; else it is
// read from the branch's record.
func prText(ctx context.Context, cfg *config.Config, repo *gitsync.Repo, uid string) (title, body string, files int, err error) {
	changes, err := repo.BranchChanges(ctx, cfg.Git.Branch, cfg.Git.BaseBranch, cfg.Git.Path)
	if err != nil {
		return "", "", 0, err
	}
	if uid == "" {
		uid = branchUID(ctx, repo, cfg.Git.Branch, cfg.Git.Path)
	}
	r := writeback.Describe(cfg.Cluster, changes)
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

// submit hands the pull request to the background opener after a publish.
// It never fails the publish: the side branch is already pushed.
func (s *prSyncer) submit(ctx context.Context, repo *gitsync.Repo, uid string) {
	if s == nil {
		return
	}
	spec, ok, err := s.spec(ctx, repo, uid)
	if err != nil {
		slog.Error("pull request: could not describe the branch against the base; trying at the next capture", "branch", s.cfg.Git.Branch, "base", s.cfg.Git.BaseBranch, "err", err)
		return
	}
	if !ok {
		slog.Info("pull request: the base already holds the branch's overlay; nothing to propose", "branch", s.cfg.Git.Branch, "base", s.cfg.Git.BaseBranch)
		return
	}
	s.opener.Submit(spec)
}

// syncNow is snapshot's one-shot sync: it waits for the host (retrying an
// outage or a rate limit until within ends), reports, and never fails the
// command, since the capture is pushed.
func (s *prSyncer) syncNow(ctx context.Context, repo *gitsync.Repo, uid string, within time.Duration) (pullrequest.Result, bool) {
	spec, ok, err := s.spec(ctx, repo, uid)
	if err != nil {
		return pullrequest.Result{Err: err}, true
	}
	if !ok {
		return pullrequest.Result{}, false
	}
	return s.opener.SyncWithin(ctx, spec, within), true
}

// reportPullRequest runs a one-shot sync and says what came of it: the
// capture is pushed whatever happens here, so a failure is reported on
// stderr and counted, never turned into the command's failure.
func reportPullRequest(stdout, stderr io.Writer, s *prSyncer, sync func() (pullrequest.Result, bool)) {
	res, ok := sync()
	switch {
	case !ok:
		fmt.Fprintf(stdout, "pull request: none needed, %s already holds what %s adds\n", s.cfg.Git.BaseBranch, s.cfg.Git.Branch)
	case res.Err != nil:
		fmt.Fprintf(stderr, "pull request NOT opened or updated (the capture is pushed to %s): %v\n", s.cfg.Git.Branch, res.Err)
	default:
		fmt.Fprintf(stdout, "pull request #%d %s: %s\n", res.PR.Number, res.Outcome, res.PR.URL)
	}
}
