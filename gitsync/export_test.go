package gitsync

import (
	"context"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// The go-git level of the package, for its own tests only.

func (a Auth) Method(url string) (transport.AuthMethod, error) { return a.method(url) }

func OpenMethod(url string, m transport.AuthMethod) (*Repo, error) { return openMethod(url, m) }

func (r *Repo) Fetch(ctx context.Context, branches ...string) (map[string]plumbing.Hash, error) {
	return r.fetch(ctx, branches...)
}
