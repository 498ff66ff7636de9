package gitsync

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
)

// ErrNoBranch is returned when the remote lacks the branch asked for.
var ErrNoBranch = errors.New("not found in the repository")

// ReadBranch fetches branch and returns its tip's tree as a read-only file
// system and the tip's hash: what restore, drill and the start-up checks
// read. A branch the remote lacks is ErrNoBranch. It may run alongside
// Publish and the other readers: each takes the Repo's lock, and so does
// every read of the returned file system.
func (r *Repo) ReadBranch(ctx context.Context, branch string) (fs.FS, Hash, error) {
	r.mu.Lock() // the object storage is shared with Publish, Lag and the other readers
	defer r.mu.Unlock()
	r.complete()
	tips, err := r.fetch(ctx, branch)
	if err != nil {
		return nil, "", err
	}
	h, ok := tips[branch]
	if !ok {
		return nil, "", fmt.Errorf("branch %s: %w", branch, ErrNoBranch)
	}
	c, err := r.commit(h)
	if err != nil {
		return nil, "", err
	}
	t, err := c.Tree()
	if err != nil {
		return nil, "", fmt.Errorf("read tree of %s: %w", h, err)
	}
	return r.locked(t), hashOf(h), nil
}
