package main

import (
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/driftback/driftback/config"
	"github.com/driftback/driftback/pullrequest"
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

// reportPullRequest runs a one-shot sync and says what came of it: the
// capture is pushed whatever happens here, so a failure is reported on
// stderr and counted, never turned into the command's failure.
func reportPullRequest(stdout, stderr io.Writer, git config.Git, res pullrequest.Result, ok bool) {
	switch {
	case !ok:
		fmt.Fprintf(stdout, "pull request: none needed, %s already holds what %s adds\n", git.BaseBranch, git.Branch)
	case res.Err != nil:
		fmt.Fprintf(stderr, "pull request NOT opened or updated (the capture is pushed to %s): %v\n", git.Branch, res.Err)
	default:
		fmt.Fprintf(stdout, "pull request #%d %s: %s\n", res.PR.Number, res.Outcome, res.PR.URL)
	}
}
