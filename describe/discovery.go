package describe

import (
	"fmt"
	"io"
	"text/tabwriter"

	yaml "go.yaml.in/yaml/v3"

	"github.com/driftback/driftback/capture"
)

// Discovery writes what `driftback discover` found: the table of fields
// runtime managers own and GitOps managers do not, then rule YAML for the
// fields at least minShare of a kind's objects hold.
func Discovery(w io.Writer, r *capture.UnownedReport, minShare float64) error {
	fields := r.Fields()
	if len(fields) == 0 {
		_, err := fmt.Fprintln(w, "no field found that runtime managers own and GitOps managers do not")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tFIELD\tMANAGER\tOBJECTS\tEXAMPLE")
	for _, f := range fields {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s (%s)\n", kindName(f.Group, f.Kind), f.Path, f.Manager, f.Objects, r.Objects(f.Group, f.Kind), f.Example, refName(f.ExampleRef))
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

// kindName is "Kind.group", or "Kind" for the core group.
func kindName(group, kind string) string {
	if group == "" {
		return kind
	}
	return kind + "." + group
}

// refName is "namespace/name", or "name" for a cluster-scoped object.
func refName(r capture.ObjectRef) string {
	if r.Namespace == "" {
		return r.Name
	}
	return r.Namespace + "/" + r.Name
}
