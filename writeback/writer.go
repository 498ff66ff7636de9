// Package writeback is driftback's publish step as a library: it renders the
// captures into the overlay, runs the safety rules against the branch they
// land on (another cluster's record, mass deletion, an overlay that does not
// build), and commits through gitsync; at start it restores a rebuilt
// cluster and waits for the branch to be adopted. It is the one package that
// joins the Kubernetes side (capture, restore) to the Git side (gitsync);
// cmd/driftback only wires flags to it. Its rules run over an io/fs.FS, so
// they are tested without a control plane or a Git server.
package writeback

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"strconv"
	"strings"
	"text/template"
	"time"

	"filippo.io/age"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/config"
	"github.com/driftback/driftback/describe"
	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/overlay"
	"github.com/driftback/driftback/render"
)

// Options are the safety switches and the presentation of a write to Git.
type Options struct {
	// Adopt lets this cluster write a branch recorded for another cluster.
	Adopt bool
	// MaxDeleteShare is the share of the recorded objects one commit may drop.
	MaxDeleteShare float64
	// AllowDeletions lifts the mass-deletion guard for the next successful
	// publish only (see Writer.Publish).
	AllowDeletions bool
	// Message renders commit messages (describe.Template); nil: the default.
	Message *template.Template
	// Signer signs commits when set.
	Signer gitsync.Signer
	// Identities are age identities the writer may use to read back the
	// branch's encrypted files (restore-on-start; an unchanged encrypted
	// file keeps its bytes across restarts).
	Identities []age.Identity
}

// Validate checks the options a person typed.
func (o Options) Validate() error {
	if o.MaxDeleteShare < 0 || o.MaxDeleteShare > 1 {
		return fmt.Errorf("--max-delete-share: %v is not allowed: a share from 0 to 1 (0.2 = 20%%)", o.MaxDeleteShare)
	}
	return nil
}

// Repo is what the writer needs of a Git repository (gitsync.Repo).
type Repo interface {
	Publish(ctx context.Context, t gitsync.Target, prepare gitsync.Prepare) (gitsync.Result, error)
	ReadBranch(ctx context.Context, branch string) (fs.FS, gitsync.Hash, error)
	ReadBranchVerified(ctx context.Context, branch, base, dir string, keys *gitsync.TrustedKeys) (fs.FS, gitsync.Hash, []gitsync.Verified, error)
}

// Writer publishes one cluster's captures to the configured branch.
type Writer struct {
	cfg  *config.Config
	repo Repo
	uid  string
	opts Options
	// window remembers the deletion window's counts and last walk.
	window *WindowMemo
	// now is the clock of the deletion window.
	now func() time.Time
	// skipped is how many objects the last prepared commit left out.
	skipped int
	// encrypted remembers the encrypted bytes of files by plaintext.
	encrypted map[string]encrypted
	// warned are the withheld fields already named at WARN.
	warned map[string]bool
	// base is the last base index, kept while the repository outside the
	// overlay's directory is unchanged (baseindex.go).
	base baseCache
	// inc is what the last publish wrote, object by object, for the next
	// one to render and hand gitsync only what changed (incremental.go);
	// nil: the next publish takes the full path.
	inc *incState
	// paths counts the prepares by path taken, for tests and benchmarks.
	paths struct{ incremental, full, cheap, fullBuilds, named int }
	// merged keeps merged/'s objects across publishes (merged.go).
	merged render.MergeCache
	// downstream is the layout key the later shards were last verified
	// under (downstream.go).
	downstream string
	// changes are what the publish in progress was told changed.
	changes *capture.Changes
	// unmatched is how many objects under unmatched/ were last named.
	unmatched int
}

// Skipped is how many objects the last publish left out because they could
// not be rendered or broke the build (named at WARN; their recorded files
// kept).
func (w *Writer) Skipped() int { return w.skipped }

// New returns a writer for the cluster with kube-system UID uid.
func New(cfg *config.Config, repo Repo, uid string, opts Options) *Writer {
	if opts.Message == nil {
		opts.Message, _ = describe.Template("") // the default parses
	}
	return &Writer{cfg: cfg, repo: repo, uid: uid, opts: opts, window: NewWindowMemo(), now: time.Now}
}

