package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/capture/live"
	"github.com/driftback/driftback/config"
	"github.com/driftback/driftback/describe"
)

func newDiscoverCmd(g *globalFlags) *cobra.Command {
	var (
		opts       = live.DiscoverOptions{GitOpsManagers: capture.DefaultGitOpsManagers, ExcludeKinds: []string{"Event", "Lease", "EndpointSlice", "Endpoints"}}
		configPath string
		minShare   float64
	)
	cmd := &cobra.Command{
		Use:   "discover",
		Short: "List the live fields no GitOps tool owns, and propose rules for them",
		Long: `discover lists the objects of every kind (or of --api-groups/--kinds) once and
reports, per kind, the fields that runtime field managers wrote and no GitOps
field manager owns: the state Git lacks. For each it shows the manager, how
many objects hold it and an example value (Secret values are never shown).
It ends with rule YAML for the fields most objects of a kind hold, ready to
paste under rules: in driftback.yaml. It only reads.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if minShare < 0 || minShare > 1 {
				return fmt.Errorf("--min-share: %v is not allowed: a share from 0 to 1", minShare)
			}
			if configPath != "" {
				cfg, err := config.Load(configPath)
				if err != nil {
					return err
				}
				if !cmd.Flags().Changed("gitops-managers") {
					opts.GitOpsManagers = cfg.GitOpsManagers
				}
			}
			rc, err := g.restConfig()
			if err != nil {
				return err
			}
			cl, err := live.NewCluster(rc)
			if err != nil {
				return err
			}
			report, err := cl.Discover(cmd.Context(), opts)
			if err != nil {
				return err
			}
			return describe.Discovery(cmd.OutOrStdout(), report, minShare)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&opts.APIGroups, "api-groups", nil, `API group globs to survey ("" is the core group; default all)`)
	f.StringSliceVar(&opts.Kinds, "kinds", nil, "kind globs to survey (default all)")
	f.StringSliceVar(&opts.ExcludeKinds, "exclude-kinds", opts.ExcludeKinds, "kind globs not to list")
	f.BoolVar(&opts.IncludeOwned, "include-owned", false, "also survey controller-owned objects (rules skip them unless includeOwned)")
	f.StringSliceVar(&opts.GitOpsManagers, "gitops-managers", opts.GitOpsManagers, "field managers that apply Git's content (default: gitopsManagers of --config, else these)")
	f.StringVarP(&configPath, "config", "c", "", "configuration file to read gitopsManagers from (optional)")
	f.Float64Var(&minShare, "min-share", 0.5, "propose a field when at least this share (0-1) of a kind's objects hold it")
	return cmd
}
