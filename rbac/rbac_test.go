package rbac

import (
	"reflect"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftback/driftback/capture"
)

func presetRules(t *testing.T, names ...string) []capture.Rule {
	t.Helper()
	var out []capture.Rule
	for _, n := range names {
		rs, err := capture.PresetRules(n, []capture.GroupKind{{Group: "infra.example.com", Kind: "KubernetesCluster"}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rs...)
	}
	return out
}

// granted flattens the reader's rules to group/resource -> verbs, leaving
// out the fixed reads every role has.
func granted(r rbacv1.ClusterRole) map[string]string {
	out := map[string]string{}
	for _, pr := range r.Rules {
		if len(pr.ResourceNames) > 0 || (len(pr.APIGroups) == 1 && pr.APIGroups[0] == "apiextensions.k8s.io") {
			continue
		}
		for _, g := range pr.APIGroups {
			for _, res := range pr.Resources {
				out[g+"/"+res] = strings.Join(pr.Verbs, ",")
			}
		}
	}
	return out
}

func TestOffline(t *testing.T) {
	tests := []struct {
		name  string
		rules []capture.Rule
		want  map[string]string
		globs []string
	}{
		{"core presets name their kinds", presetRules(t, capture.PresetPVCBinding, capture.PresetServiceLoadBalancer),
			map[string]string{"/persistentvolumeclaims": "get,list,watch", "/persistentvolumes": "get,list,watch", "/services": "get,list,watch"}, nil},
		{"the status preset names its kinds", presetRules(t, capture.PresetStatus),
			map[string]string{"infra.example.com/kubernetesclusters": "get,list,watch"}, nil},
		{"group globs are left to aggregation", presetRules(t, capture.PresetCrossplane, capture.PresetACK),
			map[string]string{}, []string{"*.*", "*.services.k8s.aws"}},
		{"a kind glob in a named group is the group", []capture.Rule{{Name: "r", Match: capture.Match{APIGroups: []string{"s3.aws.upbound.io"}, Kinds: []string{"*"}}}},
			map[string]string{"s3.aws.upbound.io/*": "get,list,watch"}, nil},
		{"an excluded group is not granted", []capture.Rule{{Name: "r", Match: capture.Match{APIGroups: []string{"a.example.com", "b.example.com"}, ExcludeAPIGroups: []string{"b.*"}, Kinds: []string{"Thing"}}}},
			map[string]string{"a.example.com/things": "get,list,watch"}, nil},
		{"Secrets are never granted", []capture.Rule{{Name: "r", Match: capture.Match{APIGroups: []string{""}, Kinds: []string{"Secret", "ConfigMap"}}}},
			map[string]string{"/configmaps": "get,list,watch"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Offline(tt.rules, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := granted(r.Reader); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("granted %v, want %v", got, tt.want)
			}
			if !reflect.DeepEqual(r.Globs, tt.globs) {
				t.Errorf("globs %v, want %v", r.Globs, tt.globs)
			}
			if (r.Aggregated != nil) != (len(tt.globs) > 0) {
				t.Errorf("aggregated role %v with globs %v", r.Aggregated, tt.globs)
			}
			if r.StatusWriter != nil {
				t.Errorf("a status writer without --restore: %v", r.StatusWriter)
			}
		})
	}
}

// A kind glob in the core group would grant Secrets: refused, naming the rule.
func TestOfflineRefusesCoreKindGlob(t *testing.T) {
	_, err := Offline([]capture.Rule{{Name: "everything-core", Match: capture.Match{APIGroups: []string{""}, Kinds: []string{"*"}}}}, Options{})
	if err == nil || !strings.Contains(err.Error(), `rule "everything-core"`) || !strings.Contains(err.Error(), "Secrets") {
		t.Fatalf("err = %v, want a refusal naming the rule and Secrets", err)
	}
}

func TestFromDiscoveryResolvesGlobsWithoutSecrets(t *testing.T) {
	lists := []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "secrets", Kind: "Secret", Namespaced: true, Verbs: []string{"get", "list", "watch"}},
			{Name: "configmaps", Kind: "ConfigMap", Namespaced: true, Verbs: []string{"get", "list", "watch"}},
			{Name: "services", Kind: "Service", Namespaced: true, Verbs: []string{"get", "list", "watch"}},
			{Name: "services/status", Kind: "Service", Namespaced: true, Verbs: []string{"get", "update"}},
		}},
		{GroupVersion: "s3.aws.upbound.io/v1beta1", APIResources: []metav1.APIResource{
			{Name: "buckets", Kind: "Bucket", Verbs: []string{"get", "list", "watch"}},
		}},
		{GroupVersion: "coordination.k8s.io/v1", APIResources: []metav1.APIResource{
			{Name: "leases", Kind: "Lease", Namespaced: true, Verbs: []string{"get", "list", "watch"}},
		}},
	}
	rules := append(presetRules(t, capture.PresetCrossplane, capture.PresetServiceLoadBalancer),
		capture.Rule{Name: "all-core", Match: capture.Match{APIGroups: []string{""}, Kinds: []string{"*"}}})
	r, err := FromDiscovery(rules, lists, Options{Restore: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"/configmaps": "get,list,watch", "/services": "get,list,watch", "s3.aws.upbound.io/buckets": "get,list,watch"}
	if got := granted(r.Reader); !reflect.DeepEqual(got, want) {
		t.Errorf("granted %v, want %v (crossplane's glob resolved, leases in a *.k8s.io group left out, never secrets)", got, want)
	}
	if r.Aggregated != nil || len(r.Globs) > 0 {
		t.Errorf("discovery named every group; aggregated %v, globs %v", r.Aggregated, r.Globs)
	}
	if r.StatusWriter == nil {
		t.Fatal("--restore: no status writer")
	}
	if got := granted(*r.StatusWriter); got["s3.aws.upbound.io/buckets/status"] != "get,update,patch" || got["/secrets/status"] != "" || len(got) != 3 {
		t.Errorf("status writer grants %v, want update on the matched resources' status only", got)
	}
}

