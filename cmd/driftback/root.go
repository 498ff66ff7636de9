package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"

	"github.com/driftback/driftback/internal/memlimit"
	"github.com/driftback/driftback/kube"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type globalFlags struct {
	// kube are kubectl's and flux's standard connection flags (--kubeconfig,
	// --context, --namespace, --as, --request-timeout, ...), from cli-runtime
	// so they mean what they mean there.
	kube      *genericclioptions.ConfigFlags
	logLevel  string
	logFormat string
}

func newRootCmd() *cobra.Command {
	g := &globalFlags{kube: kube.NewConfigFlags()}
	root := &cobra.Command{
		Use:           "driftback",
		Short:         "Keep the runtime state that Git lacks in Git, as a Kustomize overlay",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := setupLogging(cmd, g.logLevel, g.logFormat); err != nil {
				return err
			}
			// In a container, Go's collector keeps the heap under the
			// pod's memory limit instead of the kubelet killing the pod.
			soft, err := memlimit.Apply(os.DirFS("/sys/fs/cgroup"))
			switch {
			case err != nil:
				slog.Warn("Go's memory limit not set from the container's", "error", err)
			case soft > 0:
				slog.Debug("Go's memory limit set from the container's", "share", memlimit.Share, "bytes", soft)
			}
			return nil
		},
	}
	g.kube.AddFlags(root.PersistentFlags())
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format: text, or json (one object per line, as Flux logs)")
	root.AddCommand(newSnapshotCmd(g), newRunCmd(g), newRestoreCmd(g), newDrillCmd(g), newVersionCmd())
	root.AddCommand(newSummaryCmd())
	root.AddCommand(newDiscoverCmd(g), newRBACCmd(g), newShardsCmd())
	return root
}

func setupLogging(cmd *cobra.Command, level, format string) error {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("--log-level: %q is not allowed: debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		slog.SetDefault(slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), opts)))
	case "json":
		slog.SetDefault(slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), opts)))
	default:
		return fmt.Errorf("--log-format: %q is not allowed: text or json", format)
	}
	return nil
}

// restConfig loads the cluster connection from the standard flags.
func (g *globalFlags) restConfig() (*rest.Config, error) { return kube.LoadConfig(g.kube) }

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print driftback's version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "driftback", version)
		},
	}
}
