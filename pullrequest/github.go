package pullrequest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v93/github"
)

// githubProvider talks to GitHub (or GitHub Enterprise Server) with
// google/go-github, GitHub's REST API client.
type githubProvider struct {
	client      *github.Client
	token       string
	owner, repo string
	graphQL     string
	now         func() time.Time
}

func newGitHub(o Options) (Provider, error) {
	owner, repo, err := splitRepo(o.Repository)
	if err != nil {
		return nil, err
	}
	opts := []github.ClientOptionsFunc{github.WithHTTPClient(o.httpClient()), github.WithAuthToken(o.Token), github.WithUserAgent(userAgent)}
	graphQL := "https://api.github.com/graphql"
	if o.APIURL != "" {
		base := strings.TrimSuffix(o.APIURL, "/") + "/"
		opts = append(opts, github.WithURLs(&base, &base))
		// GitHub Enterprise Server serves REST under /api/v3 and GraphQL
		// under /api/graphql; api.github.com serves both at its root.
		graphQL = strings.TrimSuffix(strings.TrimSuffix(base, "/"), "/v3") + "/graphql"
		if !strings.HasSuffix(strings.TrimSuffix(base, "/"), "/api/v3") {
			graphQL = base + "graphql"
		}
	}
	c, err := github.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("github client: %w", err)
	}
	return &githubProvider{client: c, token: o.Token, owner: owner, repo: repo, graphQL: graphQL, now: time.Now}, nil
}

func (g *githubProvider) Name() string { return "github" }

// err classifies an error; go-github reports a spent rate limit as its own
// types, sometimes without asking the server (it remembers the reset time).
func (g *githubProvider) err(resp *github.Response, err error) error {
	if err == nil {
		return nil
	}
	var rl *github.RateLimitError
	if errors.As(err, &rl) {
		e := &Error{Provider: g.Name(), Reason: ReasonRateLimited, Status: http.StatusForbidden, Err: redacted{err, g.token}}
		if t := rl.Rate.Reset.Time; t.After(g.now()) {
			e.RetryAfter = t.Sub(g.now())
		}
		return e
	}
	var abuse *github.AbuseRateLimitError
	if errors.As(err, &abuse) {
		e := &Error{Provider: g.Name(), Reason: ReasonRateLimited, Status: http.StatusForbidden, Err: redacted{err, g.token}}
		if d := abuse.GetRetryAfter(); d > 0 {
			e.RetryAfter = d
		} else if abuse.Response != nil {
			e.RetryAfter = retryAfter(abuse.Response.Header, g.now())
		}
		return e
	}
	var r *http.Response
	if resp != nil {
		r = resp.Response
	}
	return Classify(g.Name(), g.token, r, err, g.now())
}

func (g *githubProvider) FindOpen(ctx context.Context, head, base, marker string) (*PR, error) {
	opt := &github.PullRequestListOptions{State: "open", Head: g.owner + ":" + head, Base: base, ListOptions: github.ListOptions{PerPage: 100}}
	for {
		prs, resp, err := g.client.PullRequests.List(ctx, g.owner, g.repo, opt)
		if err != nil {
			return nil, g.err(resp, err)
		}
		for _, p := range prs {
			if p.GetHead().GetRef() == head && p.GetBase().GetRef() == base && strings.Contains(p.GetBody(), marker) {
				return githubPR(p), nil
			}
		}
		if resp.NextPage == 0 {
			return nil, nil
		}
		opt.Page = resp.NextPage
	}
}

func githubPR(p *github.PullRequest) *PR {
	out := &PR{Number: int64(p.GetNumber()), URL: p.GetHTMLURL(), Title: p.GetTitle(), Body: p.GetBody(), Draft: p.GetDraft()}
	for _, l := range p.Labels {
		out.Labels = append(out.Labels, l.GetName())
	}
	return out
}

