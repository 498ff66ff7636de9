package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/driftback/driftback/config"
)

func newShardsCmd() *cobra.Command {
	var files []string
	cmd := &cobra.Command{
		Use:   "shards",
		Short: "Check the configuration files of a sharded cluster together and print their chain",
		Long: `shards reads the configuration file of every shard of one cluster (one
--config each) and checks them together: one cluster, repository and branch;
a shard name each, so each Deployment has its own Lease; a directory each;
overlay.resources chaining them from the base to one last directory; no two
shards whose rules can capture the same objects. It prints the chain, first
to last, and the directory Argo CD or Flux must apply. See docs/sharding.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfgs := make([]*config.Config, len(files))
			for i, f := range files {
				c, err := config.Load(f)
				if err != nil {
					return err
				}
				cfgs[i] = c
			}
			ch, err := config.CheckShards(files, cfgs)
			if err != nil {
				return err
			}
			c0 := ch.Shards[0].Config
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "cluster %s: %d shards on branch %s, first to last:\n", c0.Cluster, len(ch.Shards), c0.Git.Branch)
			for i, s := range ch.Shards {
				fmt.Fprintf(w, "  %d. %-12s %s  Lease %s  resources %s  (%s)\n", i+1, s.Config.Shard, s.Config.Git.Path, s.Config.LeaseName(), strings.Join(s.Config.Overlay.Resources, ", "), s.File)
			}
			fmt.Fprintf(w, "apply %s with Argo CD (spec.source.path) or Flux (spec.path): it builds to the base and every shard\n", ch.Final())
			fmt.Fprintln(w, "after a rebuild: restore with each shard's configuration, drill them first to last")
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&files, "config", "c", nil, "configuration file of one shard (give each shard's)")
	return cmd
}
