package capture

import (
	"fmt"
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

// PresetRules returns the rules of a preset. kinds is used (and required) by
// the status preset only.
func PresetRules(name string, kinds []GroupKind) ([]Rule, error) {
	switch name {
	case PresetCrossplane:
		return crossplaneRules(), nil
	case PresetACK:
		return ackRules(), nil
	case PresetConfigConnector:
		return []Rule{{
			Name:   "config-connector/resource-id",
			Match:  Match{APIGroups: []string{"*.cnrm.cloud.google.com"}, Kinds: []string{"*"}, HasFields: paths("spec.resourceID")},
			Mode:   ModePatch,
			Fields: paths("spec.resourceID"),
		}}, nil
	case PresetPVCBinding:
		return pvcBindingRules(), nil
	case PresetServiceLoadBalancer:
		return []Rule{{
			Name: "service-loadbalancer/status",
			// ClusterIP Services carry status.loadBalancer: {}; only an
			// assigned address is state worth keeping.
			Match:  Match{APIGroups: []string{""}, Kinds: []string{"Service"}, HasFields: paths("status.loadBalancer.ingress")},
			Mode:   ModePatch,
			Fields: paths("status.loadBalancer"),
		}}, nil
	case PresetStatus:
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
	return nil, fmt.Errorf("unknown preset %q", name)
}

// Presets lists the preset names, in documentation order.
func Presets() []string {
	return []string{PresetCrossplane, PresetACK, PresetConfigConnector, PresetPVCBinding, PresetServiceLoadBalancer, PresetStatus}
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
