package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strings"
	"text/template"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/config"
	"github.com/driftback/driftback/describe"
	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/overlay"
	"github.com/driftback/driftback/render"
)

// publishOptions are the safety switches of a write to Git.
type publishOptions struct {
	// adopt lets this cluster write a branch recorded for another cluster.
	adopt bool
	// maxDeleteShare is the share of the recorded objects one commit may drop.
	maxDeleteShare float64
	// allowDeletions lifts the mass-deletion guard once.
	allowDeletions bool
	// message renders commit messages (describe.Template).
	message *template.Template
	// signer signs commits when set.
	signer gitsync.Signer
	// carryKinds are kinds (render.KindDir) that could not be listed: what
	// the branch recorded of them is kept as it is.
	carryKinds map[string]bool
}

// errGuard marks a write refused by a safety rule; nothing was committed.
var errGuard = errors.New("refused by a safety rule")

// Reasons a commit is refused, as counted by driftback_commits_refused_total.
const (
	refusedIdentity     = "identity"
	refusedMassDeletion = "mass-deletion"
	refusedBuild        = "build"
)

// refusal is an error that says which safety rule refused the commit.
type refusal struct {
	reason string
	err    error
}

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

// refusalReason returns the safety rule that refused a commit, if one did.
func refusalReason(err error) (string, bool) {
	var r *refusal
	if errors.As(err, &r) {
		return r.reason, true
	}
	return "", false
}

// publish renders the captures and commits them under the configured path,
// verified with krusty against the branch they land on.
func publish(ctx context.Context, cfg *config.Config, repo *gitsync.Repo, uid string, caps []capture.Capture, opts publishOptions) (gitsync.Result, error) {
	dir := cfg.Git.Path
	target := gitTarget(cfg)
	target.Signer = opts.signer
	return repo.Publish(ctx, target, func(parent fs.FS) (gitsync.Content, error) {
		if err := checkIdentity(parent, dir, uid, opts.adopt); err != nil {
			return gitsync.Content{}, &refusal{refusedIdentity, err}
		}
		flux := render.FluxTransform{TargetNamespace: cfg.Overlay.Flux.TargetNamespace, NamePrefix: cfg.Overlay.Flux.NamePrefix, NameSuffix: cfg.Overlay.Flux.NameSuffix}
		base, err := render.IndexBaseFor(parent, dir, cfg.Overlay.Resources, flux)
		if err != nil {
			return gitsync.Content{}, err
		}
		tree, err := render.Render(caps, render.Layout{Cluster: cfg.Cluster, ClusterUID: uid, Resources: cfg.Overlay.Resources, Base: base, Flux: flux})
		if err != nil {
			return gitsync.Content{}, err
		}
		if err := carryRecorded(parent, dir, tree, opts.carryKinds); err != nil {
			return gitsync.Content{}, err
		}
		if n := countUnder(tree, overlay.UnmatchedDir); n > 0 {
			slog.Warn("captured fields of objects the base does not define are kept under unmatched/ and not applied; capture them in object mode or add them to the base",
				"objects", n, "dir", path.Join(dir, overlay.UnmatchedDir))
		}
		if err := checkShrink(parent, dir, tree, opts); err != nil {
			return gitsync.Content{}, &refusal{refusedMassDeletion, err}
		}
		if err := render.Verify(parent, dir, tree); err != nil {
			return gitsync.Content{}, &refusal{refusedBuild, fmt.Errorf("the overlay does not build, nothing committed: %w", err)}
		}
		return gitsync.Content{Files: tree, Message: func(ch []gitsync.Change) string { return commitMessage(opts.message, cfg.Cluster, ch) }}, nil
	})
}

