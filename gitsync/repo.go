// Package gitsync puts a file tree under a directory of a Git branch: fetch,
// build the commit from the tree (no worktree), push, retry when another
// writer got there first. It knows nothing about Kubernetes.
package gitsync

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"
)

const remoteName = "origin"

// Repo is a local, worktree-less copy of a remote repository.
type Repo struct {
	url  string
	auth transport.AuthMethod
	repo *git.Repository
	// Now stamps commits; tests replace it.
	Now func() time.Time
}

// Open prepares an in-memory repository that fetches from and pushes to url
// (https://, ssh://, file:// or a local path). Nothing is fetched yet.
func Open(url string, auth transport.AuthMethod) (*Repo, error) {
	r, err := git.Init(memory.NewStorage(), nil)
	if err != nil {
		return nil, fmt.Errorf("init local repository: %w", err)
	}
	if _, err := r.CreateRemote(&gitconfig.RemoteConfig{Name: remoteName, URLs: []string{url}}); err != nil {
		return nil, fmt.Errorf("add remote %s: %w", redact(url), err)
	}
	return &Repo{url: url, auth: auth, repo: r, Now: time.Now}, nil
}

// Fetch brings the named branches up to date and returns their tips; a branch
// the remote lacks is absent from the map. An empty remote yields an empty map.
func (r *Repo) Fetch(ctx context.Context, branches ...string) (map[string]plumbing.Hash, error) {
	rem, err := r.repo.Remote(remoteName)
	if err != nil {
		return nil, err
	}
	refs, err := rem.ListContext(ctx, &git.ListOptions{Auth: r.auth})
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return map[string]plumbing.Hash{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list refs of %s: %w", redact(r.url), err)
	}
	want := map[string]bool{}
	for _, b := range branches {
		want[plumbing.NewBranchReferenceName(b).String()] = true
	}
	tips := map[string]plumbing.Hash{}
	var specs []gitconfig.RefSpec
	for _, ref := range refs {
		if want[ref.Name().String()] {
			b := ref.Name().Short()
			tips[b] = ref.Hash()
			specs = append(specs, gitconfig.RefSpec(fmt.Sprintf("+%s:refs/remotes/%s/%s", ref.Name(), remoteName, b)))
		}
	}
	if len(specs) == 0 {
		return tips, nil
	}
	err = r.repo.FetchContext(ctx, &git.FetchOptions{RemoteName: remoteName, RefSpecs: specs, Auth: r.auth, Force: true})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil, fmt.Errorf("fetch %s from %s: %w", strings.Join(branches, ", "), redact(r.url), err)
	}
	return tips, nil
}

// Commit returns a fetched commit.
func (r *Repo) Commit(h plumbing.Hash) (*object.Commit, error) {
	c, err := r.repo.CommitObject(h)
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", h, err)
	}
	return c, nil
}

// Push sets branch on the remote to commit, which must descend from the
// branch's current tip there (no force). ErrRejected wraps refusals by the
// server so callers can fetch and try again.
func (r *Repo) Push(ctx context.Context, commit plumbing.Hash, branch string) error {
	local := plumbing.NewBranchReferenceName(branch)
	if err := r.repo.Storer.SetReference(plumbing.NewHashReference(local, commit)); err != nil {
		return fmt.Errorf("set local %s: %w", local, err)
	}
	spec := gitconfig.RefSpec(fmt.Sprintf("%s:%s", local, local))
	err := r.repo.PushContext(ctx, &git.PushOptions{RemoteName: remoteName, RefSpecs: []gitconfig.RefSpec{spec}, Auth: r.auth})
	switch {
	case err == nil, errors.Is(err, git.NoErrAlreadyUpToDate):
		return nil
	case isRejection(err):
		return fmt.Errorf("push %s to %s: %w: %v", branch, redact(r.url), ErrRejected, err)
	default:
		return fmt.Errorf("push %s to %s: %w", branch, redact(r.url), err)
	}
}

// ErrRejected is a push the server refused because the branch moved.
var ErrRejected = errors.New("push rejected")

// isRejection recognises go-git's plain-string push refusals.
func isRejection(err error) bool {
	if errors.Is(err, git.ErrNonFastForwardUpdate) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "non-fast-forward") || strings.Contains(s, "failed to update ref") || strings.Contains(s, "fetch first")
}

// redact removes credentials from a URL before it reaches a log or an error.
func redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		if slash := strings.Index(rest, "/"); slash < 0 || at < slash {
			return scheme + "://" + "***@" + rest[at+1:]
		}
	}
	return url
}
