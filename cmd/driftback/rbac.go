package main

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/driftback/driftback/config"
	"github.com/driftback/driftback/kube"
	"github.com/driftback/driftback/rbac"
)

func newRBACCmd(g *globalFlags) *cobra.Command {
	var (
		configPath string
		o          rbac.Options
		discover   bool
	)
	cmd := &cobra.Command{
		Use:   "rbac",
		Short: "Print the ClusterRole the configured rules need (get/list/watch on what they match, never Secrets)",
		Long: `rbac prints the roles driftback needs for a configuration: get, list and
watch on exactly the resources its rules and presets match (never Secrets),
get on the kube-system namespace (the cluster identity), list and watch on
CRDs (to follow kinds installed later), a Role for the leader-election Lease
in --lease-namespace and, with --restore, update on the matched resources' status.

Without --discover the role grants what the rules name; API groups given as
globs (the crossplane preset's custom groups, "*.aws.upbound.io") cannot be
named without the cluster and are left to an aggregated ClusterRole. With
--discover the cluster's API discovery resolves every glob to the resources
installed now; run it again when new CRDs are installed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.StatusOnly && !o.Restore {
				return fmt.Errorf("--status-only: allowed only with --restore")
			}
			cfg, err := config.Load(configPath)
			if err != nil {
				return err
			}
			var roles rbac.Roles
			host := ""
			if discover {
				rc, err := g.restConfig()
				if err != nil {
					return err
				}
				kc, err := kube.New(rc)
				if err != nil {
					return err
				}
				lists, err := kc.Discovery.ServerPreferredResources()
				if err != nil && len(lists) == 0 {
					return fmt.Errorf("discover API resources: %w", err)
				}
				if err != nil {
					slog.Warn("some API groups could not be discovered; their resources are not in the role", "err", err)
				}
				if roles, err = rbac.FromDiscovery(cfg.Rules, lists, o); err != nil {
					return err
				}
				host = rc.Host
			} else if roles, err = rbac.Offline(cfg.Rules, o); err != nil {
				return err
			}
			b, err := roles.YAML(rbac.Header(configPath, o, host))
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVarP(&configPath, "config", "c", "driftback.yaml", "configuration file")
	f.BoolVar(&o.Restore, "restore", false, "add the status writer the restore component needs (update on the matched resources' status)")
	f.BoolVar(&o.StatusOnly, "status-only", false, "with --restore, print only the status writer's roles (the restore component's role.yaml)")
	f.BoolVar(&discover, "discover", false, "resolve the rules against the cluster's API discovery (needs a reachable cluster)")
	f.StringVar(&o.Namespace, "lease-namespace", "driftback", "namespace of driftback's leader-election Lease (where it runs)")
	return cmd
}
