package gitsync

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// MaxRecentWalk bounds History.Recent: at most this many commits are read,
// however long the window (a commit a second for a day is 86,400).
const MaxRecentWalk = 20000

// Recorded is one commit of a branch's recent history, as History reports it.
type Recorded struct {
	Commit Hash
	// When is the committer's time.
	When time.Time
	// Message is the commit message, trailers included (see Trailer).
	Message string
	// Dir is the hash of the directory's tree, "" when the commit lacks
	// the directory: equal hashes, equal contents, so a caller can memoize
	// what it computes from Files.
	Dir Hash
}

// History is implemented by the parent tree Publish hands to Prepare
// (check with a type assertion): the branch's recent commits, for a rule
// that looks further back than the parent (writeback's deletion window).
type History interface {
	// Recent calls fn for each commit of the branch's first-parent history,
	// newest first (the branch's tip as fetched for this attempt), while
	// its committer time is not before since; at most MaxRecentWalk
	// commits. files lists the files below dir in that commit, relative to
	// dir, and is read only when called. fn returns ErrStopWalk to stop.
	Recent(dir string, since time.Time, fn func(c Recorded, files func() ([]string, error)) error) error
}

// ErrStopWalk, returned by a History.Recent callback, ends the walk early
// without error.
var ErrStopWalk = errors.New("stop the walk")

// Trailer returns the first value of key in the trailers of a commit
// message (its last paragraph).
func Trailer(message, key string) (string, bool) { return trailer(message, key) }

// parentFS is the parent tree handed to Prepare, with its branch's history.
type parentFS struct {
	treeFS
	repo *Repo
	tip  plumbing.Hash // the branch's tip; zero when the branch is new
}

func (p parentFS) Recent(dir string, since time.Time, fn func(Recorded, func() ([]string, error)) error) error {
	if p.tip.IsZero() {
		return nil
	}
	if err := validPath(dir); err != nil {
		return err
	}
	parts := strings.Split(dir, "/")
	h := p.tip
	for range MaxRecentWalk {
		c, err := p.repo.commit(h)
		if err != nil {
			return err
		}
		if c.Committer.When.Before(since) {
			return nil
		}
		e, ok, err := p.repo.tw.lookup(c.TreeHash, parts)
		if err != nil {
			return fmt.Errorf("read %s at %s: %w", dir, c.Hash, err)
		}
		rec := Recorded{Commit: hashOf(c.Hash), When: c.Committer.When, Message: c.Message}
		var sub plumbing.Hash
		if ok && e.Mode == filemode.Dir {
			sub = e.Hash
			rec.Dir = hashOf(sub)
		}
		files := func() ([]string, error) {
			if sub.IsZero() {
				return nil, nil
			}
			var out []string
			err := p.repo.tw.walkFiles(sub, "", func(p string, _ object.TreeEntry) { out = append(out, p) })
			return out, err
		}
		if err := fn(rec, files); err != nil {
			if errors.Is(err, ErrStopWalk) {
				return nil
			}
			return err
		}
		if len(c.ParentHashes) == 0 {
			return nil
		}
		h = c.ParentHashes[0]
	}
	return nil
}
