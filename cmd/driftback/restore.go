package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/driftback/driftback/overlay"
	"github.com/driftback/driftback/restore"
)

func (s *overlaySource) addFlags(f *pflag.FlagSet) {
	f.StringVarP(&s.configPath, "config", "c", "driftback.yaml", "configuration file: its rules bound what is restored (always read); it gives the repository, branch and path the flags leave out")
	f.StringVar(&s.repoURL, "repo", "", "Git repository URL or local path (overrides git.url)")
	f.StringVar(&s.branch, "branch", "", "branch holding the overlay (overrides git.branch)")
	f.StringVar(&s.dir, "path", "", "overlay directory in the repository (overrides git.path)")
	f.StringVar(&s.verifyKeys, "verify-signatures", "", verifySignaturesHelp+"; otherwise nothing is read")
	s.git.addFlags(f)
	// restore and drill only read the branch: signing does not apply.
	_ = f.MarkHidden("git-sign-key-file")
	_ = f.MarkHidden("git-sign-key-passphrase-file")
}

func newRestoreCmd(g *globalFlags) *cobra.Command {
	var (
		src          overlaySource
		opts         restore.Options
		identityFile string
	)
	cmd := &cobra.Command{
		Use:   "restore",
		Short: "Write the captured status from the Git branch back into the cluster",
		Long: `restore reads the overlay from the branch and, for every captured status
file, waits (up to --wait) for the object to exist, then writes the captured
status through the /status subresource: Kubernetes ignores status on create,
so Argo CD or Flux alone cannot bring it back. Only fields missing or
different are written; running it again changes nothing. It exits non-zero
when an object is still missing or a write failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := src.connect(cmd.Context(), g)
			if err != nil {
				return err
			}
			ov, err := overlay.Read(b.fsys, src.dir)
			if err != nil {
				return err
			}
			if opts.Identities, err = restore.LoadIdentities(identityFile); err != nil {
				return err
			}
			if err := restore.DecryptOverlay(ov, opts.Identities); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "overlay %s at %s (%s, commit %.12s): %d status file(s)\n",
				src.dir, src.branch, describeMeta(ov), b.commit, len(ov.Status))
			printVerified(cmd.OutOrStdout(), src, b)
			opts.Rules = src.rules
			sum := restore.Restore(cmd.Context(), b.cluster, ov.Status, opts)
			sum.Print(cmd.OutOrStdout())
			if !sum.OK() {
				return errors.New("restore incomplete: see the missing and failed objects above")
			}
			return nil
		},
	}
	src.addFlags(cmd.Flags())
	cmd.Flags().DurationVar(&opts.Wait, "wait", 5*time.Minute, "how long to wait for objects the GitOps tool has not created yet")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print what would be written and write nothing")
	cmd.Flags().StringVar(&identityFile, "age-identity-file", "", "age identity file that decrypts fields rules encrypt (default: $SOPS_AGE_KEY_FILE)")
	return cmd
}

func describeMeta(o *overlay.Overlay) string {
	if o.Meta.ClusterUID == "" {
		return "no cluster record"
	}
	return fmt.Sprintf("written by cluster %s, UID %s", o.Meta.Cluster, o.Meta.ClusterUID)
}

// printVerified says what --verify-signatures checked.
func printVerified(w io.Writer, src overlaySource, b readBranch) {
	if src.verifyKeys == "" {
		return
	}
	fmt.Fprintf(w, "provenance: verified, %d commit(s) changed %s since %s, each signed by a trusted key\n", len(b.verified), src.dir, src.base)
	for _, v := range b.verified {
		fmt.Fprintf(w, "  %.12s signed by %s\n", v.Commit, v.Signer)
	}
}
