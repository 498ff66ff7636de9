// Package rbac derives the Kubernetes permissions driftback needs from its
// rules: get/list/watch on exactly the resources the rules and presets
// match, never Secrets, the few fixed reads `run` makes (the kube-system
// namespace for the cluster identity, CRDs to follow kinds installed later),
// a namespaced Lease for leader election, and — only with the restore
// component — update on the matched resources' status. It is pure: rules
// (and, when a cluster is reachable, its discovery) in, roles out.
package rbac

import (
	"fmt"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/driftback/driftback/capture"
)

// Names of the roles, as manifests/base binds them.
const (
	ReaderRole       = "driftback-reader"
	AggregatedRole   = "driftback-reader-extra"
	StatusWriterRole = "driftback-status-writer"
	// StatusAggregatedRole collects ClusterRoles labelled
	// StatusAggregateLabel: status writes on groups named by a glob.
	StatusAggregatedRole = "driftback-status-writer-extra"
	StatusAggregateLabel = "driftback.dev/aggregate-to-status-writer"
	LeaderElectionRole   = "driftback-leader-election"
	// AggregateLabel marks ClusterRoles whose rules are added to
	// AggregatedRole: the way to grant groups a rule names by a glob when
	// the role is generated without a cluster.
	AggregateLabel = "driftback.dev/aggregate-to-reader"
)

// Verbs a watch needs; the only ones driftback uses on captured resources.
var readVerbs = []string{"get", "list", "watch"}

// Options shape the roles.
type Options struct {
	// Restore adds the status writer (manifests/restore): get, update and
	// patch on the status of the matched resources.
	Restore bool
	// StatusOnly writes only the status writer's roles (with Restore): the
	// restore component's file, manifests/restore/role.yaml.
	StatusOnly bool
	// Namespace holds the leader-election Lease (driftback's own).
	Namespace string
}

// Roles are what one configuration needs.
type Roles struct {
	Reader rbacv1.ClusterRole
	// Aggregated collects labelled ClusterRoles for groups named by a glob
	// (offline generation only); nil when every group was named.
	Aggregated *rbacv1.ClusterRole
	// StatusWriter is set with Options.Restore.
	StatusWriter *rbacv1.ClusterRole
	// StatusAggregated is Aggregated's twin for status writes (Restore and
	// group globs).
	StatusAggregated *rbacv1.ClusterRole
	LeaderElection   rbacv1.Role
	// Globs are the group globs that could not be named without a cluster.
	Globs []string
	// statusOnly: YAML writes the status writer's roles alone.
	statusOnly bool
}

// grants collects resources by API group.
type grants map[string]map[string]bool

func (g grants) add(group, resource string) {
	if g[group] == nil {
		g[group] = map[string]bool{}
	}
	g[group][resource] = true
}

// rules turns the grants into sorted policy rules, one per group; a group
// granted "*" needs no other entry.
func (g grants) rules(verbs []string, suffix string) []rbacv1.PolicyRule {
	groups := make([]string, 0, len(g))
	for gr := range g {
		groups = append(groups, gr)
	}
	sort.Strings(groups)
	var out []rbacv1.PolicyRule
	for _, gr := range groups {
		var res []string
		if g[gr]["*"] {
			res = []string{"*" + suffix}
		} else {
			for r := range g[gr] {
				res = append(res, r+suffix)
			}
			sort.Strings(res)
		}
		out = append(out, rbacv1.PolicyRule{APIGroups: []string{gr}, Resources: res, Verbs: append([]string(nil), verbs...)})
	}
	return out
}

func isGlob(s string) bool { return strings.ContainsAny(s, "*?[") }

// isSecret reports whether group/resource holds Secrets, which driftback
// never reads.
func isSecret(group, resource string) bool {
	return group == "" && (resource == "secrets" || resource == "*")
}

