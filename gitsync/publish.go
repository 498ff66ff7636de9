package gitsync

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Target says where a file tree goes.
type Target struct {
	// Branch receives the commits.
	Branch string
	// BaseBranch is where Branch starts when it does not exist yet.
	BaseBranch string
	// Dir is the directory, relative to the repository root, that the file
	// tree replaces. Nothing outside it is touched.
	Dir         string
	AuthorName  string
	AuthorEmail string
	// Attempts bounds fetch-write-push rounds when pushes are rejected.
	// Default 5.
	Attempts int
}

// Op is what a commit did to a file.
type Op string

// The operations on a file.
const (
	Added    Op = "add"
	Modified Op = "modify"
	Deleted  Op = "delete"
)

// Change is one file a commit adds, modifies or deletes (path relative to Dir).
type Change struct {
	Path string
	Op   Op
}

// Content is what a Prepare callback returns: the files of Dir and the
// commit message for the changes they make.
type Content struct {
	Files   map[string][]byte
	Message func([]Change) string
}

// Prepare builds Dir's content on top of the parent commit's tree, given as a
// read-only file system of the whole repository (empty when there is none).
// It runs again after each rejected push, on the new parent.
type Prepare func(parent fs.FS) (Content, error)

// Result of a Publish.
type Result struct {
	// Commit is the pushed commit, ZeroHash when nothing changed.
	Commit  plumbing.Hash
	Changes []Change
	// Parent is the commit the new one was built on (ZeroHash for none).
	Parent plumbing.Hash
}

// Publish fetches the branch, builds Dir from prepare on top of its tip (or of
// the base branch's tip when the branch is new), commits when anything
// changed and pushes, retrying on rejected pushes so nobody's commit is lost.
func (r *Repo) Publish(ctx context.Context, t Target, prepare Prepare) (Result, error) {
	attempts := t.Attempts
	if attempts <= 0 {
		attempts = 5
	}
	var lastErr error
	for i := 0; i < attempts; i++ {
		res, err := r.publishOnce(ctx, t, prepare)
		if err == nil || !errors.Is(err, ErrRejected) {
			return res, err
		}
		lastErr = err
		slog.Info("push rejected, fetching and trying again", "branch", t.Branch, "attempt", i+1)
	}
	return Result{}, fmt.Errorf("publish to %s after %d attempts: %w", t.Branch, attempts, lastErr)
}

func (r *Repo) publishOnce(ctx context.Context, t Target, prepare Prepare) (Result, error) {
	tips, err := r.Fetch(ctx, t.Branch, t.BaseBranch)
	if err != nil {
		return Result{}, err
	}
	parentHash, ok := tips[t.Branch]
	if !ok {
		parentHash = tips[t.BaseBranch] // ZeroHash when the repository is empty
	}
	var parent *object.Commit
	var tree *object.Tree
	if !parentHash.IsZero() {
		if parent, err = r.Commit(parentHash); err != nil {
			return Result{}, err
		}
		if tree, err = parent.Tree(); err != nil {
			return Result{}, fmt.Errorf("read tree of %s: %w", parentHash, err)
		}
	}
	content, err := prepare(TreeFS(tree))
	if err != nil {
		return Result{}, err
	}
	h, changes, err := r.write(parent, tree, t, content)
	if err != nil || h.IsZero() {
		return Result{Parent: parentHash}, err
	}
	if err := r.Push(ctx, h, t.Branch); err != nil {
		return Result{}, err
	}
	return Result{Commit: h, Changes: changes, Parent: parentHash}, nil
}

// write stores a commit whose tree is parent's with Dir replaced by the
// content's files; ZeroHash when that changes nothing.
func (r *Repo) write(parent *object.Commit, tree *object.Tree, t Target, c Content) (plumbing.Hash, []Change, error) {
	s := r.repo.Storer
	sub, err := buildTree(s, c.Files)
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	root, err := replaceAt(s, tree, strings.Split(t.Dir, "/"), sub)
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	if tree != nil && root == tree.Hash {
		return plumbing.ZeroHash, nil, nil
	}
	old, err := readDir(tree, t.Dir)
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	changes := diff(old, c.Files)
	if len(changes) == 0 && tree != nil {
		return plumbing.ZeroHash, nil, nil
	}
	now := r.Now()
	sig := object.Signature{Name: t.AuthorName, Email: t.AuthorEmail, When: now}
	commit := &object.Commit{Author: sig, Committer: sig, Message: c.Message(changes), TreeHash: root}
	if parent != nil {
		commit.ParentHashes = []plumbing.Hash{parent.Hash}
	}
	o := s.NewEncodedObject()
	if err := commit.Encode(o); err != nil {
		return plumbing.ZeroHash, nil, fmt.Errorf("encode commit: %w", err)
	}
	h, err := s.SetEncodedObject(o)
	if err != nil {
		return plumbing.ZeroHash, nil, fmt.Errorf("store commit: %w", err)
	}
	return h, changes, nil
}

// diff lists the files added, modified and deleted, sorted by path.
func diff(old map[string]plumbing.Hash, files map[string][]byte) []Change {
	var out []Change
	for p, content := range files {
		h, ok := old[p]
		switch {
		case !ok:
			out = append(out, Change{Path: p, Op: Added})
		case h != plumbing.ComputeHash(plumbing.BlobObject, content):
			out = append(out, Change{Path: p, Op: Modified})
		}
	}
	for p := range old {
		if _, ok := files[p]; !ok {
			out = append(out, Change{Path: p, Op: Deleted})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}