// Publish renders the captures and commits them under the configured path,
// verified with krusty against the branch they land on. After a successful
// publish --allow-deletions is armed again: the confirmation covered the
// state seen at start only, and a cluster emptied later is stopped again.
// Publish must not run alongside itself.
// carryKinds are kinds (overlay.KindDir) that could not be listed: the files
// the branch records for them are carried over unchanged.
func (w *Writer) Publish(ctx context.Context, caps []capture.Capture, carryKinds ...string) (gitsync.Result, error) {
	return w.PublishChanges(ctx, capture.PackAll(caps), nil, carryKinds...)
}

// PublishChanges is Publish of packed captures (a watch cache's snapshot)
// told which changed since the snapshot before (capture.Changes; nil:
// unknown): when the writer's record is of that snapshot, the incremental
// path compares only those. A capture is unpacked only to be rendered.
func (w *Writer) PublishChanges(ctx context.Context, caps []*capture.Packed, changes *capture.Changes, carryKinds ...string) (gitsync.Result, error) {
	w.changes = changes
	defer func() { w.changes = nil }()
	target := Target(w.cfg)
	target.Signer = w.opts.Signer
	carry := map[string]bool{}
	for _, k := range carryKinds {
		carry[k] = true
	}
	// done records what the last prepare wrote once it is pushed: only
	// the prepare of the attempt that landed counts.
	var done func(gitsync.Result)
	res, err := w.repo.Publish(ctx, target, func(parent fs.FS) (gitsync.Content, error) {
		c, d, err := w.prepare(parent, caps, carry)
		done = d
		return c, err
	})
	switch {
	case err != nil:
		// The branch may or may not hold the commit (a push can land
		// and still report an error): the next parent's directory hash
		// tells (incState.dir), nothing to do here.
	case done != nil:
		done(res)
		if w.inc != nil {
			// The record is of this snapshot now (0: of none known).
			w.inc.snapshot = 0
			if changes != nil {
				w.inc.snapshot = changes.Snapshot
			}
		}
	default:
		w.inc = nil
	}
	if err == nil && w.opts.AllowDeletions {
		slog.Warn("--allow-deletions used for this publish; the mass-deletion guard is armed again")
		w.opts.AllowDeletions = false
	}
	return res, err
}

// prepare is gitsync's callback: it runs on each parent the commit may land
// on (again after a lost race), so the guards see the branch as it is. It
// takes the incremental path when the parent's directory is the one this
// writer last wrote (incremental.go), the full path otherwise; done, when
// set, records what was written once it is pushed.
func (w *Writer) prepare(parent fs.FS, caps []*capture.Packed, carry map[string]bool) (c gitsync.Content, done func(gitsync.Result), err error) {
	cfg, dir := w.cfg, w.cfg.Git.Path
	if err := CheckIdentity(parent, dir, w.uid, w.opts.Adopt); err != nil {
		return gitsync.Content{}, nil, &refusal{RefusedIdentity, err}
	}
	flux := render.FluxTransform{TargetNamespace: cfg.Overlay.Flux.TargetNamespace, NamePrefix: cfg.Overlay.Flux.NamePrefix, NameSuffix: cfg.Overlay.Flux.NameSuffix}
	base, baseKey, keyed, err := w.base.index(parent, dir, cfg.Overlay.Resources, flux)
	if err != nil {
		return gitsync.Content{}, nil, err
	}
	layout := render.Layout{Cluster: cfg.Cluster, ClusterUID: w.uid, Resources: cfg.Overlay.Resources, Base: base, Flux: flux}
	key := ""
	if keyed {
		key = layoutKey(layout, baseKey)
	}
	if c, done, ok, err := w.prepareIncremental(parent, caps, carry, layout, key); ok || err != nil {
		w.paths.incremental++
		return c, done, err
	}
	w.paths.full++
	return w.prepareFull(parent, caps, carry, layout, key)
}

