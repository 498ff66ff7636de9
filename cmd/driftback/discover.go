package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
	yaml "go.yaml.in/yaml/v3"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/capture/live"
	"github.com/driftback/driftback/config"
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
			return printDiscovery(cmd.OutOrStdout(), report, minShare)
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

// printDiscovery writes the table of unowned fields, then the proposed rules.
func printDiscovery(w io.Writer, r *capture.UnownedReport, minShare float64) error {
	fields := r.Fields()
	if len(fields) == 0 {
		_, err := fmt.Fprintln(w, "no field found that runtime managers own and GitOps managers do not")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tFIELD\tMANAGER\tOBJECTS\tEXAMPLE")
	for _, f := range fields {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s (%s)\n", kindName(f.Group, f.Kind), f.Path, f.Manager, f.Objects, r.Objects(f.Group, f.Kind), f.Example, objectName(f.ExampleRef))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	sugg := r.Suggest(minShare)
	if len(sugg) == 0 {
		return nil
	}
	var doc proposal
	for _, s := range sugg {
		doc.Rules = append(doc.Rules, proposedRule{Name: s.Name, Match: proposedMatch{APIGroups: []string{s.APIGroup}, Kinds: []string{s.Kind}}, Fields: s.Fields, IncludeOwned: s.IncludeOwned})
	}
	fmt.Fprintf(w, "\n# Proposed rules: fields at least %.0f%% of a kind's objects hold. Review them, then paste under\n# rules: in driftback.yaml (status paths are restored by `driftback restore`).\n", minShare*100)
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write proposed rules: %w", err)
	}
	return enc.Close()
}

// proposal mirrors the config format (config.RuleIn) with its fields in the
// order a person reads them: name, match, fields.
type proposal struct {
	Rules []proposedRule `yaml:"rules"`
}

type proposedRule struct {
	Name   string        `yaml:"name"`
	Match  proposedMatch `yaml:"match"`
	Fields []string      `yaml:"fields"`
	// IncludeOwned is written only when the survey saw owned objects.
	IncludeOwned bool `yaml:"includeOwned,omitempty"`
}

type proposedMatch struct {
	APIGroups []string `yaml:"apiGroups,flow"`
	Kinds     []string `yaml:"kinds,flow"`
}

func kindName(group, kind string) string {
	if group == "" {
		return kind
	}
	return kind + "." + group
}

func objectName(r capture.ObjectRef) string {
	if r.Namespace == "" {
		return r.Name
	}
	return r.Namespace + "/" + r.Name
}
