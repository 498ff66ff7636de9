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

func TestOnlyWhatGitLacks(t *testing.T) {
	tests := []struct {
		name     string
		fixture  string
		managers []string
		fields   []string
		// want is the captured object without apiVersion/kind/name/namespace;
		// nil: no capture at all.
		want       map[string]any
		wantStatus map[string]any
	}{
		{
			name:       "fields Argo CD applied are dropped; the provider's (status subresource too) and unowned ones kept",
			fixture:    "argo-applied.yaml",
			managers:   DefaultGitOpsManagers,
			fields:     []string{`metadata.annotations["crossplane.io/external-name"]`, "spec.forProvider", "status.atProvider"},
			want:       map[string]any{"spec": map[string]any{"forProvider": map[string]any{"objectLockEnabled": false, "defaulted": "x"}}},
			wantStatus: map[string]any{"atProvider": map[string]any{"arn": "arn:aws:s3:::logs-from-git"}},
		},
		{
			name:     "a list the GitOps tool owns goes whole",
			fixture:  "argo-applied.yaml",
			managers: DefaultGitOpsManagers,
			fields:   []string{"spec.forProvider.tags", `metadata.annotations["crossplane.io/external-name"]`},
			want:     nil,
		},
		{
			name:     "no managers: everything selected is kept",
			fixture:  "argo-applied.yaml",
			managers: nil,
			fields:   []string{`metadata.annotations["crossplane.io/external-name"]`, "spec.forProvider.region"},
			want: map[string]any{
				"metadata": map[string]any{"annotations": map[string]any{"crossplane.io/external-name": "logs-from-git"}},
				"spec":     map[string]any{"forProvider": map[string]any{"region": "eu-west-1"}},
			},
		},
		{
			name:     "managers are globs",
			fixture:  "argo-applied.yaml",
			managers: []string{"argocd-*", "provider-*"},
			fields:   []string{"spec.forProvider.objectLockEnabled", "spec.forProvider.region"},
			want:     nil,
		},
		{
			name:     "the provider wrote the external name; a field co-owned with a runtime manager is kept",
			fixture:  "provider-wrote.yaml",
			managers: DefaultGitOpsManagers,
			fields:   []string{`metadata.annotations["crossplane.io/external-name"]`, "spec.forProvider.region"},
			want: map[string]any{
				"metadata": map[string]any{"annotations": map[string]any{"crossplane.io/external-name": "logs-7f3a"}},
				"spec":     map[string]any{"forProvider": map[string]any{"region": "eu-west-1"}},
			},
		},
		{
			name:     "last-applied: equal values dropped, drifted values kept",
			fixture:  "last-applied.yaml",
			managers: DefaultGitOpsManagers,
			fields:   []string{"spec.replicas", "spec.paused", "spec.template"},
			want:     map[string]any{"spec": map[string]any{"replicas": int64(5)}},
		},
		{
			name:     "last-applied written by a non-GitOps manager is ignored",
			fixture:  "human-last-applied.yaml",
			managers: DefaultGitOpsManagers,
			fields:   []string{"spec.replicas"},
			want:     map[string]any{"spec": map[string]any{"replicas": int64(5)}},
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
			if tt.want == nil && tt.wantStatus == nil {
				if ok {
					t.Fatalf("captured %#v %#v, want nothing", c.Object, c.Status)
				}
				return
			}
			if !ok {
				t.Fatal("no capture")
			}
			got := map[string]any{}
			for k, v := range c.Object {
				got[k] = v
			}
			delete(got, "apiVersion")
			delete(got, "kind")
			md := map[string]any{}
			for k, v := range got["metadata"].(map[string]any) {
				if k != "name" && k != "namespace" {
					md[k] = v
				}
			}
			delete(got, "metadata")
			if len(md) > 0 {
				got["metadata"] = md
			}
			want := tt.want
			if want == nil {
				want = map[string]any{}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("captured\n%#v\nwant\n%#v", got, want)
			}
			if !reflect.DeepEqual(c.Status, tt.wantStatus) {
				t.Errorf("status = %#v, want %#v", c.Status, tt.wantStatus)
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
