package capture

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func loadFixture(t *testing.T, name string) *unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "managed", name))
	if err != nil {
		t.Fatal(err)
	}
	// Through JSON, as the apiserver hands objects over (integers are int64).
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(j); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return u
}

// TestApplied checks which captured leaves are marked as applied by the
// GitOps tool. Marked leaves stay in the capture: render drops them only
// when the Git base holds the same value.
func TestApplied(t *testing.T) {
	xn := map[string]any{"annotations": map[string]any{"crossplane.io/external-name": "logs-from-git"}}
	tags := []any{map[string]any{"key": "team", "value": "a"}}
	tests := []struct {
		name     string
		fixture  string
		managers []string
		fields   []string
		want     map[string]any
	}{
		{
			name:     "what Argo CD applied is marked; the provider's (status subresource too) and unowned fields are not",
			fixture:  "argo-applied.yaml",
			managers: DefaultGitOpsManagers,
			fields:   []string{`metadata.annotations["crossplane.io/external-name"]`, "spec.forProvider", "status.atProvider"},
			want:     map[string]any{"metadata": xn, "spec": map[string]any{"forProvider": map[string]any{"region": "eu-west-1", "tags": tags}}},
		},
		{
			name:     "a list the GitOps tool owns is marked whole",
			fixture:  "argo-applied.yaml",
			managers: DefaultGitOpsManagers,
			fields:   []string{"spec.forProvider.tags"},
			want:     map[string]any{"spec": map[string]any{"forProvider": map[string]any{"tags": tags}}},
		},
		{
			name:     "no managers: nothing marked",
			fixture:  "argo-applied.yaml",
			managers: nil,
			fields:   []string{`metadata.annotations["crossplane.io/external-name"]`, "spec.forProvider.region"},
		},
		{
			name:     "managers are globs",
			fixture:  "argo-applied.yaml",
			managers: []string{"argocd-*", "provider-*"},
			fields:   []string{"spec.forProvider.objectLockEnabled", "spec.forProvider.region"},
			want:     map[string]any{"spec": map[string]any{"forProvider": map[string]any{"objectLockEnabled": false, "region": "eu-west-1"}}},
		},
		{
			name:     "the provider wrote the external name; a field co-owned with a runtime manager is not marked",
			fixture:  "provider-wrote.yaml",
			managers: DefaultGitOpsManagers,
			fields:   []string{`metadata.annotations["crossplane.io/external-name"]`, "spec.forProvider.region"},
		},
		{
			name:     "last-applied: equal values marked, drifted values not",
			fixture:  "last-applied.yaml",
			managers: DefaultGitOpsManagers,
			fields:   []string{"spec.replicas", "spec.paused", "spec.template"},
			want: map[string]any{"spec": map[string]any{"paused": false, "template": map[string]any{"spec": map[string]any{
				"containers": []any{map[string]any{"name": "web", "image": "web:1"}}}}}},
		},
		{
			name:     "no entry by a GitOps manager: nothing marked (fieldsV1 is not even read)",
			fixture:  "argo-applied.yaml",
			managers: []string{"flux-*"},
			fields:   []string{`metadata.annotations["crossplane.io/external-name"]`, "spec.forProvider.region"},
		},
		{
			name:     "last-applied written by a non-GitOps manager is ignored",
			fixture:  "human-last-applied.yaml",
			managers: DefaultGitOpsManagers,
			fields:   []string{"spec.replicas"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := loadFixture(t, tt.fixture)
			r := Rule{Name: "r", Mode: ModePatch, Match: Match{Kinds: []string{"*"}}, GitOpsManagers: tt.managers}
			for _, f := range tt.fields {
				r.Fields = append(r.Fields, MustParsePath(f))
			}
			c, ok := Build([]Rule{r}, u)
			if !ok {
				t.Fatal("no capture: marked fields must stay captured")
			}
			if !reflect.DeepEqual(c.Applied, tt.want) {
				t.Errorf("applied =\n%#v\nwant\n%#v", c.Applied, tt.want)
			}
			for _, f := range tt.fields {
				if p := MustParsePath(f); p.Root() != "status" && !p.Present(c.Object) {
					t.Errorf("%s left the capture", f)
				}
			}
		})
	}
}

func TestIsGitOpsManager(t *testing.T) {
	for _, tt := range []struct {
		name string
		want bool
	}{{"argocd-controller", true}, {"kustomize-controller", true}, {"kubectl-client-side-apply", true}, {"kubectl", false}, {"kube-controller-manager", false}, {"", false}} {
		if got := IsGitOpsManager(tt.name, DefaultGitOpsManagers); got != tt.want {
			t.Errorf("IsGitOpsManager(%q) = %v", tt.name, got)
		}
	}
}

func TestHasManager(t *testing.T) {
	tests := []struct {
		fixture  string
		managers []string
		want     bool
	}{
		{"argo-applied.yaml", DefaultGitOpsManagers, true},
		{"argo-applied.yaml", []string{"argocd-*"}, true},
		{"argo-applied.yaml", []string{"flux-*"}, false},
		{"argo-applied.yaml", nil, false},
		{"provider-wrote.yaml", []string{"provider-*"}, true},
	}
	for _, tt := range tests {
		u := loadFixture(t, tt.fixture)
		if got := hasManager(u, tt.managers); got != tt.want {
			t.Errorf("hasManager(%s, %v) = %v, want %v", tt.fixture, tt.managers, got, tt.want)
		}
	}
	if hasManager(&unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"managedFields": "garbage"}}}, []string{"*"}) {
		t.Error("hasManager on malformed managedFields = true")
	}
}
