package config

import (
	"strings"
	"testing"
)

func withPR(pr string) string {
	return head + "git:\n  url: https://github.com/acme/fleet.git\n  pullRequest:\n" + pr + "rules:\n" + okRule
}

func TestPullRequestConfig(t *testing.T) {
	c, err := Parse([]byte(withPR("    provider: github\n    tokenFile: /var/run/secrets/pr/token\n    labels: [driftback]\n    reviewers: [alice, acme/platform]\n    draft: true\n")))
	if err != nil {
		t.Fatal(err)
	}
	pr := c.Git.PullRequest
	if pr.Repository != "acme/fleet" || pr.Provider != "github" || !pr.Draft || pr.Reviewers[1] != "acme/platform" {
		t.Errorf("pullRequest = %+v", pr)
	}
	if c, err := Parse([]byte(head + "rules:\n" + okRule)); err != nil || c.Git.PullRequest != nil {
		t.Errorf("no pullRequest block: %+v, %v; want none", c.Git.PullRequest, err)
	}

	tests := []struct {
		name, pr string
		want     []string
	}{
		{"no provider", "    tokenFile: t\n", []string{"git.pullRequest.provider: required", "github, gitlab, gitea, forgejo"}},
		{"bad provider", "    provider: bitbucket\n    tokenFile: t\n", []string{"git.pullRequest.provider", `"bitbucket"`, "github, gitlab, gitea, forgejo"}},
		{"unknown field", "    provider: github\n    token: abc\n", []string{`unknown field "token"`}},
		{"no token file", "    provider: github\n", []string{"git.pullRequest.tokenFile: required", "never goes in the config"}},
		{"gitea without URL", "    provider: gitea\n    tokenFile: t\n", []string{"git.pullRequest.apiURL: required for gitea"}},
		{"bad URL", "    provider: gitlab\n    tokenFile: t\n    apiURL: gitlab.example.com\n", []string{"git.pullRequest.apiURL", "http(s) URL"}},
		{"URL with credentials", "    provider: gitlab\n    tokenFile: t\n    apiURL: https://u:p@gitlab.example.com/api/v4\n", []string{"git.pullRequest.apiURL", "no credentials"}},
		{"bad repository", "    provider: github\n    tokenFile: t\n    repository: fleet\n", []string{"git.pullRequest.repository", "owner/name"}},
		{"github repository with groups", "    provider: github\n    tokenFile: t\n    repository: a/b/c\n", []string{"git.pullRequest.repository", "for github"}},
		{"bad label", "    provider: github\n    tokenFile: t\n    labels: ['a,b']\n", []string{"git.pullRequest.labels[0]", "without commas"}},
		{"bad reviewer", "    provider: github\n    tokenFile: t\n    reviewers: ['al ice']\n", []string{"git.pullRequest.reviewers[0]", "user name"}},
		{"team assignee", "    provider: github\n    tokenFile: t\n    assignees: [acme/platform]\n", []string{"git.pullRequest.assignees[0]"}},
		{"token over plain http", "    provider: gitea\n    tokenFile: t\n    apiURL: http://gitea.example.com/\n", []string{"git.pullRequest.apiURL", "plain http://", "allowInsecureHTTP"}},
		{"draft and auto-merge", "    provider: github\n    tokenFile: t\n    draft: true\n    autoMerge: true\n", []string{"draft and autoMerge", "choose one"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(withPR(tc.pr)))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	_, err = Parse([]byte(head + "git:\n  url: https://github.com/acme/fleet.git\n  branch: main\n  pullRequest: {provider: github, tokenFile: t}\nrules:\n" + okRule))
	if err == nil || !strings.Contains(err.Error(), "needs a side branch") {
		t.Errorf("direct mode: err = %v, want a side branch asked for", err)
	}
}

func TestRepositoryFromURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/acme/fleet.git":                 "acme/fleet",
		"https://github.com/acme/fleet":                     "acme/fleet",
		"ssh://git@gitlab.example.com/acme/infra/fleet.git": "acme/infra/fleet",
		"git@github.com:acme/fleet.git":                     "acme/fleet",
		"http://127.0.0.1:3000/driftback-admin/fleet.git":   "driftback-admin/fleet",
	} {
		got, err := RepositoryFromURL(in)
		if err != nil || got != want {
			t.Errorf("RepositoryFromURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"/srv/git/fleet.git", "file:///srv/fleet.git", "https://github.com/fleet"} {
		if got, err := RepositoryFromURL(in); err == nil {
			t.Errorf("RepositoryFromURL(%q) = %q, want an error", in, got)
		}
	}
}
