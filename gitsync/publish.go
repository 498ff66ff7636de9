package gitsync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Mode says how driftback's commits relate to the base branch.
type Mode string

const (
	// ModeSide keeps Branch equal to the base branch's tip plus Dir: when
	// the base moves, the commit is built again on the new tip and pushed
	// with a lease, but only while every commit on Branch since the base is
	// driftback's own (trailer TrailerBase).
	ModeSide Mode = "side"
	// ModeDirect appends to Branch and never forces it (the branch starts
	// from BaseBranch when it does not exist).
	ModeDirect Mode = "direct"
)

// Trailers driftback writes at the end of its commit messages.
const (
	// TrailerDir names the directory the commit wrote; it marks driftback's
	// commits (the summary command looks for it).
	TrailerDir = "Driftback-Dir"
	// TrailerBase names the base commit a side branch was derived from.
	TrailerBase = "Driftback-Base"
	// TrailerCarried names another writer's directory that a re-derived
	// commit carried over from the old tip (several writers, one branch).
	TrailerCarried = "Driftback-Carried"
)

// Target says where a file tree goes.
type Target struct {
	// Branch receives the commits.
	Branch string
	// BaseBranch is where Branch starts, and in ModeSide what it follows.
	BaseBranch string
	// Mode defaults to ModeDirect when Branch is BaseBranch, else ModeSide.
	Mode Mode
	// Dir is the directory, relative to the repository root, that the file
	// tree replaces. Nothing outside it is touched.
	Dir         string
	AuthorName  string
	AuthorEmail string
	// CommitterName and CommitterEmail default to the author.
	CommitterName  string
	CommitterEmail string
	// Attempts bounds fetch-build-push rounds (rejected pushes, an
	// unreachable server). Default 6.
	Attempts int
	// Backoff between attempts: from MinBackoff (default 200ms), doubling,
	// at most MaxBackoff (default 30s), with jitter so writers spread out.
	MinBackoff, MaxBackoff time.Duration
	// Signer, when set, signs each commit (see OpenPGPSigner).
	Signer Signer
}

// Signer makes a detached, armored signature of a commit's bytes.
type Signer func(message []byte) (string, error)

func (t Target) mode() Mode {
	switch {
	case t.Mode != "":
		return t.Mode
	case t.Branch == t.BaseBranch || t.BaseBranch == "":
		return ModeDirect
	default:
		return ModeSide
	}
}

func (t Target) validate() error {
	switch {
	case t.Branch == "":
		return fmt.Errorf("target: branch is required")
	case t.Mode != "" && t.Mode != ModeSide && t.Mode != ModeDirect:
		return fmt.Errorf("target: mode %q is not allowed: side or direct", t.Mode)
	case t.mode() == ModeSide && t.Branch == t.BaseBranch:
		return fmt.Errorf("target: mode side needs a branch other than the base branch %q (driftback never forces the base branch)", t.BaseBranch)
	}
	return validPath(t.Dir)
}

// Op is what a commit did to a file.
type Op string

// The operations on a file.
const (
	Added    Op = "add"
	Modified Op = "modify"
	Deleted  Op = "delete"
)

// Change is one file a commit adds, modifies or deletes (path relative to
// Dir), with its old and new content so a message can say what changed.
type Change struct {
	Path string
	Op   Op
	Old  []byte
	New  []byte
}

// Update is the delta form of Dir's content: the files that changed (added
// or modified) and the paths removed since the parent. Its cost follows its
// size, not Dir's.
type Update struct {
	Changed map[string][]byte
	Removed []string
}

// Content is what a Prepare callback returns: Dir's content, either whole
// (Files) or as an Update, and the commit message for the changes.
type Content struct {
	Files  map[string][]byte
	Update *Update
	// Message makes the commit message; driftback's trailers are added.
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
	// Rederived is true when the side branch was rebuilt on a new base tip.
	Rederived bool
	// Attempts is the number of fetch-build-push rounds it took.
	Attempts int
}

