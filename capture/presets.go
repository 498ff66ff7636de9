package capture

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Preset names. config declares which exist; the rule sets live here
// because they are capture knowledge: which fields each tool writes at run
// time.
const (
	PresetCrossplane          = "crossplane"
	PresetACK                 = "ack"
	PresetConfigConnector     = "config-connector"
	PresetPVCBinding          = "pvc-binding"
	PresetServiceLoadBalancer = "service-loadbalancer"
	PresetStatus              = "status"
)

// GroupKind names a kind by API group and kind, both globs.
type GroupKind struct {
	Group string
	Kind  string
}

// anyNonCoreGroup matches every group holding a dot: all CRDs (their group
// must contain one) and the k8s.io groups, but never the core group, so a
// preset over "all kinds" can never select a Secret.
const anyNonCoreGroup = "*.*"

// kubernetesGroups are left out of presets over "all kinds": their objects
// (leases, events, endpoint slices, CRDs themselves) churn or are large, and
// none carries the state the presets look for.
var kubernetesGroups = []string{"*.k8s.io"}

// anyCustomGroup matches the groups of custom resources, as far as a glob can.
func anyCustomGroup() Match {
	return Match{APIGroups: []string{anyNonCoreGroup}, ExcludeAPIGroups: kubernetesGroups, Kinds: []string{"*"}}
}

const externalName = `metadata.annotations["crossplane.io/external-name"]`

// A Preset is everything driftback knows about one tool's runtime state.
// Adding a preset is adding one entry to presetTable: its rules, its line in
// the table of docs/presets.md (TestPresetsDocTable checks it), its fixture
// folder testdata/presets/<Name>/ (capture/live/presettest runs every
// entry's) and the fields a reviewer recognises in commit messages
// (describe).
type Preset struct {
	Name string
	// Doc is the preset's line in docs/presets.md's table: what it keeps.
	Doc string
	// WellKnown are the fields describe names in commit messages.
	WellKnown []WellKnownField
	rules     func(kinds []GroupKind) ([]Rule, error)
}

// A WellKnownField is a field a reviewer recognises: a patch whose changed
// paths contain Contains is described as What. Rank orders them, most
// telling first.
type WellKnownField struct {
	Contains, What string
	Rank           int
}

// presetTable lists the presets in documentation order.
var presetTable = []Preset{
	{
		Name:      PresetCrossplane,
		Doc:       "external names of managed resources; composites and managed resources composed at run time, with the references between claim, composite and managed resources",
		WellKnown: []WellKnownField{{Contains: `crossplane.io/external-name`, What: "external name", Rank: 1}},
		rules:     func([]GroupKind) ([]Rule, error) { return crossplaneRules(), nil },
	},
	{
		Name:      PresetACK,
		Doc:       "`status.ackResourceMetadata` (ARN, owner account, region) of AWS Controllers for Kubernetes resources, and the identifier each kind keeps in its status (a VPC's `vpcID`)",
		WellKnown: []WellKnownField{{Contains: `ackResourceMetadata.arn`, What: "ARN", Rank: 5}},
		rules:     func([]GroupKind) ([]Rule, error) { return ackRules(), nil },
	},
	{
		Name:      PresetConfigConnector,
		Doc:       "`spec.resourceID` of Config Connector resources",
		WellKnown: []WellKnownField{{Contains: `spec.resourceID`, What: "resource ID", Rank: 4}},
		rules: func([]GroupKind) ([]Rule, error) {
			return []Rule{{
				Name:   "config-connector/resource-id",
				Match:  Match{APIGroups: []string{"*.cnrm.cloud.google.com"}, Kinds: []string{"*"}, HasFields: paths("spec.resourceID")},
				Mode:   ModePatch,
				Fields: paths("spec.resourceID"),
			}}, nil
		},
	},
	{
		Name: PresetPVCBinding,
		Doc:  "the binding of claims to volumes: `spec.volumeName`, and the volumes provisioned at run time",
		WellKnown: []WellKnownField{
			{Contains: `spec.volumeName`, What: "volume binding", Rank: 2},
			{Contains: `spec.claimRef`, What: "volume binding", Rank: 3},
		},
		rules: func([]GroupKind) ([]Rule, error) { return pvcBindingRules(), nil },
	},
	{
		Name:      PresetServiceLoadBalancer,
		Doc:       "`status.loadBalancer` of Services with an assigned address",
		WellKnown: []WellKnownField{{Contains: `status.loadBalancer`, What: "load-balancer address", Rank: 6}},
		rules: func([]GroupKind) ([]Rule, error) {
			return []Rule{{
				Name: "service-loadbalancer/status",
				// ClusterIP Services carry status.loadBalancer: {}; only an
				// assigned address is state worth keeping.
				Match:  Match{APIGroups: []string{""}, Kinds: []string{"Service"}, HasFields: paths("status.loadBalancer.ingress")},
				Mode:   ModePatch,
				Fields: paths("status.loadBalancer"),
			}}, nil
		},
	},
	{
		Name:  PresetStatus,
		Doc:   "the `status` of the kinds you list, without the fields that change when the state does not",
		rules: statusRules,
	},
}

// PresetTable returns the presets, in documentation order.
func PresetTable() []Preset { return slices.Clone(presetTable) }