// The fixed reads: the identity namespace only, CRDs, and the Lease in
// driftback's namespace.
func TestFixedRules(t *testing.T) {
	r, err := Offline(presetRules(t, capture.PresetPVCBinding), Options{Namespace: "ops"})
	if err != nil {
		t.Fatal(err)
	}
	var ns, crd bool
	for _, pr := range r.Reader.Rules {
		if reflect.DeepEqual(pr.Resources, []string{"namespaces"}) {
			ns = reflect.DeepEqual(pr.ResourceNames, []string{"kube-system"}) && reflect.DeepEqual(pr.Verbs, []string{"get"})
		}
		if reflect.DeepEqual(pr.Resources, []string{"customresourcedefinitions"}) {
			crd = reflect.DeepEqual(pr.Verbs, []string{"list", "watch"})
		}
		for _, v := range pr.Verbs {
			if v != "get" && v != "list" && v != "watch" {
				t.Errorf("the reader may %s: %+v", v, pr)
			}
		}
	}
	if !ns || !crd {
		t.Errorf("reader lacks get on kube-system (%v) or list/watch on CRDs (%v): %+v", ns, crd, r.Reader.Rules)
	}
	if r.LeaderElection.Namespace != "ops" || r.LeaderElection.Rules[0].Resources[0] != "leases" {
		t.Errorf("leader election role %+v, want leases in ops", r.LeaderElection)
	}
	b, err := r.YAML(Header("d.yaml", Options{Namespace: "ops"}, ""))
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); !strings.HasPrefix(s, "# Generated by `driftback rbac --config d.yaml --lease-namespace ops`") || strings.Contains(s, "creationTimestamp") || strings.Count(s, "\n---\n") != 1 {
		t.Errorf("YAML:\n%s", s)
	}
}

// The restore component's roles alone: status writes on what the rules
// name, groups named by glob left to an aggregated role, nothing else.
func TestStatusOnly(t *testing.T) {
	rules := presetRules(t, capture.PresetPVCBinding, capture.PresetCrossplane)
	r, err := Offline(rules, Options{Restore: true, StatusOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := granted(*r.StatusWriter); !reflect.DeepEqual(got, map[string]string{"/persistentvolumeclaims/status": "get,update,patch", "/persistentvolumes/status": "get,update,patch"}) {
		t.Errorf("status writer grants %v", got)
	}
	if r.StatusAggregated == nil || r.StatusAggregated.AggregationRule.ClusterRoleSelectors[0].MatchLabels[StatusAggregateLabel] != "true" {
		t.Fatalf("no aggregated status writer for the glob groups: %v", r.StatusAggregated)
	}
	b, err := r.YAML(Header("c.yaml", Options{Restore: true, StatusOnly: true}, ""))
	if err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{ReaderRole + "\n", LeaderElectionRole, AggregatedRole + "\n", "list"} {
		if strings.Contains(string(b), absent) {
			t.Errorf("--status-only output holds %q:\n%s", absent, b)
		}
	}
	for _, present := range []string{"--restore --status-only", StatusWriterRole + "\n", StatusAggregatedRole + "\n"} {
		if !strings.Contains(string(b), present) {
			t.Errorf("--status-only output lacks %q:\n%s", present, b)
		}
	}
}
