package gitsync

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// build stores a commit whose tree is the plan's with Dir changed as content
// says; ZeroHash when that changes nothing. dir is Dir's tree in the commit,
// or in the plan's tree when nothing changed.
func (r *Repo) build(p plan, t Target, content Content) (h plumbing.Hash, changes []Change, dir plumbing.Hash, err error) {
	dirParts := strings.Split(t.Dir, "/")
	dirEntry, ok, err := r.tw.lookup(p.root, dirParts)
	if err != nil {
		return plumbing.ZeroHash, nil, plumbing.ZeroHash, err
	}
	dirHash := plumbing.ZeroHash
	if ok && dirEntry.Mode == filemode.Dir {
		dirHash = dirEntry.Hash
	}
	st := r.dirState(t.Dir)
	var pend []pending
	if content.Update != nil {
		pend, err = diffUpdate(r.tw, dirHash, content.Update)
	} else {
		if err = st.load(r.tw, dirHash); err == nil {
			pend, err = st.diffWhole(content.Files)
		}
	}
	if err != nil {
		return plumbing.ZeroHash, nil, plumbing.ZeroHash, err
	}
	if len(pend) == 0 && !p.rederive {
		return plumbing.ZeroHash, nil, dirHash, nil
	}
	sortPending(pend)
	newDir, blobs, err := commitDir(r.tw, dirHash, pend)
	if err != nil {
		return plumbing.ZeroHash, nil, plumbing.ZeroHash, err
	}
	st.record(dirHash, newDir, pend, blobs, content.Update == nil)
	root, err := r.tw.apply(p.root, []edit{{path: t.Dir, hash: newDir, mode: filemode.Dir}})
	if err != nil {
		return plumbing.ZeroHash, nil, plumbing.ZeroHash, err
	}
	changes, err = r.changes(pend)
	if err != nil {
		return plumbing.ZeroHash, nil, plumbing.ZeroHash, err
	}
	msg := defaultMessage(changes)
	if content.Message != nil {
		msg = content.Message(changes)
	}
	h, err = r.writeCommit(p, t, root, withTrailers(msg, t, p, content.Trailers))
	r.built++
	return h, changes, newDir, err
}

func (r *Repo) changes(pend []pending) ([]Change, error) {
	out := make([]Change, len(pend))
	for i, c := range pend {
		out[i] = Change{Path: c.path, Op: c.op, New: c.new}
		if c.op != Added {
			old, err := readBlobHash(r.repo.Storer, c.old)
			if err != nil {
				return nil, err
			}
			out[i].Old = old
		}
	}
	return out, nil
}

func defaultMessage(changes []Change) string {
	if len(changes) == 0 {
		return "driftback: follow the base branch"
	}
	return fmt.Sprintf("driftback: update %d file(s)", len(changes))
}

func withTrailers(msg string, t Target, p plan, extra [][2]string) string {
	var b strings.Builder
	b.WriteString(strings.TrimRight(msg, "\n"))
	b.WriteString("\n\n")
	fmt.Fprintf(&b, "%s: %s\n", TrailerDir, t.Dir)
	for _, d := range p.carried {
		fmt.Fprintf(&b, "%s: %s\n", TrailerCarried, d)
	}
	if t.mode() == ModeSide && !p.base.IsZero() {
		fmt.Fprintf(&b, "%s: %s\n", TrailerBase, p.base)
	}
	for _, kv := range extra {
		// One line each: a newline in a value would end the trailer block.
		fmt.Fprintf(&b, "%s: %s\n", kv[0], strings.ReplaceAll(kv[1], "\n", " "))
	}
	return b.String()
}

func (r *Repo) writeCommit(p plan, t Target, root plumbing.Hash, msg string) (plumbing.Hash, error) {
	now := r.Now()
	author := object.Signature{Name: t.AuthorName, Email: t.AuthorEmail, When: now}
	committer := author
	if t.CommitterName != "" {
		committer.Name = t.CommitterName
	}
	if t.CommitterEmail != "" {
		committer.Email = t.CommitterEmail
	}
	if root.IsZero() {
		// Git has no empty tree object in storage until written.
		var err error
		if root, err = r.tw.write(nil); err != nil {
			return plumbing.ZeroHash, err
		}
	}
	c := &object.Commit{Author: author, Committer: committer, Message: msg, TreeHash: root}
	if !p.parent.IsZero() {
		c.ParentHashes = []plumbing.Hash{p.parent}
	}
	if t.Signer != nil {
		if err := sign(c, t.Signer); err != nil {
			return plumbing.ZeroHash, err
		}
	}
	o := r.tw.s.NewEncodedObject()
	if err := c.Encode(o); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("encode commit: %w", err)
	}
	h, err := r.tw.s.SetEncodedObject(o)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("store commit: %w", err)
	}
	return h, nil
}

// errNoSignature is returned by a Signer that produced nothing.
var errNoSignature = errors.New("signer returned an empty signature")

func sign(c *object.Commit, s Signer) error {
	o := &plumbing.MemoryObject{}
	if err := c.EncodeWithoutSignature(o); err != nil {
		return fmt.Errorf("encode commit to sign: %w", err)
	}
	rd, err := o.Reader()
	if err != nil {
		return err
	}
	defer rd.Close()
	buf, err := io.ReadAll(rd)
	if err != nil {
		return fmt.Errorf("read commit to sign: %w", err)
	}
	sig, err := s(buf)
	if err != nil {
		return fmt.Errorf("sign commit: %w", err)
	}
	if sig == "" {
		return errNoSignature
	}
	c.PGPSignature = sig
	return nil
}
