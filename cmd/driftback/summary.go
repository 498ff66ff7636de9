package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/driftback/driftback/config"
	"github.com/driftback/driftback/writeback"
)

func newSummaryCmd() *cobra.Command {
	var (
		configPath, repoURL, branch string
		againstBase, pullRequest    bool
		gf                          gitFlags
	)
	cmd := &cobra.Command{
		Use:   "summary",
		Short: "Print a Markdown summary of driftback's last commit on the branch",
		Long: `summary reads the branch, finds driftback's newest commit under git.path and
prints what it changed against its parent, object by object and field by
field, as Markdown for a pull request. With --against-base it summarizes
everything the branch holds under git.path that git.baseBranch lacks: the
pull request's diff, however many commits made it. With --pull-request it
prints the title and body of the pull request run and snapshot keep open
(git.pullRequest), as they would write it. Secret-like values are never shown.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(configPath)
			if err != nil {
				return err
			}
			if err := cfg.Override(config.Overrides{URL: repoURL, Branch: branch}); err != nil {
				return err
			}
			repo, err := openRepo(cfg.Git.URL, &gf, cfg.Git.AllowInsecureHTTP)
			if err != nil {
				return err
			}
			if pullRequest {
				// What `run` and `snapshot` would write: needs no token.
				title, body, _, err := writeback.PullRequestText(cmd.Context(), cfg, repo, "")
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "<!-- title: %s -->\n%s", title, body)
				return nil
			}
			if againstBase {
				changes, err := repo.BranchChanges(cmd.Context(), cfg.Git.Branch, cfg.Git.BaseBranch, cfg.Git.Path)
				if err != nil {
					return err
				}
				fmt.Fprint(cmd.OutOrStdout(), writeback.Describe(cfg.Cluster, changes).Markdown())
				fmt.Fprintf(cmd.OutOrStdout(), "\nWhat `%s` adds to `%s` under `%s`.\n", cfg.Git.Branch, cfg.Git.BaseBranch, cfg.Git.Path)
				return nil
			}
			commit, changes, err := repo.LastChange(cmd.Context(), cfg.Git.Branch, cfg.Git.Path)
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), writeback.Describe(cfg.Cluster, changes).Markdown())
			fmt.Fprintf(cmd.OutOrStdout(), "\nCommit `%s` on `%s`.\n", commit, cfg.Git.Branch)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&configPath, "config", "c", "driftback.yaml", "configuration file")
	f.StringVar(&repoURL, "repo", "", "Git repository URL or local path (overrides git.url)")
	f.StringVar(&branch, "branch", "", "branch to read (overrides git.branch)")
	f.BoolVar(&againstBase, "against-base", false, "summarize what the branch adds to git.baseBranch (the pull request's diff), not only its last commit")
	f.BoolVar(&pullRequest, "pull-request", false, "print the title and body of the pull request driftback keeps from the branch into git.baseBranch")
	gf.addFlags(f)
	// summary only reads: signing does not apply.
	_ = f.MarkHidden("git-sign-key-file")
	_ = f.MarkHidden("git-sign-key-passphrase-file")
	return cmd
}
