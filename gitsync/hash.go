package gitsync

import "github.com/go-git/go-git/v5/plumbing"

// Hash names a commit (40 hex digits); the empty Hash names none. It keeps
// go-git's types inside this package.
type Hash string

// IsZero reports whether h names no commit.
func (h Hash) IsZero() bool { return h == "" }

func (h Hash) String() string { return string(h) }

func hashOf(h plumbing.Hash) Hash {
	if h.IsZero() {
		return ""
	}
	return Hash(h.String())
}
