package config

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// PullRequest configures the one rolling pull request per cluster from
// git.branch into git.baseBranch (docs/pullrequests.md). Absent: none is
// opened.
type PullRequest struct {
	// Provider is github, gitlab, gitea or forgejo.
	Provider string `json:"provider"`
	// APIURL is the API's address: https://api.github.com/ and
	// https://gitlab.com/api/v4 by default; a Gitea or Forgejo server's
	// root URL (required for them).
	APIURL string `json:"apiURL"`
	// Repository is owner/name (GitLab: the project's full path). Default:
	// read from git.url.
	Repository string `json:"repository"`
	// TokenFile holds the API token (a mounted Secret); required.
	TokenFile string `json:"tokenFile"`
	// Labels are set on the pull request.
	Labels []string `json:"labels"`
	// Reviewers and Assignees are user names (GitHub: org/team for a team
	// reviewer), asked when the pull request is opened.
	Reviewers []string `json:"reviewers"`
	Assignees []string `json:"assignees"`
	// Draft opens the pull request as a draft.
	Draft bool `json:"draft"`
	// AutoMerge asks the host to merge it once its checks pass.
	AutoMerge bool `json:"autoMerge"`
}

// PullRequestProviders are the allowed values of git.pullRequest.provider.
var PullRequestProviders = []string{"github", "gitlab", "gitea", "forgejo"}

var (
	userName  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$`)
	repoPath  = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$`)
	scpLikeRe = regexp.MustCompile(`^[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+:(.+)$`)
)

// Validate checks a pull request configuration and fills the repository
// from the Git URL when it is not set. branch and base are git.branch and
// git.baseBranch; allowHTTP is git.allowInsecureHTTP (the token goes with
// every request, so plain http:// is refused without it).
func (p *PullRequest) Validate(gitURL, branch, base string, allowHTTP bool) error {
	const f = "git.pullRequest"
	if !slices.Contains(PullRequestProviders, p.Provider) {
		if p.Provider == "" {
			return fmt.Errorf("%s.provider: required: one of %s", f, strings.Join(PullRequestProviders, ", "))
		}
		return fmt.Errorf("%s.provider: %q is not allowed: one of %s", f, p.Provider, strings.Join(PullRequestProviders, ", "))
	}
	if p.APIURL == "" && (p.Provider == "gitea" || p.Provider == "forgejo") {
		return fmt.Errorf("%s.apiURL: required for %s: the server's root URL, such as https://gitea.example.com/", f, p.Provider)
	}
	if p.APIURL != "" {
		u, err := url.Parse(p.APIURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return fmt.Errorf("%s.apiURL: %q is not allowed: an http(s) URL with a host and no credentials, such as https://gitlab.example.com/api/v4", f, p.APIURL)
		}
		if u.Scheme == "http" && !allowHTTP {
			return fmt.Errorf("%s.apiURL: plain http:// is not allowed: the API token would cross the network readable; use https://, or set git.allowInsecureHTTP: true to accept the risk", f)
		}
	}
	if strings.TrimSpace(p.TokenFile) == "" {
		return fmt.Errorf("%s.tokenFile: required: a file holding the API token (a mounted Secret; the token itself never goes in the config)", f)
	}
	if p.Repository == "" && gitURL != "" {
		r, err := RepositoryFromURL(gitURL)
		if err != nil {
			return fmt.Errorf("%s.repository: required, as it cannot be read from git.url: %w", f, err)
		}
		p.Repository = r
	}
	if p.Repository != "" {
		if !repoPath.MatchString(p.Repository) {
			return fmt.Errorf("%s.repository: %q is not allowed: owner/name (GitLab: group/subgroup/project)", f, p.Repository)
		}
		if p.Provider != "gitlab" && strings.Count(p.Repository, "/") != 1 {
			return fmt.Errorf("%s.repository: %q is not allowed for %s: owner/name", f, p.Repository, p.Provider)
		}
	}
	if branch == base {
		return fmt.Errorf("%s: needs a side branch: git.branch is the base branch %q, so there is nothing to merge (use git.mode side with another git.branch)", f, base)
	}
	for i, l := range p.Labels {
		if strings.TrimSpace(l) == "" || strings.Contains(l, ",") || len(l) > 50 {
			return fmt.Errorf("%s.labels[%d]: %q is not allowed: a non-empty label name of at most 50 characters, without commas", f, i, l)
		}
	}
	for _, list := range []struct {
		name  string
		users []string
	}{{"reviewers", p.Reviewers}, {"assignees", p.Assignees}} {
		for i, u := range list.users {
			if !userName.MatchString(u) || (strings.Contains(u, "/") && (list.name != "reviewers" || p.Provider != "github")) {
				return fmt.Errorf("%s.%s[%d]: %q is not allowed: a user name (GitHub reviewers may also be org/team)", f, list.name, i, u)
			}
		}
	}
	if p.Draft && p.AutoMerge {
		return fmt.Errorf("%s: draft and autoMerge together are not allowed: a draft is never merged; choose one", f)
	}
	return nil
}

// RepositoryFromURL reads owner/name from a Git URL: https://host/owner/name.git,
// ssh://git@host/owner/name.git or git@host:owner/name.git.
func RepositoryFromURL(gitURL string) (string, error) {
	var p string
	if m := scpLikeRe.FindStringSubmatch(gitURL); m != nil && !strings.Contains(gitURL, "://") {
		p = m[1]
	} else {
		u, err := url.Parse(gitURL)
		if err != nil || u.Host == "" {
			return "", fmt.Errorf("%q is not a URL of a hosted repository", gitURL)
		}
		p = u.Path
	}
	p = strings.TrimSuffix(strings.Trim(p, "/"), ".git")
	if !repoPath.MatchString(p) {
		return "", fmt.Errorf("no owner/name in %q", gitURL)
	}
	return p, nil
}
