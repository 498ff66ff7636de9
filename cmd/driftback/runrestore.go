package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"

	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/overlay"
	"github.com/driftback/driftback/restore"
)

// startupOptions govern what `run` does when it starts in a cluster that
// the branch does not record: a cluster rebuilt after the loss of the one
// that wrote the branch.
type startupOptions struct {
	restoreOnStart bool
	restoreWait    time.Duration
	adoptionPoll   time.Duration
}

func (o *startupOptions) addFlags(f *pflag.FlagSet) {
	f.BoolVar(&o.restoreOnStart, "restore-on-start", true, "when the branch records another cluster (this one was rebuilt), write its captured status into this cluster before anything else")
	f.DurationVar(&o.restoreWait, "restore-wait", 5*time.Minute, "how long the start-up restore waits for objects the GitOps tool has not created yet")
	f.DurationVar(&o.adoptionPoll, "adoption-poll", 30*time.Second, "while waiting for adoption, how often to check whether the branch was adopted (driftback snapshot --adopt)")
}

// recordedOverlay reads the overlay on the branch; nil when the branch or
// the overlay does not exist yet.
func recordedOverlay(ctx context.Context, repo *gitsync.Repo, branch, dir string) (*overlay.Overlay, error) {
	fsys, _, err := repo.ReadBranch(ctx, branch)
	if errors.Is(err, gitsync.ErrNoBranch) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ov, err := overlay.Read(fsys, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return ov, err
}

// restoreOnStart protects the record of a lost cluster when `run` starts in
// its replacement. When the branch records another cluster's identity it
// first writes that cluster's captured status here (the GitOps tool cannot:
// status is ignored on create), then — unless --adopt was given and the
// restore is complete — waits until the branch is adopted explicitly
// (`driftback snapshot --adopt`), capturing nothing meanwhile: a
// half-rebuilt cluster must never overwrite what Git holds. It returns when
// capturing may start, or when ctx ends.
func restoreOnStart(ctx context.Context, w io.Writer, rc *rest.Config, repo *gitsync.Repo, branch, dir, uid string, adopt bool, o startupOptions) error {
	ov, err := recordedOverlay(ctx, repo, branch, dir)
	if err != nil {
		return fmt.Errorf("read the branch before capturing: %w", err)
	}
	if ov == nil || ov.Meta.ClusterUID == "" || ov.Meta.ClusterUID == uid {
		return nil
	}
	slog.Warn("the branch records another cluster: this cluster was rebuilt",
		"branch", branch, "recorded", ov.Meta.Cluster, "recordedUID", ov.Meta.ClusterUID, "thisUID", uid)
	complete := true
	if o.restoreOnStart {
		cl, err := restore.NewCluster(rc)
		if err != nil {
			return err
		}
		sum := restore.Restore(ctx, cl, ov.Status, restore.Options{Wait: o.restoreWait})
		sum.Print(w)
		if complete = sum.OK(); !complete {
			slog.Error("start-up restore incomplete; not adopting the branch automatically, run `driftback restore` and then `driftback snapshot --adopt`",
				"missing", sum.Count(restore.Missing), "failed", sum.Count(restore.Failed))
		}
	}
	if adopt && complete {
		slog.Info("adopting the branch (--adopt): this cluster becomes its owner", "branch", branch)
		return nil
	}
	slog.Warn("waiting for adoption: nothing is captured until the branch is adopted (restart with --adopt, or run driftback snapshot --adopt)", "branch", branch)
	tick := time.NewTicker(o.adoptionPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		ov, err := recordedOverlay(ctx, repo, branch, dir)
		if err != nil {
			slog.Warn("checking for adoption failed; trying again", "err", err)
			continue
		}
		if ov == nil || ov.Meta.ClusterUID == uid {
			slog.Info("the branch now records this cluster; capturing starts", "branch", branch)
			return nil
		}
	}
}