// carryRecorded copies the files the branch holds for kinds that could not
// be listed into tree, so their absence from the captures deletes nothing.
func carryRecorded(parent fs.FS, dir string, tree render.Tree, kinds map[string]bool) error {
	if len(kinds) == 0 {
		return nil
	}
	var old []string
	err := fs.WalkDir(parent, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			old = append(old, strings.TrimPrefix(p, dir+"/"))
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %s: %w", dir, err)
	}
	files := map[string][]byte{}
	for _, p := range render.OfKinds(old, kinds) {
		b, err := fs.ReadFile(parent, path.Join(dir, p))
		if err != nil {
			return fmt.Errorf("read %s: %w", path.Join(dir, p), err)
		}
		files[p] = b
	}
	return tree.Carry(files)
}

// gitTarget is where and how the overlay is committed.
func gitTarget(cfg *config.Config) gitsync.Target {
	mode := gitsync.Mode(cfg.Git.Mode)
	if cfg.Git.Branch == cfg.Git.BaseBranch {
		// --branch may name the base branch after the config chose side
		// mode; the base branch is only ever appended to.
		mode = gitsync.ModeDirect
	}
	return gitsync.Target{
		Branch: cfg.Git.Branch, BaseBranch: cfg.Git.BaseBranch, Dir: cfg.Git.Path, Mode: mode,
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

// checkIdentity refuses to overwrite an overlay another cluster wrote: after
// a rebuild, the new cluster's partial state must not replace the record of
// the lost one.
func checkIdentity(parent fs.FS, dir, uid string, adopt bool) error {
	b, err := fs.ReadFile(parent, path.Join(dir, render.MetaFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path.Join(dir, render.MetaFile), err)
	}
	m, err := render.ParseMeta(b)
	if err != nil {
		return err
	}
	if m.ClusterUID != uid && !adopt {
		return fmt.Errorf("%w: %s was written by cluster %q (kube-system UID %s), this is cluster UID %s; restore from it, then pass --adopt to make this cluster its owner",
			errGuard, dir, m.Cluster, m.ClusterUID, uid)
	}
	return nil
}

// checkShrink stops a commit that would drop more than the allowed share of
// the objects Git holds, and always one that would drop them all: an empty
// or half-started cluster must never erase the record.
func checkShrink(parent fs.FS, dir string, tree render.Tree, opts publishOptions) error {
	if opts.allowDeletions {
		return nil
	}
	var oldPaths []string
	err := fs.WalkDir(parent, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			oldPaths = append(oldPaths, strings.TrimPrefix(p, dir+"/"))
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %s: %w", dir, err)
	}
	old := overlay.ObjectKeys(oldPaths)
	now := overlay.ObjectKeys(tree.Paths())
	var gone []string
	for k := range old {
		if !now[k] {
			gone = append(gone, k)
		}
	}
	if len(old) == 0 || len(gone) == 0 {
		return nil
	}
	share := float64(len(gone)) / float64(len(old))
	if len(now) == 0 || share > opts.maxDeleteShare {
		sort.Strings(gone)
		return fmt.Errorf("%w: this commit would drop %d of the %d objects recorded in %s (%.0f%%, limit %.0f%%), e.g. %s; if they are really gone, run again with --allow-deletions",
			errGuard, len(gone), len(old), dir, share*100, opts.maxDeleteShare*100, gone[0])
	}
	return nil
}

// commitMessage describes the changes with the configured template: a
// subject that counts what changed, a body with each field's old → new.
func commitMessage(t *template.Template, cluster string, changes []gitsync.Change) string {
	r := describe.Describe(cluster, fileChanges(changes))
	msg, err := describe.Message(t, r)
	if err != nil {
		// The template was checked at start; a failure here must not lose
		// the capture, so fall back to the default message.
		slog.Warn("commit message template failed, using the default message", "error", err)
		return r.Subject + "\n\n" + r.Body
	}
	return msg
}

func fileChanges(changes []gitsync.Change) []describe.FileChange {
	out := make([]describe.FileChange, len(changes))
	for i, c := range changes {
		out[i] = describe.FileChange{Path: c.Path, Op: string(c.Op), Old: c.Old, New: c.New}
	}
	return out
}