// prepareFull renders every capture, carries and encrypts, runs the guards
// over the whole tree and verifies it with krusty: the reference the
// incremental path must always agree with.
func (w *Writer) prepareFull(parent fs.FS, caps []*capture.Packed, carry map[string]bool, layout render.Layout, key string) (gitsync.Content, func(gitsync.Result), error) {
	dir := w.cfg.Git.Path
	// In ref order, the order render takes them in; every index below is
	// into this slice. Here and not for every publish: checking the order
	// of 50,000 refs was a third of an incremental publish's CPU, which
	// takes the captures in any order.
	caps = capture.SortedPacked(caps)
	renderSkipping := func(skip map[int]bool) (render.Tree, []render.Skipped, error) {
		var left []capture.ObjectRef
		for i, c := range caps {
			if skip[i] {
				left = append(left, c.Ref)
			}
		}
		// Each capture is unpacked as render reaches it and dropped once
		// its files are encoded: the unpacked maps of every capture at
		// once were most of the first commit's memory.
		kept := func(yield func(capture.Capture) bool) {
			for i, c := range caps {
				if !skip[i] && !yield(c.Unpack()) {
					return
				}
			}
		}
		tree, skipped, err := render.RenderSorted(kept, layout)
		if err != nil {
			return nil, nil, err
		}
		for _, s := range skipped {
			left = append(left, s.Ref)
		}
		if err := carryObjects(parent, dir, tree, left); err != nil {
			return nil, nil, err
		}
		if err := carryRecorded(parent, dir, tree, carry); err != nil {
			return nil, nil, err
		}
		if err := w.encryptTree(parent, dir, tree, caps, skip); err != nil {
			return nil, nil, err
		}
		return tree, skipped, nil
	}
	tree, skipped, err := renderSkipping(nil)
	if err != nil {
		return gitsync.Content{}, nil, err
	}
	now := len(overlay.ObjectKeys(tree.Paths()))
	trailers, err := w.deletionGuards(parent, dir, now, CheckShrink(parent, dir, tree, w.opts.MaxDeleteShare))
	if err != nil {
		return gitsync.Content{}, nil, err
	}
	verify := func(t render.Tree) error { return render.Verify(parent, dir, t) }
	if verify(tree) != nil {
		// Find the objects whose files break the build; commit the others.
		tree, skipped, err = buildIsolated(caps, changedObjects(parent, dir, caps, tree), renderSkipping, verify)
		if err != nil {
			return gitsync.Content{}, nil, &refusal{RefusedBuild, fmt.Errorf("the overlay does not build, nothing committed: %w", err)}
		}
	}
	if err := w.verifyDownstream(parent, dir, tree, key); err != nil {
		return gitsync.Content{}, nil, &refusal{RefusedBuild, fmt.Errorf("nothing committed: %w", err)}
	}
	// After newIncState's read of the tree: merged/ is not the record.
	st := newIncState(parent, key, layout.Base, caps, tree, len(carry) == 0 && len(skipped) == 0)
	ms, err := w.addMerged(layout.Base, tree)
	if err != nil {
		return gitsync.Content{}, nil, &refusal{RefusedBuild, err}
	}
	w.warnUnmatched(countUnder(tree, overlay.UnmatchedDir))
	warnSkipped(skipped)
	w.warnWithheld(caps)
	w.skipped = len(skipped)
	var done func(gitsync.Result)
	if st != nil {
		st.merged = ms
		done = func(res gitsync.Result) { w.keep(st, res) }
	}
	return gitsync.Content{Files: tree, Trailers: trailers, Message: w.message()}, done, nil
}

// deletionGuards runs the mass-deletion guards on a commit holding now
// objects (shrink is CheckShrink's verdict): a refusal, or with
// --allow-deletions the trailer that confirms the deletions.
func (w *Writer) deletionGuards(parent fs.FS, dir string, now int, shrink error) ([][2]string, error) {
	deletions := []error{shrink}
	if err := w.checkWindow(parent, dir, now); err != nil {
		deletions = append(deletions, err)
	}
	// Every commit says how many objects it holds, for the window guard
	// of a writer that starts later (TrailerObjects).
	trailers := [][2]string{{TrailerObjects, strconv.Itoa(now)}}
	confirmed := false
	for _, err := range deletions {
		switch {
		case err == nil:
		case !errors.Is(err, ErrGuard):
			return nil, err
		case !w.opts.AllowDeletions:
			return nil, &refusal{RefusedMassDeletion, err}
		case !confirmed:
			// Confirmed: the window guard counts from this commit on.
			trailers = append(trailers, [2]string{TrailerDeletionsConfirmed, "--allow-deletions"})
			confirmed = true
		}
	}
	return trailers, nil
}

