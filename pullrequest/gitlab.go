package pullrequest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	gitlab "gitlab.com/gitlab-org/api/client-go"
)

// gitlabDraftPrefix marks a draft merge request on GitLab.
const gitlabDraftPrefix = "Draft: "

// gitlabProvider talks to GitLab with its official client
// (gitlab.com/gitlab-org/api/client-go), retries off: the Opener decides
// when to try again, so a spent rate limit never holds a goroutine.
type gitlabProvider struct {
	client  *gitlab.Client
	token   string
	project string
	now     func() time.Time
}

func newGitLab(o Options) (Provider, error) {
	project := strings.Trim(o.Repository, "/")
	if !strings.Contains(project, "/") {
		return nil, fmt.Errorf("pull request: repository %q is not allowed: the project's full path, e.g. acme/platform/fleet", o.Repository)
	}
	opts := []gitlab.ClientOptionFunc{gitlab.WithHTTPClient(o.httpClient()), gitlab.WithoutRetries(), gitlab.WithUserAgent(userAgent)}
	if o.APIURL != "" {
		opts = append(opts, gitlab.WithBaseURL(o.APIURL))
	}
	c, err := gitlab.NewClient(o.Token, opts...)
	if err != nil {
		return nil, fmt.Errorf("gitlab client: %s", Redact(err.Error(), o.Token))
	}
	return &gitlabProvider{client: c, token: o.Token, project: project, now: time.Now}, nil
}

func (g *gitlabProvider) Name() string { return "gitlab" }

func (g *gitlabProvider) err(resp *gitlab.Response, err error) error {
	var r *http.Response
	if resp != nil {
		r = resp.Response
	}
	return Classify(g.Name(), g.token, r, err, g.now())
}

func (g *gitlabProvider) FindOpen(ctx context.Context, head, base, marker string) (*PR, error) {
	opt := &gitlab.ListProjectMergeRequestsOptions{
		ListOptions: gitlab.ListOptions{PerPage: 100, Page: 1},
		State:       gitlab.Ptr("opened"), SourceBranch: &head, TargetBranch: &base,
	}
	for {
		mrs, resp, err := g.client.MergeRequests.ListProjectMergeRequests(g.project, opt, gitlab.WithContext(ctx))
		if err != nil {
			return nil, g.err(resp, err)
		}
		for _, m := range mrs {
			if m.SourceBranch == head && m.TargetBranch == base && strings.Contains(m.Description, marker) {
				return gitlabPR(m), nil
			}
		}
		if resp.NextPage == 0 {
			return nil, nil
		}
		opt.Page = resp.NextPage
	}
}

func gitlabPR(m *gitlab.BasicMergeRequest) *PR {
	out := &PR{Number: m.IID, URL: m.WebURL, Title: m.Title, Body: m.Description, Labels: []string(m.Labels), Draft: m.Draft}
	for _, p := range []string{gitlabDraftPrefix, "[Draft]", "(Draft)"} {
		if t, ok := strings.CutPrefix(out.Title, p); ok {
			out.Title = strings.TrimSpace(t)
			break
		}
	}
	return out
}

// userIDs looks the users up by name: GitLab takes IDs for assignees and reviewers.
func (g *gitlabProvider) userIDs(ctx context.Context, names []string) (*[]int64, error) {
	if len(names) == 0 {
		return nil, nil
	}
	var ids []int64
	for _, n := range names {
		users, resp, err := g.client.Users.ListUsers(&gitlab.ListUsersOptions{Username: gitlab.Ptr(n)}, gitlab.WithContext(ctx))
		if err != nil {
			return nil, g.err(resp, err)
		}
		if len(users) == 0 {
			return nil, &Error{Provider: g.Name(), Reason: ReasonRejected, Err: fmt.Errorf("no GitLab user named %q (git.pullRequest reviewers/assignees)", n)}
		}
		ids = append(ids, users[0].ID)
	}
	return &ids, nil
}

func (g *gitlabProvider) Create(ctx context.Context, s Spec) (*PR, error) {
	reviewers, err := g.userIDs(ctx, s.Reviewers)
	if err != nil {
		return nil, err
	}
	assignees, err := g.userIDs(ctx, s.Assignees)
	if err != nil {
		return nil, err
	}
	title := s.Title
	if s.Draft {
		title = gitlabDraftPrefix + title
	}
	opt := &gitlab.CreateMergeRequestOptions{
		Title: &title, Description: &s.Body, SourceBranch: &s.Head, TargetBranch: &s.Base,
		ReviewerIDs: reviewers, AssigneeIDs: assignees,
	}
	if len(s.Labels) > 0 {
		l := gitlab.LabelOptions(s.Labels)
		opt.Labels = &l
	}
	m, resp, err := g.client.MergeRequests.CreateMergeRequest(g.project, opt, gitlab.WithContext(ctx))
	if err != nil {
		return nil, g.err(resp, err)
	}
	return gitlabPR(&m.BasicMergeRequest), nil
}

func (g *gitlabProvider) Update(ctx context.Context, pr *PR, s Spec) (*PR, error) {
	title := s.Title
	if pr.Draft {
		title = gitlabDraftPrefix + title
	}
	opt := &gitlab.UpdateMergeRequestOptions{Title: &title, Description: &s.Body}
	if add := missing(s.Labels, pr.Labels); len(add) > 0 {
		l := gitlab.LabelOptions(add)
		opt.AddLabels = &l
	}
	m, resp, err := g.client.MergeRequests.UpdateMergeRequest(g.project, pr.Number, opt, gitlab.WithContext(ctx))
	if err != nil {
		return nil, g.err(resp, err)
	}
	return gitlabPR(&m.BasicMergeRequest), nil
}

// EnableAutoMerge sets auto_merge: GitLab merges when the pipeline succeeds.
func (g *gitlabProvider) EnableAutoMerge(ctx context.Context, pr *PR) error {
	_, resp, err := g.client.MergeRequests.AcceptMergeRequest(g.project, pr.Number, &gitlab.AcceptMergeRequestOptions{AutoMerge: gitlab.Ptr(true)}, gitlab.WithContext(ctx))
	return g.err(resp, err)
}
