package capture

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

func TestMatches(t *testing.T) {
	obj := func(ns, name string, lbls map[string]string, owned bool) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "s3.aws.upbound.io/v1beta2", "kind": "Bucket",
			"spec": map[string]any{"volumeName": "pv-1", "empty": map[string]any{}}}}
		u.SetNamespace(ns)
		u.SetName(name)
		u.SetLabels(lbls)
		if owned {
			u.Object["metadata"].(map[string]any)["ownerReferences"] = []any{map[string]any{"apiVersion": "v1", "kind": "X", "name": "o", "uid": "1", "controller": true}}
		}
		return u
	}
	sel, _ := labels.Parse("team=a,tier!=dev")
	tests := []struct {
		name  string
		match Match
		rule  func(*Rule)
		obj   *unstructured.Unstructured
		want  bool
	}{
		{name: "empty match takes all", obj: obj("ns", "x", nil, false), want: true},
		{name: "group glob, any version", match: Match{APIGroups: []string{"*.aws.upbound.io"}}, obj: obj("", "x", nil, false), want: true},
		{name: "group glob misses", match: Match{APIGroups: []string{"*.gcp.upbound.io"}}, obj: obj("", "x", nil, false)},
		{name: "excluded group", match: Match{APIGroups: []string{"*"}, ExcludeAPIGroups: []string{"s3.*"}}, obj: obj("", "x", nil, false)},
		{name: "kind glob", match: Match{Kinds: []string{"B*"}}, obj: obj("", "x", nil, false), want: true},
		{name: "kind glob misses", match: Match{Kinds: []string{"VPC"}}, obj: obj("", "x", nil, false)},
		{name: "namespace included", match: Match{Namespaces: []string{"team-*"}}, obj: obj("team-a", "x", nil, false), want: true},
		{name: "namespace not included", match: Match{Namespaces: []string{"team-*"}}, obj: obj("infra", "x", nil, false)},
		{name: "namespaces exclude cluster-scoped objects", match: Match{Namespaces: []string{"team-*"}}, obj: obj("", "x", nil, false)},
		{name: "cluster-scoped matched by namespaces: [\"\"]", match: Match{Namespaces: []string{""}}, obj: obj("", "x", nil, false), want: true},
		{name: "namespace excluded", match: Match{ExcludeNamespaces: []string{"kube-*"}}, obj: obj("kube-system", "x", nil, false)},
		{name: "excludeNamespaces keeps cluster-scoped objects", match: Match{ExcludeNamespaces: []string{"*"}}, obj: obj("", "x", nil, false), want: true},
		{name: "name glob", match: Match{Names: []string{"logs-*"}}, obj: obj("", "logs-1", nil, false), want: true},
		{name: "name glob misses", match: Match{Names: []string{"logs-*"}}, obj: obj("", "data", nil, false)},
		{name: "selector matches", match: Match{Selector: sel}, obj: obj("", "x", map[string]string{"team": "a", "tier": "prod"}, false), want: true},
		{name: "selector misses", match: Match{Selector: sel}, obj: obj("", "x", map[string]string{"team": "a", "tier": "dev"}, false)},
		{name: "hasFields present", match: Match{HasFields: paths("spec.volumeName")}, obj: obj("", "x", nil, false), want: true},
		{name: "hasFields empty value is absent", match: Match{HasFields: paths("spec.empty")}, obj: obj("", "x", nil, false)},
		{name: "hasFields all must hold", match: Match{HasFields: paths("spec.volumeName", "spec.missing")}, obj: obj("", "x", nil, false)},
		{name: "owned skipped by default", obj: obj("", "x", nil, true)},
		{name: "includeOwned takes owned", rule: func(r *Rule) { r.IncludeOwned = true }, obj: obj("", "x", nil, true), want: true},
		{name: "onlyOwned takes owned", rule: func(r *Rule) { r.OnlyOwned = true }, obj: obj("", "x", nil, true), want: true},
		{name: "onlyOwned skips unowned", rule: func(r *Rule) { r.OnlyOwned = true }, obj: obj("", "x", nil, false)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Rule{Name: "r", Match: tt.match}
			if tt.rule != nil {
				tt.rule(&r)
			}
			ref := RefOf(tt.obj)
			got := r.Match.MatchesKind(ref.Group, ref.Kind) && r.MatchesObject(tt.obj)
			if got != tt.want {
				t.Errorf("matches = %v, want %v", got, tt.want)
			}
		})
	}
}