// PresetRules returns the rules of a preset. kinds is used (and required) by
// the status preset only.
func PresetRules(name string, kinds []GroupKind) ([]Rule, error) {
	for _, p := range presetTable {
		if p.Name == name {
			return p.rules(kinds)
		}
	}
	return nil, fmt.Errorf("unknown preset %q", name)
}

// Presets lists the preset names, in documentation order.
func Presets() []string {
	out := make([]string, len(presetTable))
	for i, p := range presetTable {
		out[i] = p.Name
	}
	return out
}

// WellKnownFields are the presets' well-known fields, most telling first.
func WellKnownFields() []WellKnownField {
	var out []WellKnownField
	for _, p := range presetTable {
		out = append(out, p.WellKnown...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Rank < out[j].Rank })
	return out
}

// statusRules keep the status of the listed kinds.
func statusRules(kinds []GroupKind) ([]Rule, error) {
	if len(kinds) == 0 {
		return nil, fmt.Errorf("the status preset needs the kinds whose status it keeps")
	}
	var rs []Rule
	for _, gk := range kinds {
		rs = append(rs, Rule{
			Name:    "status/" + strings.TrimSuffix(gk.Kind+"."+gk.Group, "."),
			Match:   Match{APIGroups: []string{gk.Group}, Kinds: []string{gk.Kind}, HasFields: paths("status")},
			Mode:    ModePatch,
			Fields:  paths("status"),
			Exclude: volatileStatus(),
		})
	}
	return rs, nil
}

// crossplaneRules keep what re-adopts cloud resources instead of creating
// them twice: every external name, and the objects a claim composed at run
// time with the references that tie claim, composite and managed resources
// together. Composed objects are controller-owned, so the rules opt in; the
// ownerReferences themselves are dropped by Sanitize (the owner's UID differs
// in a rebuilt cluster and the garbage collector would delete them).
// Composition labels (crossplane.io/composite, claim-name, claim-namespace)
// travel with the whole objects.
func crossplaneRules() []Rule {
	return []Rule{
		{
			// Managed resources: patch when Git holds the MR, the whole MR
			// when a composition created it.
			Name:         "crossplane/external-name",
			Match:        withHasFields(anyCustomGroup(), paths(externalName)),
			Mode:         ModeAuto,
			Fields:       paths(externalName),
			IncludeOwned: true,
		},
		{
			// Composites (v1: spec.resourceRefs): which MRs they own, and
			// the claim bound to them.
			Name:         "crossplane/composite",
			Match:        withHasFields(anyCustomGroup(), paths("spec.resourceRefs")),
			Mode:         ModeAuto,
			Fields:       paths("spec.resourceRefs", "spec.claimRef", "spec.compositionRef", "spec.compositionRevisionRef"),
			IncludeOwned: true,
		},
		{
			// Composites of Crossplane v2 keep the same links under spec.crossplane.
			Name:         "crossplane/composite-v2",
			Match:        withHasFields(anyCustomGroup(), paths("spec.crossplane.resourceRefs")),
			Mode:         ModeAuto,
			Fields:       paths("spec.crossplane.resourceRefs", "spec.crossplane.compositionRef", "spec.crossplane.compositionRevisionRef"),
			IncludeOwned: true,
		},
		{
			// Claims live in Git; the composite they bound to has a
			// generated name that Git lacks.
			Name:   "crossplane/claim",
			Match:  withHasFields(anyCustomGroup(), paths("spec.resourceRef")),
			Mode:   ModePatch,
			Fields: paths("spec.resourceRef"),
		},
	}
}

func withHasFields(m Match, ps []Path) Match {
	m.HasFields = ps
	return m
}

// pvcBindingRules keep a claim bound to the volume holding its data: a
// rebuilt claim without spec.volumeName binds a new, empty volume.
func pvcBindingRules() []Rule {
	return []Rule{
		{
			Name:   "pvc-binding/claim",
			Match:  Match{APIGroups: []string{""}, Kinds: []string{"PersistentVolumeClaim"}, HasFields: paths("spec.volumeName")},
			Mode:   ModeAuto,
			Fields: paths("spec.volumeName"),
		},
		{
			// A provisioned PV exists only at run time. Its claimRef keeps
			// name and namespace (a pre-binding the binder honours) but not
			// the uid and resourceVersion of a claim that will be recreated.
			Name:    "pvc-binding/volume",
			Match:   Match{APIGroups: []string{""}, Kinds: []string{"PersistentVolume"}, HasFields: paths("spec.claimRef")},
			Mode:    ModeAuto,
			Fields:  paths("spec.claimRef"),
			Exclude: paths("spec.claimRef.uid", "spec.claimRef.resourceVersion"),
		},
	}
}

// volatileStatus are status fields that change without the state changing.
func volatileStatus() []Path {
	return paths(
		"status.conditions[*].lastTransitionTime",
		"status.conditions[*].lastHeartbeatTime",
		"status.conditions[*].lastUpdateTime",
		"status.conditions[*].lastProbeTime",
		"status.observedGeneration",
	)
}

func paths(ss ...string) []Path {
	out := make([]Path, len(ss))
	for i, s := range ss {
		out[i] = MustParsePath(s)
	}
	return out
}
