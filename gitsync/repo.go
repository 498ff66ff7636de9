// Package gitsync puts a file tree under a directory of a Git branch: fetch,
// build the commit from the tree (no worktree), push, retry when another
// writer got there first. It knows nothing about Kubernetes.
package gitsync

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

const remoteName = "origin"

// Repo is a local, worktree-less copy of a remote repository. Its methods
// may be called from several goroutines (run's writer, follower, pull
// request syncer and start-up checks share one): each takes mu, because
// go-git's in-memory object storage is not safe for concurrent use.
type Repo struct {
	url  string
	auth transport.AuthMethod
	// caBundle holds PEM certificates trusted for https:// besides the
	// system's (a Git server behind a private CA); nil: the system's only.
	caBundle []byte
	// http is how pushes go over http(s) (httppush.go).
	http httpPush
	repo *git.Repository
	// Now stamps commits; tests replace it.
	Now func() time.Time
	// PruneAfter is how many commits a Repo builds before it drops the
	// in-memory objects no later call reads (prune.go): each commit, and
	// each attempt that lost a race, leaves trees and blobs in memory, and
	// a watcher runs for months. Default (0) 100; negative: never.
	PruneAfter int
	built      int

	// secrets are scrubbed from every error.
	secrets []string
	// mu serialises Publish: one build-push round at a time per Repo.
	mu      sync.Mutex
	tw      *treeWriter
	written *written
	states  map[string]*dirState
	metrics *metrics
}

// openMethod prepares an in-memory repository that fetches from and pushes to url
// (https://, ssh://, file:// or a local path) with go-git's auth method;
// Auth.Open is the way in. Nothing is fetched yet.
func openMethod(url string, auth transport.AuthMethod) (*Repo, error) {
	if _, err := ParseURL(url); err != nil {
		return nil, err
	}
	r, err := newLocal(url)
	if err != nil {
		return nil, err
	}
	repo := &Repo{url: url, auth: auth, repo: r, secrets: secretsOf(url, auth), Now: time.Now, states: map[string]*dirState{}}
	repo.setStore(r)
	repo.metrics = newMetrics(func() time.Time { return repo.Now() })
	return repo, nil
}

func newLocal(url string) (*git.Repository, error) {
	r, err := git.Init(newStorage(), nil)
	if err != nil {
		return nil, fmt.Errorf("init local repository: %w", err)
	}
	if _, err := r.CreateRemote(&gitconfig.RemoteConfig{Name: remoteName, URLs: []string{url}}); err != nil {
		return nil, fmt.Errorf("add remote %s: %w", redact(url), redactedError{err, Scrub(err.Error(), urlSecrets(url)...)})
	}
	return r, nil
}

// setStore makes r build on repo's objects, recording what it writes.
func (r *Repo) setStore(repo *git.Repository) {
	r.repo = repo
	r.written = &written{EncodedObjectStorer: repo.Storer}
	r.tw = newTreeWriter(r.written)
}

// dirState is the cached listing of dir, kept between publishes so that a
// repeated whole-map publish does not hash every file again.
func (r *Repo) dirState(dir string) *dirState {
	st, ok := r.states[dir]
	if !ok {
		st = &dirState{}
		r.states[dir] = st
	}
	return st
}

// fetch brings the named branches up to date and returns their tips; a branch
// the remote lacks is absent from the map. An empty remote yields an empty map.
func (r *Repo) fetch(ctx context.Context, branches ...string) (map[string]plumbing.Hash, error) {
	rem, err := r.repo.Remote(remoteName)
	if err != nil {
		return nil, err
	}
	refs, err := rem.ListContext(ctx, &git.ListOptions{Auth: r.auth, CABundle: r.caBundle})
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return map[string]plumbing.Hash{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list refs of %s: %w", redact(r.url), r.scrub(err))
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
	if len(specs) == 0 || r.haveTips(tips) {
		return tips, nil
	}
	err = r.repo.FetchContext(ctx, &git.FetchOptions{RemoteName: remoteName, RefSpecs: specs, Auth: r.auth, CABundle: r.caBundle, Force: true})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil, fmt.Errorf("fetch %s from %s: %w", strings.Join(branches, ", "), redact(r.url), r.scrub(err))
	}
	return tips, nil
}

// haveTips reports whether the store already holds every advertised tip
// as its remote-tracking reference: a fetch would download nothing (an
// earlier fetch or this Repo's own push set the reference, and a prune
// keeps what references name), but go-git's fetch would still ask the
// server for its references again. At 50,000 objects under mutation that
// second request was about a third of the fetch before each publish.
func (r *Repo) haveTips(tips map[string]plumbing.Hash) bool {
	for b, h := range tips {
		ref, err := r.repo.Storer.Reference(plumbing.NewRemoteReferenceName(remoteName, b))
		if err != nil || ref.Hash() != h {
			return false
		}
		if r.repo.Storer.HasEncodedObject(h) != nil {
			return false
		}
	}
	return true
}

// pushed records that the server's branch now points at commit, as a fetch
// would: the next fetch need not ask for it (haveTips).
func (r *Repo) pushed(branch string, commit plumbing.Hash) {
	_ = r.repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewRemoteReferenceName(remoteName, branch), commit))
}

// commit returns a fetched commit.
func (r *Repo) commit(h plumbing.Hash) (*object.Commit, error) {
	c, err := r.repo.CommitObject(h)
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", h, err)
	}
	return c, nil
}

// remoteMessage formats what the server printed during a push, if anything.
func remoteMessage(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	return " (the server said: " + strings.ReplaceAll(s, "\n", "; ") + ")"
}
