package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/capture/live"
	"github.com/driftback/driftback/restore"
	"github.com/driftback/driftback/writeback"
)

func newSnapshotCmd(g *globalFlags) *cobra.Command {
	var (
		cf        configFlags
		msgFlags  messageFlags
		prf       prFlags
		prTimeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Capture the live state once and commit it to the Git branch",
		Long: `snapshot lists every object the rules select, renders the overlay, verifies
that it builds with kustomize, commits it under git.path on git.branch and
pushes. With no change in the cluster it makes no commit.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := cf.load()
			if err != nil {
				return err
			}
			opts := cf.opts
			rc, err := g.restConfig()
			if err != nil {
				return err
			}
			cl, err := live.NewCluster(rc)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			uid, err := cl.Identity(ctx)
			if err != nil {
				return err
			}
			res, err := cl.Resources(cfg.Rules)
			if err != nil {
				return err
			}
			caps, err := cl.List(ctx, cfg.Rules, res)
			if err != nil {
				return err
			}
			slog.Info("captured", "resources", len(res), "objects", len(caps), "summary", capture.Summary(caps))
			if opts.Message, err = msgFlags.template(cfg); err != nil {
				return err
			}
			if opts.Signer, err = cf.git.creds.Signer(); err != nil {
				return err
			}
			// SOPS_AGE_KEY_FILE: unchanged encrypted files keep their bytes, restore-on-start decrypts.
			if opts.Identities, err = restore.LoadIdentities(""); err != nil {
				return err
			}
			repo, err := openRepo(cfg.Git.URL, &cf.git, cfg.Git.AllowInsecureHTTP)
			if err != nil {
				return err
			}
			prCfg, err := prf.apply(cmd.Flags(), cfg, cf.git.creds.AllowInsecureHTTP)
			if err != nil {
				return err
			}
			prs, err := writeback.NewProposer(cfg, prCfg)
			if err != nil {
				return err
			}
			result, err := writeback.New(cfg, repo, uid, opts).Publish(ctx, caps)
			if err != nil {
				return err
			}
			if result.Commit.IsZero() {
				fmt.Fprintf(cmd.OutOrStdout(), "no change: %s already holds the live state\n", cfg.Git.Branch)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "committed %s to %s (%d files changed)\n", result.Commit, cfg.Git.Branch, len(result.Changes))
			}
			if prs != nil {
				res, ok := prs.SyncNow(ctx, repo, uid, prTimeout)
				reportPullRequest(cmd.OutOrStdout(), cmd.ErrOrStderr(), cfg.Git, res, ok)
			}
			return msgFlags.writeSummary(cfg.Cluster, result.Changes)
		},
	}
	f := cmd.Flags()
	cf.register(f)
	msgFlags.addFlags(f)
	prf.addFlags(f)
	f.DurationVar(&prTimeout, "pull-request-timeout", 2*time.Minute, "how long to retry the pull request while the host is down or rate-limited (the capture is pushed before)")
	return cmd
}
