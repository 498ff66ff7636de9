package config

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/driftback/driftback/capture"
)

// PresetIn turns on a preset: a rule set for a known tool, maintained with
// driftback (docs/presets.md).
type PresetIn struct {
	Name string `json:"name"`
	// Kinds are Kind.group globs (KubernetesCluster.infra.example.com, or
	// Kind alone for the core group); only the status preset takes them.
	Kinds []string `json:"kinds"`
}

// PresetNames are the presets a config may name.
var PresetNames = capture.Presets()

type presetRule struct {
	where string
	rule  capture.Rule
}

func compilePresets(in []PresetIn) ([]presetRule, error) {
	var out []presetRule
	seen := map[string]int{}
	for i, p := range in {
		where := fmt.Sprintf("presets[%d]", i)
		if !slices.Contains(PresetNames, p.Name) {
			return nil, fmt.Errorf("%s.name: %q is not allowed: one of %s", where, p.Name, strings.Join(PresetNames, ", "))
		}
		if j, dup := seen[p.Name]; dup {
			return nil, fmt.Errorf("%s.name: %q is already turned on by presets[%d]", where, p.Name, j)
		}
		seen[p.Name] = i
		if p.Name != capture.PresetStatus && len(p.Kinds) > 0 {
			return nil, fmt.Errorf("%s.kinds: only the %s preset takes kinds", where, capture.PresetStatus)
		}
		if p.Name == capture.PresetStatus && len(p.Kinds) == 0 {
			return nil, fmt.Errorf("%s.kinds: the %s preset needs at least one Kind.group (such as KubernetesCluster.infra.example.com)", where, capture.PresetStatus)
		}
		var kinds []capture.GroupKind
		for j, k := range p.Kinds {
			gk, err := parseGroupKind(k)
			if err != nil {
				return nil, fmt.Errorf("%s.kinds[%d]: %w", where, j, err)
			}
			kinds = append(kinds, gk)
		}
		rules, err := capture.PresetRules(p.Name, kinds)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		for _, r := range rules {
			out = append(out, presetRule{where: where, rule: r})
		}
	}
	return out, nil
}

// parseGroupKind reads Kind.group as kubectl writes it; a Kind without a
// group is in the core group.
func parseGroupKind(s string) (capture.GroupKind, error) {
	kind, group, _ := strings.Cut(s, ".")
	if kind == "" {
		return capture.GroupKind{}, fmt.Errorf("%q is not allowed: Kind.group such as KubernetesCluster.infra.example.com (Kind alone for the core group)", s)
	}
	for _, g := range []string{kind, group} {
		if _, err := path.Match(g, ""); err != nil {
			return capture.GroupKind{}, fmt.Errorf("%q is not a valid glob (allowed: *, ? and [...] as in path.Match): %w", s, err)
		}
	}
	return capture.GroupKind{Group: group, Kind: kind}, nil
}
