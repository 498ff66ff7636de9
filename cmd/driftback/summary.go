package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/driftback/driftback/config"
	"github.com/driftback/driftback/describe"
)

func newSummaryCmd() *cobra.Command {
	var (
		configPath, repoURL, branch string
		gf                          gitFlags
	)
	cmd := &cobra.Command{
		Use:   "summary",
		Short: "Print a Markdown summary of driftback's last commit on the branch",
		Long: `summary reads the branch, finds driftback's newest commit under git.path and
prints what it changed against its parent, object by object and field by
field, as Markdown for a pull request. Secret-like values are never shown.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
			repo, err := openRepo(cfg.Git.URL, &gf)
			if err != nil {
				return err
			}
			commit, changes, err := repo.LastChange(cmd.Context(), cfg.Git.Branch, cfg.Git.Path)
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), describe.Describe(cfg.Cluster, fileChanges(changes)).Markdown())
			fmt.Fprintf(cmd.OutOrStdout(), "\nCommit `%s` on `%s`.\n", commit, cfg.Git.Branch)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&configPath, "config", "c", "driftback.yaml", "configuration file")
	f.StringVar(&repoURL, "repo", "", "Git repository URL or local path (overrides git.url)")
	f.StringVar(&branch, "branch", "", "branch to read (overrides git.branch)")
	gf.addFlags(f)
	return cmd
}