// Publish fetches the branch, builds Dir from prepare on top of its tip (see
// Mode), commits when anything changed and pushes. Rejected pushes and an
// unreachable server are retried with exponential backoff, each time on a
// fresh fetch, so nobody's commit is lost; a hook's refusal, bad credentials
// and errors from prepare are returned at once. Until a change is pushed,
// driftback_git_pending_seconds grows.
func (r *Repo) Publish(ctx context.Context, t Target, prepare Prepare) (Result, error) {
	if err := t.validate(); err != nil {
		return Result{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.metrics.markPending()
	attempts := t.Attempts
	if attempts <= 0 {
		attempts = 6
	}
	wait := t.MinBackoff
	if wait <= 0 {
		wait = 200 * time.Millisecond
	}
	maxWait := t.MaxBackoff
	if maxWait <= 0 {
		maxWait = 30 * time.Second
	}
	var lastErr error
	for i := 1; i <= attempts; i++ {
		if err := r.maybeRefresh(); err != nil {
			return Result{}, err
		}
		res, err := r.publishOnce(ctx, t, prepare)
		if err == nil {
			r.metrics.clearPending()
			res.Attempts = i
			return res, nil
		}
		lastErr = err
		if !errors.As(err, new(callerError)) {
			r.metrics.failures.Inc()
		}
		if isPermanent(err) || ctx.Err() != nil {
			return Result{}, err
		}
		if i == attempts {
			break
		}
		d := wait/2 + rand.N(wait/2+1)
		slog.Info("git write-back failed, trying again", "branch", t.Branch, "attempt", i, "in", d.Round(time.Millisecond), "error", err)
		select {
		case <-ctx.Done():
			return Result{}, fmt.Errorf("publish to %s: %w (last error: %v)", t.Branch, ctx.Err(), lastErr)
		case <-time.After(d):
		}
		wait = min(wait*2, maxWait)
	}
	return Result{}, fmt.Errorf("publish to %s after %d attempts: %w", t.Branch, attempts, lastErr)
}

// plan is what a commit is built on.
type plan struct {
	parent plumbing.Hash // first parent, zero for none
	root   plumbing.Hash // tree the commit edits: parent's, or the new base's with Dir carried over
	base   plumbing.Hash // side mode: base commit recorded in the trailer
	lease  plumbing.Hash // side mode re-derivation: the branch tip being replaced
	// rederive commits even with no change in Dir: the branch must follow
	// the new base.
	rederive bool
	// carried are the other writers' directories a re-derivation kept.
	carried []string
}

func (r *Repo) publishOnce(ctx context.Context, t Target, prepare Prepare) (Result, error) {
	tips, err := r.Fetch(ctx, t.Branch, t.BaseBranch)
	if err != nil {
		return Result{}, err
	}
	p, err := r.plan(t, tips)
	if err != nil {
		return Result{}, err
	}
	var tree *object.Tree
	if !p.root.IsZero() {
		if tree, err = object.GetTree(r.repo.Storer, p.root); err != nil {
			return Result{}, fmt.Errorf("read tree %s: %w", p.root, err)
		}
	}
	content, err := prepare(TreeFS(tree))
	if err != nil {
		return Result{}, callerError{err}
	}
	h, changes, err := r.build(p, t, content)
	if err != nil {
		return Result{}, permanent(err)
	}
	if h.IsZero() {
		return Result{Parent: p.parent}, nil
	}
	if err := r.push(ctx, h, t.Branch, p.lease); err != nil {
		return Result{}, err
	}
	return Result{Commit: h, Changes: changes, Parent: p.parent, Rederived: p.rederive}, nil
}

// plan picks the parent: the branch tip; in side mode, the base's new tip
// when the base moved and the branch is driftback's alone.
func (r *Repo) plan(t Target, tips map[string]plumbing.Hash) (plan, error) {
	tip, hasBranch := tips[t.Branch]
	baseTip := tips[t.BaseBranch]
	side := t.mode() == ModeSide
	if !hasBranch {
		p := plan{parent: baseTip}
		if side {
			p.base = baseTip
		}
		return p, r.fillRoot(&p)
	}
	p := plan{parent: tip}
	if err := r.fillRoot(&p); err != nil {
		return p, err
	}
	if !side || baseTip.IsZero() {
		return p, nil
	}
	c, err := r.Commit(tip)
	if err != nil {
		return p, err
	}
	recorded, _ := trailer(c.Message, TrailerBase)
	p.base = plumbing.NewHash(recorded)
	if p.base == baseTip {
		return p, nil
	}
	owned, dirs, why, err := r.owned(c)
	if err != nil {
		return p, err
	}
	if !owned {
		// Appending is always safe; rewriting someone's commit is not.
		slog.Warn("the base branch moved but the side branch holds commits driftback did not write; appending instead of re-deriving it",
			"branch", t.Branch, "base", t.BaseBranch, "reason", why)
		return p, nil
	}
	np := plan{parent: baseTip, base: baseTip, lease: tip, rederive: true}
	if err := r.fillRoot(&np); err != nil {
		return p, err
	}
	// Every directory driftback wrote since the base is carried over, not
	// only this writer's: writers of other clusters share the branch.
	dirs = outermost(append(dirs, t.Dir))
	edits := make([]edit, 0, len(dirs))
	for _, d := range dirs {
		e, ok, err := r.tw.lookup(p.root, strings.Split(d, "/"))
		if err != nil {
			return p, err
		}
		h := plumbing.ZeroHash
		if ok && e.Mode == filemode.Dir {
			h = e.Hash
		}
		edits = append(edits, edit{path: strings.Split(d, "/"), hash: h, mode: filemode.Dir})
		if d != t.Dir {
			np.carried = append(np.carried, d)
		}
	}
	if np.root, err = r.tw.apply(np.root, edits); err != nil {
		return p, err
	}
	return np, nil
}

// outermost sorts dirs and drops duplicates and directories inside another.
func outermost(dirs []string) []string {
	sort.Strings(dirs)
	var out []string
	for _, d := range dirs {
		if n := len(out); n > 0 && (out[n-1] == d || strings.HasPrefix(d, out[n-1]+"/")) {
			continue
		}
		out = append(out, d)
	}
	return out
}

func (r *Repo) fillRoot(p *plan) error {
	if p.parent.IsZero() {
		return nil
	}
	c, err := r.Commit(p.parent)
	if err != nil {
		return err
	}
	p.root = c.TreeHash
	return nil
}

// maxOwnedWalk bounds the history read to prove a side branch is driftback's.
const maxOwnedWalk = 10000

// owned says whether every commit from tip back to the base it records is
// driftback's, so replacing them loses nobody's work, and lists the
// directories those commits wrote (TrailerDir and TrailerCarried).
func (r *Repo) owned(tip *object.Commit) (bool, []string, string, error) {
	c := tip
	var dirs []string
	for range maxOwnedWalk {
		base, ok := trailer(c.Message, TrailerBase)
		if !ok {
			return false, nil, fmt.Sprintf("commit %s has no %s trailer", c.Hash, TrailerBase), nil
		}
		if len(c.ParentHashes) != 1 {
			return false, nil, fmt.Sprintf("commit %s is a merge", c.Hash), nil
		}
		for _, key := range []string{TrailerDir, TrailerCarried} {
			for _, d := range trailers(c.Message, key) {
				if validPath(d) == nil {
					dirs = append(dirs, d)
				}
			}
		}
		if c.ParentHashes[0].String() == base {
			return true, dirs, "", nil
		}
		next, err := r.Commit(c.ParentHashes[0])
		if err != nil {
			return false, nil, "", err
		}
		c = next
	}
	return false, nil, fmt.Sprintf("more than %d commits since the base", maxOwnedWalk), nil
}

// trailer returns the value of a "Key: value" line of a message's last paragraph.
func trailer(msg, key string) (string, bool) {
	if v := trailers(msg, key); len(v) > 0 {
		return v[0], true
	}
	return "", false
}

// trailers returns every value of key in a message's last paragraph.
func trailers(msg, key string) []string {
	paras := strings.Split(strings.TrimRight(msg, "\n"), "\n\n")
	var out []string
	for _, line := range strings.Split(paras[len(paras)-1], "\n") {
		if v, ok := strings.CutPrefix(line, key+": "); ok {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// build stores a commit whose tree is the plan's with Dir changed as content
// says; ZeroHash when that changes nothing.
func (r *Repo) build(p plan, t Target, content Content) (plumbing.Hash, []Change, error) {
	dirParts := strings.Split(t.Dir, "/")
	dirEntry, ok, err := r.tw.lookup(p.root, dirParts)
	if err != nil {
		return plumbing.ZeroHash, nil, err
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
		return plumbing.ZeroHash, nil, err
	}
	if len(pend) == 0 && !p.rederive {
		return plumbing.ZeroHash, nil, nil
	}
	sortPending(pend)
	newDir, blobs, err := commitDir(r.tw, dirHash, pend)
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	st.record(dirHash, newDir, pend, blobs)
	root, err := r.tw.apply(p.root, []edit{{path: dirParts, hash: newDir, mode: filemode.Dir}})
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	changes, err := r.changes(pend)
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	msg := defaultMessage(changes)
	if content.Message != nil {
		msg = content.Message(changes)
	}
	h, err := r.writeCommit(p, t, root, withTrailers(msg, t, p))
	r.built++
	return h, changes, err
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

func withTrailers(msg string, t Target, p plan) string {
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
	o := r.repo.Storer.NewEncodedObject()
	if err := c.Encode(o); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("encode commit: %w", err)
	}
	h, err := r.repo.Storer.SetEncodedObject(o)
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
