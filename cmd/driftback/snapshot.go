package main

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/capture/live"
	"github.com/driftback/driftback/config"
	"github.com/driftback/driftback/gitsync"
)

func newSnapshotCmd(g *globalFlags) *cobra.Command {
	var (
		configPath string
		repoURL    string
		branch     string
		opts       = publishOptions{maxDeleteShare: 0.2}
		gf         gitFlags
		msgFlags   messageFlags
	)
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Capture the live state once and commit it to the Git branch",
		Long: `snapshot lists every object the rules select, renders the overlay, verifies
that it builds with kustomize, commits it under git.path on git.branch and
pushes. With no change in the cluster it makes no commit.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.maxDeleteShare < 0 || opts.maxDeleteShare > 1 {
				return fmt.Errorf("--max-delete-share: %v is not allowed: a share from 0 to 1 (0.2 = 20%%)", opts.maxDeleteShare)
			}
			cfg, err := config.Load(configPath)
			if err != nil {
				return err
			}
			if repoURL != "" {
				cfg.Git.URL = repoURL
			}
			if branch != "" {
				cfg.Git.Branch = branch
			}
			if cfg.Git.URL == "" {
				return fmt.Errorf("git.url: required (in the config or as --repo)")
			}
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
			if opts.message, err = msgFlags.template(cfg); err != nil {
				return err
			}
			if opts.signer, err = gf.signer(); err != nil {
				return err
			}
			repo, err := openRepo(cfg.Git.URL, &gf)
			if err != nil {
				return err
			}
			result, err := publish(ctx, cfg, repo, uid, caps, opts)
			if err != nil {
				return err
			}
			if result.Commit.IsZero() {
				fmt.Fprintf(cmd.OutOrStdout(), "no change: %s already holds the live state\n", cfg.Git.Branch)
				return msgFlags.writeSummary(cfg.Cluster, nil)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "committed %s to %s (%d files changed)\n", result.Commit, cfg.Git.Branch, len(result.Changes))
			return msgFlags.writeSummary(cfg.Cluster, result.Changes)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&configPath, "config", "c", "driftback.yaml", "configuration file")
	f.StringVar(&repoURL, "repo", "", "Git repository URL or local path (overrides git.url)")
	f.StringVar(&branch, "branch", "", "branch to write (overrides git.branch)")
	f.BoolVar(&opts.adopt, "adopt", false, "write a branch recorded for another cluster (after a rebuild, once restored)")
	f.BoolVar(&opts.allowDeletions, "allow-deletions", false, "let this commit drop more than --max-delete-share of the recorded objects")
	f.Float64Var(&opts.maxDeleteShare, "max-delete-share", 0.2, "largest share (0-1) of recorded objects one commit may drop")
	gf.addFlags(f)
	msgFlags.addFlags(f)
	return cmd
}

// openRepo opens the repository at url with the credentials of the flags.
func openRepo(url string, gf *gitFlags) (*gitsync.Repo, error) {
	a, err := gf.auth()
	if err != nil {
		return nil, err
	}
	m, err := a.Method(url)
	if err != nil {
		return nil, err
	}
	return gitsync.Open(url, m)
}
