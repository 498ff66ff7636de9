package writeback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"time"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/overlay"
	"github.com/driftback/driftback/restore"
)

// Startup governs what an unattended writer does when it starts in a
// cluster the branch does not record: a cluster rebuilt after the loss of
// the one that wrote the branch.
type Startup struct {
	// RestoreOnStart writes the recorded status into this cluster first.
	RestoreOnStart bool
	// AdoptionPoll is how often to check whether the branch was adopted.
	AdoptionPoll time.Duration
	// Restore writes the branch's captured status files into this cluster,
	// prints its report to out and says whether it is complete
	// (ClusterRestore is the real one).
	Restore func(ctx context.Context, out io.Writer, status []overlay.File) (complete bool)
	// TrustedKeys make the restore read the branch only after every commit
	// that changed the overlay since the base is found signed by one of
	// them (gitsync.ReadBranchVerified); otherwise nothing is restored.
	// Nil: nothing is restored unless Unverified is set.
	TrustedKeys *gitsync.TrustedKeys
	// Unverified lets the restore run without TrustedKeys (a warning):
	// the rules still bound which fields are written, but whoever can push
	// to the branch chooses their values.
	Unverified bool
}

// ClusterRestore is Startup.Restore for a real cluster: restore.Restore,
// waiting up to wait for objects the GitOps tool has not created yet and
// writing only the status fields the rules select (anything else the branch
// holds is refused, reported, and makes the restore incomplete).
func ClusterRestore(cl *restore.Cluster, wait time.Duration, rules []capture.Rule) func(context.Context, io.Writer, []overlay.File) bool {
	return func(ctx context.Context, out io.Writer, status []overlay.File) bool {
		sum := restore.Restore(ctx, cl, status, restore.Options{Wait: wait, Rules: rules})
		sum.Print(out)
		if !sum.OK() {
			slog.Error("start-up restore incomplete; not adopting the branch automatically, run `driftback restore` and then `driftback snapshot --adopt`",
				"missing", sum.Count(restore.Missing), "failed", sum.Count(restore.Failed), "refused", len(sum.Refused))
		}
		return sum.OK()
	}
}

// recorded reads the overlay on the branch; nil when the branch or the
// overlay does not exist yet.
func (w *Writer) recorded(ctx context.Context) (*overlay.Overlay, error) {
	fsys, _, err := w.repo.ReadBranch(ctx, w.cfg.Git.Branch)
	if errors.Is(err, gitsync.ErrNoBranch) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ov, err := overlay.Read(fsys, w.cfg.Git.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return ov, err
}

// AwaitAdoption protects the record of a lost cluster when a writer starts
// in its replacement. When the branch records another cluster's identity it
// first writes that cluster's captured status here (the GitOps tool cannot:
// status is ignored on create), then — unless Options.Adopt was given and
// the restore is complete — waits until the branch is adopted explicitly
// (`driftback snapshot --adopt`), capturing nothing meanwhile: a
// half-rebuilt cluster must never overwrite what Git holds. It returns when
// capturing may start, or when ctx ends.
func (w *Writer) AwaitAdoption(ctx context.Context, out io.Writer, o Startup) error {
	branch := w.cfg.Git.Branch
	ov, err := w.recorded(ctx)
	if err != nil {
		return fmt.Errorf("read the branch before capturing: %w", err)
	}
	if ov == nil || ov.Meta.ClusterUID == "" || ov.Meta.ClusterUID == w.uid {
		return nil
	}
	slog.Warn("the branch records another cluster: this cluster was rebuilt",
		"branch", branch, "recorded", ov.Meta.Cluster, "recordedUID", ov.Meta.ClusterUID, "thisUID", w.uid)
	complete := true
	if o.RestoreOnStart {
		complete = w.restoreOnStart(ctx, out, o, ov)
	}
	if w.opts.Adopt && complete {
		slog.Info("adopting the branch (--adopt): this cluster becomes its owner", "branch", branch)
		return nil
	}
	slog.Warn("waiting for adoption: nothing is captured until the branch is adopted (restart with --adopt, or run driftback snapshot --adopt)", "branch", branch)
	tick := time.NewTicker(o.AdoptionPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		ov, err := w.recorded(ctx)
		if err != nil {
			slog.Warn("checking for adoption failed; trying again", "err", err)
			continue
		}
		if ov == nil || ov.Meta.ClusterUID == w.uid {
			slog.Info("the branch now records this cluster; capturing starts", "branch", branch)
			return nil
		}
	}
}

// restoreOnStart restores the recorded status, after checking the branch's
// provenance when trusted keys are given: a branch anyone with push access
// may have written is not restored blindly.
func (w *Writer) restoreOnStart(ctx context.Context, out io.Writer, o Startup, ov *overlay.Overlay) bool {
	g := w.cfg.Git
	if o.TrustedKeys == nil && o.Unverified {
		slog.Warn("restoring from the branch without checking who wrote it (--restore-unverified): only the fields the rules select are written, but anyone who can push to the branch chooses their values",
			"branch", g.Branch)
		return w.restoreDecrypted(ctx, out, o, ov)
	}
	if o.TrustedKeys == nil {
		slog.Error("start-up restore skipped: the branch's provenance cannot be checked without --verify-signatures (trusted keys); nothing restored, not adopting; review the branch, then run driftback restore and driftback snapshot --adopt, or give --verify-signatures (or --restore-unverified)",
			"branch", g.Branch)
		return false
	}
	fsys, tip, verified, err := w.repo.ReadBranchVerified(ctx, g.Branch, g.BaseBranch, g.Path, o.TrustedKeys)
	if err != nil {
		slog.Error("start-up restore refused: the branch's provenance is not verified; nothing restored, not adopting; check the commit, then run driftback restore and driftback snapshot --adopt",
			"branch", g.Branch, "err", err)
		return false
	}
	slog.Info("the branch's provenance is verified", "branch", g.Branch, "commit", tip, "signedCommits", len(verified))
	checked, err := overlay.Read(fsys, g.Path)
	if err != nil {
		slog.Error("start-up restore: read the verified overlay", "err", err)
		return false
	}
	return w.restoreDecrypted(ctx, out, o, checked)
}

// restoreDecrypted decrypts the fields rules encrypt (encrypt: true) with
// SOPS_AGE_KEY_FILE's identities, then restores; without a matching
// identity nothing is restored (never ciphertext) and the branch is not
// adopted.
func (w *Writer) restoreDecrypted(ctx context.Context, out io.Writer, o Startup, ov *overlay.Overlay) bool {
	if err := restore.DecryptOverlay(ov, w.opts.Identities); err != nil {
		slog.Error("start-up restore: encrypted fields cannot be decrypted; nothing restored, not adopting; set SOPS_AGE_KEY_FILE to an age identity of encryption.age.recipients, or run driftback restore --age-identity-file",
			"branch", w.cfg.Git.Branch, "err", err)
		return false
	}
	return o.Restore(ctx, out, ov.Status)
}
