package pullrequest

import (
	"context"
	"net/http"
	"strings"
	"time"

	"code.gitea.io/sdk/gitea"
)

// giteaDraftPrefix marks a work-in-progress pull request on Gitea and
// Forgejo (their default [repository.pull-request] WORK_IN_PROGRESS_PREFIXES).
const giteaDraftPrefix = "WIP: "

// giteaProvider talks to Gitea or Forgejo with code.gitea.io/sdk/gitea.
type giteaProvider struct {
	apiURL, token, owner, repo string
	http                       *http.Client
	now                        func() time.Time
}

func newGitea(o Options) (Provider, error) {
	owner, repo, err := splitRepo(o.Repository)
	if err != nil {
		return nil, err
	}
	return &giteaProvider{apiURL: strings.TrimSuffix(o.APIURL, "/"), token: o.Token, owner: owner, repo: repo, http: o.httpClient(), now: time.Now}, nil
}

func (g *giteaProvider) Name() string { return "gitea" }

// client is made per call: the SDK keeps one context per client, and
// SetGiteaVersion("") spares a version request (the server may be down).
func (g *giteaProvider) client(ctx context.Context) (*gitea.Client, error) {
	c, err := gitea.NewClient(g.apiURL, gitea.SetToken(g.token), gitea.SetHTTPClient(g.http),
		gitea.SetContext(ctx), gitea.SetGiteaVersion(""), gitea.SetUserAgent(userAgent))
	return c, g.err(nil, err)
}

func (g *giteaProvider) err(resp *gitea.Response, err error) error {
	var r *http.Response
	if resp != nil {
		r = resp.Response
	}
	return Classify(g.Name(), g.token, r, err, g.now())
}

func (g *giteaProvider) FindOpen(ctx context.Context, head, base, marker string) (*PR, error) {
	c, err := g.client(ctx)
	if err != nil {
		return nil, err
	}
	opt := gitea.ListPullRequestsOptions{State: gitea.StateOpen, ListOptions: gitea.ListOptions{Page: 1, PageSize: 50}}
	for {
		prs, resp, err := c.ListRepoPullRequests(g.owner, g.repo, opt)
		if err != nil {
			return nil, g.err(resp, err)
		}
		for _, p := range prs {
			if p.Head != nil && p.Base != nil && p.Head.Ref == head && p.Base.Ref == base && strings.Contains(p.Body, marker) {
				return giteaPR(p), nil
			}
		}
		if resp == nil || resp.NextPage == 0 || len(prs) == 0 {
			return nil, nil
		}
		opt.Page = resp.NextPage
	}
}

func giteaPR(p *gitea.PullRequest) *PR {
	out := &PR{Number: p.Index, URL: p.HTMLURL, Body: p.Body, Title: p.Title}
	if t, ok := strings.CutPrefix(p.Title, giteaDraftPrefix); ok {
		out.Title, out.Draft = t, true
	}
	for _, l := range p.Labels {
		out.Labels = append(out.Labels, l.Name)
	}
	return out
}

func (g *giteaProvider) Create(ctx context.Context, s Spec) (*PR, error) {
	c, err := g.client(ctx)
	if err != nil {
		return nil, err
	}
	ids, err := g.labelIDs(c, s.Labels)
	if err != nil {
		return nil, err
	}
	title := s.Title
	if s.Draft {
		title = giteaDraftPrefix + title
	}
	p, resp, err := c.CreatePullRequest(g.owner, g.repo, gitea.CreatePullRequestOption{
		Head: s.Head, Base: s.Base, Title: title, Body: s.Body,
		Assignees: s.Assignees, Reviewers: s.Reviewers, Labels: ids,
	})
	if err != nil {
		return nil, g.err(resp, err)
	}
	return giteaPR(p), nil
}

func (g *giteaProvider) Update(ctx context.Context, pr *PR, s Spec) (*PR, error) {
	c, err := g.client(ctx)
	if err != nil {
		return nil, err
	}
	title := s.Title
	if pr.Draft {
		// Still a draft: keep the prefix. Removed by a person: stay ready.
		title = giteaDraftPrefix + title
	}
	body := s.Body
	p, resp, err := c.EditPullRequest(g.owner, g.repo, pr.Number, gitea.EditPullRequestOption{Title: title, Body: &body})
	if err != nil {
		return nil, g.err(resp, err)
	}
	if add := missing(s.Labels, pr.Labels); len(add) > 0 {
		ids, err := g.labelIDs(c, add)
		if err != nil {
			return nil, err
		}
		labels, resp, err := c.AddIssueLabels(g.owner, g.repo, pr.Number, gitea.IssueLabelsOption{Labels: ids})
		if err != nil {
			return nil, g.err(resp, err)
		}
		p.Labels = labels
	}
	return giteaPR(p), nil
}

// labelIDs finds the repository's labels by name, creating those it lacks.
func (g *giteaProvider) labelIDs(c *gitea.Client, names []string) ([]int64, error) {
	if len(names) == 0 {
		return nil, nil
	}
	have := map[string]int64{}
	opt := gitea.ListLabelsOptions{ListOptions: gitea.ListOptions{Page: 1, PageSize: 50}}
	for {
		labels, resp, err := c.ListRepoLabels(g.owner, g.repo, opt)
		if err != nil {
			return nil, g.err(resp, err)
		}
		for _, l := range labels {
			have[l.Name] = l.ID
		}
		if resp == nil || resp.NextPage == 0 || len(labels) == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	var ids []int64
	for _, n := range names {
		id, ok := have[n]
		if !ok {
			l, resp, err := c.CreateLabel(g.owner, g.repo, gitea.CreateLabelOption{Name: n, Color: "#5319e7", Description: "set by driftback"})
			if err != nil {
				return nil, g.err(resp, err)
			}
			id = l.ID
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// EnableAutoMerge schedules the merge for when the checks pass (Gitea
// merges at once when there are none).
func (g *giteaProvider) EnableAutoMerge(ctx context.Context, pr *PR) error {
	c, err := g.client(ctx)
	if err != nil {
		return err
	}
	_, resp, err := c.MergePullRequest(g.owner, g.repo, pr.Number, gitea.MergePullRequestOption{Style: gitea.MergeStyleMerge, MergeWhenChecksSucceed: true})
	return g.err(resp, err)
}