// warnUnmatched names the objects kept under unmatched/ when their number
// changes: every publish repeated the same warning, which buried the ones
// that say something new.
func (w *Writer) warnUnmatched(n int) {
	if n == w.unmatched {
		return
	}
	w.unmatched = n
	if n > 0 {
		slog.Warn("captured fields of objects the base does not define are kept under unmatched/ and not applied; capture them in object mode or add them to the base",
			"objects", n, "dir", path.Join(w.cfg.Git.Path, overlay.UnmatchedDir))
	}
}

func (w *Writer) message() func([]gitsync.Change) string {
	msg, cluster := w.opts.Message, w.cfg.Cluster
	return func(ch []gitsync.Change) string { return commitMessage(msg, cluster, ch) }
}

// checkWindow runs CheckWindow against the branch's history, when the
// window is on and the parent carries its history (gitsync's does).
func (w *Writer) checkWindow(parent fs.FS, dir string, now int) error {
	g := w.cfg.Deletions
	h, ok := parent.(gitsync.History)
	if g.Window <= 0 || !ok {
		return nil
	}
	peak, err := RecentPeak(h, dir, w.now().Add(-g.Window), w.window)
	if err != nil {
		return err
	}
	return checkWindow(peak, dir, now, g.Window, g.MaxShareInWindow)
}

// Target is where and how the overlay is committed.
func Target(cfg *config.Config) gitsync.Target {
	return gitsync.Target{
		Branch: cfg.Git.Branch, BaseBranch: cfg.Git.BaseBranch, Dir: cfg.Git.Path, Mode: gitsync.Mode(cfg.Git.Mode),
		AuthorName: cfg.Git.Author.Name, AuthorEmail: cfg.Git.Author.Email,
		CommitterName: cfg.Git.Committer.Name, CommitterEmail: cfg.Git.Committer.Email,
	}
}

func countUnder(t render.Tree, dir string) int {
	n := 0
	for p := range t {
		if strings.HasPrefix(p, dir+"/") {
			n++
		}
	}
	return n
}

// commitMessage describes the changes with the configured template: a
// subject that counts what changed, a body with each field's old → new.
func commitMessage(t *template.Template, cluster string, changes []gitsync.Change) string {
	r := commitReport(t, cluster, changes)
	msg, err := describe.Message(t, r)
	if err != nil {
		// The template was checked at start; a failure here must not lose
		// the capture, so fall back to the default message.
		slog.Warn("commit message template failed, using the default message", "error", err)
		return r.Subject + "\n\n" + r.Body
	}
	return msg
}

// commitReport is the report a commit message is rendered from: one that
// keeps only the objects its body shows and counts the rest
// (describe.Commit), read from gitsync's changes in place, unless the
// template reads every object. A first commit of 100,000 files was
// described with an Object per file and a copy of the change list: ≈ 25 MB
// live while gitsync holds the commit (BenchmarkCommitReport).
func commitReport(t *template.Template, cluster string, changes []gitsync.Change) describe.Report {
	if describe.ReadsObjects(t) {
		return Describe(cluster, changes)
	}
	return describe.Commit(cluster, len(changes), func(i int) describe.FileChange {
		c := &changes[i]
		return describe.FileChange{Path: c.Path, Op: string(c.Op), Old: c.Old, New: c.New}
	})
}

// Describe reports what a commit's changes did, object by object.
func Describe(cluster string, changes []gitsync.Change) describe.Report {
	out := make([]describe.FileChange, len(changes))
	for i, c := range changes {
		out[i] = describe.FileChange{Path: c.Path, Op: string(c.Op), Old: c.Old, New: c.New}
	}
	return describe.Describe(cluster, out)
}
