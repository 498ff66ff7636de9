package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/restore"
)

func newDrillCmd(g *globalFlags) *cobra.Command {
	var (
		src          overlaySource
		opts         restore.DrillOptions
		yes          bool
		identityFile string
	)
	cmd := &cobra.Command{
		Use:   "drill",
		Short: "Rebuild a scratch cluster from the Git branch alone and check every captured field",
		Long: `drill proves the branch is enough to rebuild the cluster. Against a scratch
cluster (--kubeconfig) it builds the overlay with kustomize, applies it the
way Flux does (server-side apply, forced, as the first of the config's
gitopsManagers, argocd-controller by default, so that the rebuilt cluster
adopts the branch without pinning Git's fields into the overlay; CRDs
and Namespaces first, waited for), runs the status restore, then checks every
captured field (patches, resources, status) in the cluster against Git. It
prints the mismatches and the time taken (RTO) and exits non-zero on any
mismatch. It applies with force, so it refuses a target whose kube-system UID
is one the branch records (the cluster that wrote the overlay) and prints the
target's server before applying, and asks a person on a terminal to confirm
it; --yes confirms in advance (scripts, CI), and without a terminal or --yes
it refuses.
With --verify-only it only checks, and is the last step of a real recovery.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := src.connect(cmd.Context(), g)
			if err != nil {
				return err
			}
			if opts.Apply.FieldManager == "" {
				opts.Apply.FieldManager = capture.ApplyManager(src.managers)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "drill: %s at %s (commit %.12s) into %s\n", src.dir, src.branch, b.commit, b.host)
			printVerified(cmd.OutOrStdout(), src, b)
			if !opts.VerifyOnly {
				uid, err := restore.RefuseRecordedTarget(cmd.Context(), b.cluster, b.host, b.fsys)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "target: %s (kube-system UID %s), not a cluster this branch records\n", b.host, uid)
				if err := confirmTarget(cmd.InOrStdin(), cmd.OutOrStdout(), yes, b.host, uid); err != nil {
					return err
				}
			}
			opts.Restore.Rules = src.rules
			if opts.Restore.Identities, err = restore.LoadIdentities(identityFile); err != nil {
				return err
			}
			r := restore.Drill(cmd.Context(), b.cluster, b.fsys, src.dir, opts)
			r.Print(cmd.OutOrStdout())
			if !r.OK() {
				return errors.New("drill failed: the branch does not rebuild the cluster (see above)")
			}
			return nil
		},
	}
	src.addFlags(cmd.Flags())
	f := cmd.Flags()
	f.DurationVar(&opts.Restore.Wait, "wait", 2*time.Minute, "how long to wait for objects before restoring their status")
	f.DurationVar(&opts.Apply.Wait, "crd-wait", time.Minute, "how long to wait for applied CRDs to be established")
	f.StringVar(&opts.Apply.FieldManager, "field-manager", "", "field manager of the applies (default: the first of the config's gitopsManagers, argocd-controller)")
	f.BoolVar(&yes, "yes", false, "the printed target is a scratch cluster: apply without asking (needed when stdin is not a terminal)")
	f.StringVar(&identityFile, "age-identity-file", "", "age identity file that decrypts fields rules encrypt (default: $SOPS_AGE_KEY_FILE)")
	f.BoolVar(&opts.VerifyOnly, "verify-only", false, "apply and restore nothing: check a cluster rebuilt by the GitOps tool and driftback restore against the branch (safe on the real cluster)")
	return cmd
}