func (g *githubProvider) Create(ctx context.Context, s Spec) (*PR, error) {
	p, resp, err := g.client.PullRequests.Create(ctx, g.owner, g.repo, github.CreatePullRequest{
		Title: &s.Title, Head: s.Head, Base: s.Base, Body: &s.Body, Draft: &s.Draft,
	})
	if err != nil {
		return nil, g.err(resp, err)
	}
	pr := githubPR(p)
	n := int(pr.Number)
	// Labels and assignees belong to the pull request's issue; reviewers are
	// asked separately.
	if len(s.Labels) > 0 {
		labels, resp, err := g.client.Issues.AddLabelsToIssue(ctx, g.owner, g.repo, n, s.Labels)
		if err != nil {
			return pr, g.err(resp, err)
		}
		pr.Labels = nil
		for _, l := range labels {
			pr.Labels = append(pr.Labels, l.GetName())
		}
	}
	if len(s.Assignees) > 0 {
		if _, resp, err := g.client.Issues.AddAssignees(ctx, g.owner, g.repo, n, s.Assignees); err != nil {
			return pr, g.err(resp, err)
		}
	}
	if len(s.Reviewers) > 0 {
		users, teams := splitTeams(s.Reviewers)
		if _, resp, err := g.client.PullRequests.RequestReviewers(ctx, g.owner, g.repo, n, github.ReviewersRequest{Reviewers: users, TeamReviewers: teams}); err != nil {
			return pr, g.err(resp, err)
		}
	}
	return pr, nil
}

// splitTeams separates "org/team" reviewers (GitHub teams, by slug) from users.
func splitTeams(names []string) (users, teams []string) {
	for _, n := range names {
		if _, team, ok := strings.Cut(n, "/"); ok {
			teams = append(teams, team)
		} else {
			users = append(users, n)
		}
	}
	return users, teams
}

func (g *githubProvider) Update(ctx context.Context, pr *PR, s Spec) (*PR, error) {
	p, resp, err := g.client.PullRequests.Edit(ctx, g.owner, g.repo, int(pr.Number), &github.PullRequest{Title: &s.Title, Body: &s.Body})
	if err != nil {
		return nil, g.err(resp, err)
	}
	out := githubPR(p)
	if add := missing(s.Labels, pr.Labels); len(add) > 0 {
		labels, resp, err := g.client.Issues.AddLabelsToIssue(ctx, g.owner, g.repo, int(pr.Number), add)
		if err != nil {
			return out, g.err(resp, err)
		}
		out.Labels = nil
		for _, l := range labels {
			out.Labels = append(out.Labels, l.GetName())
		}
	}
	return out, nil
}

// EnableAutoMerge uses GraphQL's enablePullRequestAutoMerge: GitHub's REST
// API has no call for it. The request goes through go-github's client, so
// it carries the same token, user agent and rate-limit handling.
func (g *githubProvider) EnableAutoMerge(ctx context.Context, pr *PR) error {
	p, resp, err := g.client.PullRequests.Get(ctx, g.owner, g.repo, int(pr.Number))
	if err != nil {
		return g.err(resp, err)
	}
	body := map[string]any{
		"query":     `mutation($id: ID!) { enablePullRequestAutoMerge(input: {pullRequestId: $id}) { clientMutationId } }`,
		"variables": map[string]any{"id": p.GetNodeID()},
	}
	req, err := g.client.NewRequest(ctx, http.MethodPost, g.graphQL, body)
	if err != nil {
		return g.err(nil, err)
	}
	var out struct {
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	resp, err = g.client.Do(req, &out)
	if err != nil {
		return g.err(resp, err)
	}
	if len(out.Errors) > 0 {
		// GraphQL answers 200 with errors, e.g. auto-merge not allowed in
		// the repository's settings.
		return &Error{Provider: g.Name(), Reason: ReasonRejected, Status: resp.StatusCode, Err: fmt.Errorf("enablePullRequestAutoMerge: %s", out.Errors[0].Message)}
	}
	return nil
}
