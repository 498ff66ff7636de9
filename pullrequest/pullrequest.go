// Package pullrequest keeps one rolling pull request per cluster from
// driftback's side branch into the base branch, on GitHub, GitLab or Gitea
// (Forgejo too). It hides each host's SDK behind a small Provider interface:
// find driftback's open pull request by head, base and a hidden marker,
// create one, update its title, body and labels. It knows nothing about
// Kubernetes or the overlay: the caller hands it the title and body (see
// describe.PullRequest). Failures are classified (Error) so that the
// background Opener can count them, honour Retry-After and try again without
// ever holding up a capture.
package pullrequest

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Spec is the pull request driftback wants to exist.
type Spec struct {
	// Head is the side branch, Base the branch it merges into.
	Head, Base string
	Title      string
	// Body holds Marker, so driftback finds its own pull request again.
	Body   string
	Marker string
	// Labels are set when opening and added (never removed) on update.
	Labels []string
	// Reviewers and Assignees are user names, asked when opening only: a
	// person may change them afterwards.
	Reviewers, Assignees []string
	// Draft opens the pull request as a draft (GitHub's draft flag, the
	// "Draft:" prefix on GitLab, "WIP:" on Gitea). Marking it ready is a
	// person's call and is kept.
	Draft bool
	// AutoMerge asks the host to merge once its checks pass, where the
	// host supports it (GitHub, GitLab, Gitea).
	AutoMerge bool
}

// Validate reports a Spec that no host would accept.
func (s Spec) Validate() error {
	switch {
	case s.Head == "" || s.Base == "":
		return fmt.Errorf("pull request: head and base branches are required")
	case s.Head == s.Base:
		return fmt.Errorf("pull request: head and base are both %q; a pull request needs a side branch (git.mode side)", s.Head)
	case strings.TrimSpace(s.Title) == "":
		return fmt.Errorf("pull request: empty title")
	case s.Marker == "" || !strings.Contains(s.Body, s.Marker):
		return fmt.Errorf("pull request: the body must hold the marker driftback finds it by")
	}
	return nil
}

// PR is a pull request as the host reports it.
type PR struct {
	// Number is the pull request's number (GitLab: the merge request's IID).
	Number int64
	URL    string
	// Title is without the draft prefix that GitLab and Gitea use.
	Title  string
	Body   string
	Labels []string
	Draft  bool
}

// Provider is one host's API. Implementations wrap the host's own SDK and
// return errors classified with Classify.
type Provider interface {
	// Name is the provider's name in config, logs and metrics.
	Name() string
	// FindOpen returns the open pull request from head into base whose body
	// holds marker, nil when there is none. It reads every page.
	FindOpen(ctx context.Context, head, base, marker string) (*PR, error)
	// Create opens a pull request with the spec's title, body, labels,
	// reviewers, assignees and draft state.
	Create(ctx context.Context, s Spec) (*PR, error)
	// Update sets the title and body of pr and adds the spec's labels it lacks.
	Update(ctx context.Context, pr *PR, s Spec) (*PR, error)
	// EnableAutoMerge asks the host to merge pr once its checks pass.
	EnableAutoMerge(ctx context.Context, pr *PR) error
}

// Outcome is what Sync did.
type Outcome string

const (
	// Opened: no pull request of driftback's was open; one was created.
	Opened Outcome = "opened"
	// Updated: the open one's title, body or labels were changed.
	Updated Outcome = "updated"
	// Unchanged: the open one already says what the spec says.
	Unchanged Outcome = "unchanged"
)

// Sync makes the host hold the spec's pull request: it opens one when none
// of driftback's is open (a person who merged or closed the last one is
// respected: that one stays as they left it), updates the open one when its
// title, body or labels differ, and leaves it alone otherwise.
func Sync(ctx context.Context, p Provider, s Spec) (Outcome, *PR, error) {
	if err := s.Validate(); err != nil {
		return "", nil, err
	}
	pr, err := p.FindOpen(ctx, s.Head, s.Base, s.Marker)
	if err != nil {
		return "", nil, fmt.Errorf("find the open pull request from %s into %s: %w", s.Head, s.Base, err)
	}
	if pr == nil {
		pr, err = p.Create(ctx, s)
		if err != nil {
			return "", nil, fmt.Errorf("open a pull request from %s into %s: %w", s.Head, s.Base, err)
		}
		if s.AutoMerge {
			if err := p.EnableAutoMerge(ctx, pr); err != nil {
				return Opened, pr, fmt.Errorf("pull request #%d opened, but auto-merge: %w", pr.Number, err)
			}
		}
		return Opened, pr, nil
	}
	if same(pr, s) {
		return Unchanged, pr, nil
	}
	pr2, err := p.Update(ctx, pr, s)
	if err != nil {
		return "", pr, fmt.Errorf("update pull request #%d: %w", pr.Number, err)
	}
	return Updated, pr2, nil
}

// same is true when pr already shows the spec. Hosts store bodies with
// \r\n or without the final newline, so line ends are not compared.
func same(pr *PR, s Spec) bool {
	if strings.TrimSpace(pr.Title) != strings.TrimSpace(s.Title) || normalize(pr.Body) != normalize(s.Body) {
		return false
	}
	for _, l := range s.Labels {
		if !slices.Contains(pr.Labels, l) {
			return false
		}
	}
	return true
}

func normalize(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
}

// missing returns the labels of want that have lacks.
func missing(want, have []string) []string {
	var out []string
	for _, l := range want {
		if !slices.Contains(have, l) {
			out = append(out, l)
		}
	}
	return out
}