// Offline derives the roles from the rules alone, granting exactly what they
// name: an exact group and kind become that resource (its plural as the
// apiserver names built-in and conventionally named kinds), a kind glob in
// a named group becomes every resource of that group (never in the core
// group, which holds Secrets). Groups given as globs cannot be named without
// a cluster: they are listed in Roles.Globs and left to AggregatedRole.
func Offline(rules []capture.Rule, o Options) (Roles, error) {
	g := grants{}
	globs := map[string]bool{}
	for _, r := range rules {
		groups := r.Match.APIGroups
		if len(groups) == 0 {
			groups = []string{"*"}
		}
		kinds := r.Match.Kinds
		if len(kinds) == 0 {
			kinds = []string{"*"}
		}
		for _, group := range groups {
			if isGlob(group) {
				globs[group] = true
				continue
			}
			if gm := (capture.Match{APIGroups: []string{group}, ExcludeAPIGroups: r.Match.ExcludeAPIGroups}); !gm.MatchesKind(group, "") {
				continue // excluded by excludeAPIGroups
			}
			for _, kind := range kinds {
				if isGlob(kind) {
					if group == "" {
						return Roles{}, fmt.Errorf("rule %q: kinds %q in the core API group cannot be granted without also granting Secrets; name the kinds, or generate the role against the cluster (discovery lists them)", r.Name, kind)
					}
					g.add(group, "*")
					continue
				}
				res := plural(group, kind)
				if isSecret(group, res) {
					continue // config refuses Secret values; the role never grants them
				}
				g.add(group, res)
			}
		}
	}
	roles := build(g, o)
	if len(globs) > 0 {
		for gl := range globs {
			roles.Globs = append(roles.Globs, gl)
		}
		sort.Strings(roles.Globs)
		roles.Aggregated = aggregated(AggregatedRole, AggregateLabel)
		if o.Restore {
			roles.StatusAggregated = aggregated(StatusAggregatedRole, StatusAggregateLabel)
		}
	}
	return roles, nil
}

// plural is the resource name of kind, as the apiserver names built-in
// kinds and CRDs that follow the convention (lower case, English plural).
// A CRD with another plural needs the role generated against the cluster.
func plural(group, kind string) string {
	r, _ := meta.UnsafeGuessKindToResource(schema.GroupVersionKind{Group: group, Kind: kind})
	return r.Resource
}

// FromDiscovery derives the roles from the cluster's API resources (as
// ServerPreferredResources lists them): every listable resource a rule
// matches, by its real name, globs resolved. Secrets are never granted.
func FromDiscovery(rules []capture.Rule, lists []*metav1.APIResourceList, o Options) (Roles, error) {
	g := grants{}
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			return Roles{}, fmt.Errorf("discovery: group version %q: %w", l.GroupVersion, err)
		}
		for _, res := range l.APIResources {
			if strings.Contains(res.Name, "/") || !has(res.Verbs, "list") || isSecret(gv.Group, res.Name) {
				continue
			}
			for _, r := range rules {
				if r.Match.MatchesKind(gv.Group, res.Kind) {
					g.add(gv.Group, res.Name)
					break
				}
			}
		}
	}
	return build(g, o), nil
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// build adds the fixed reads and the optional roles to the granted resources.
func build(g grants, o Options) Roles {
	ns := o.Namespace
	if ns == "" {
		ns = "driftback"
	}
	reader := rbacv1.ClusterRole{
		TypeMeta:   typeMeta("ClusterRole"),
		ObjectMeta: metav1.ObjectMeta{Name: ReaderRole},
		Rules: append(g.rules(readVerbs, ""),
			// The cluster identity: the kube-system namespace's UID.
			rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"namespaces"}, ResourceNames: []string{metav1.NamespaceSystem}, Verbs: []string{"get"}},
			// run follows CRDs (metadata only) to watch kinds installed later.
			rbacv1.PolicyRule{APIGroups: []string{"apiextensions.k8s.io"}, Resources: []string{"customresourcedefinitions"}, Verbs: []string{"list", "watch"}},
		),
	}
	roles := Roles{
		statusOnly: o.Restore && o.StatusOnly,
		Reader:     reader,
		LeaderElection: rbacv1.Role{
			TypeMeta:   typeMeta("Role"),
			ObjectMeta: metav1.ObjectMeta{Name: LeaderElectionRole, Namespace: ns},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "create", "update"}},
			},
		},
	}
	if o.Restore {
		roles.StatusWriter = &rbacv1.ClusterRole{
			TypeMeta:   typeMeta("ClusterRole"),
			ObjectMeta: metav1.ObjectMeta{Name: StatusWriterRole},
			Rules:      g.rules([]string{"get", "update", "patch"}, "/status"),
		}
	}
	return roles
}

// aggregated is a ClusterRole the aggregation controller fills with the
// rules of the ClusterRoles labelled label: "true".
func aggregated(name, label string) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{
		TypeMeta:   typeMeta("ClusterRole"),
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Rules:      []rbacv1.PolicyRule{}, // filled by the aggregation controller
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
			{MatchLabels: map[string]string{label: "true"}},
		}},
	}
}

func typeMeta(kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: kind}
}
