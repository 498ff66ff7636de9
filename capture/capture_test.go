package capture

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

func bucket(mut func(u *unstructured.Unstructured)) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "s3.aws.upbound.io/v1beta1",
		"kind":       "Bucket",
		"metadata": map[string]any{
			"name":              "logs",
			"uid":               "u-1",
			"resourceVersion":   "42",
			"generation":        int64(3),
			"creationTimestamp": "2026-01-01T00:00:00Z",
			"labels":            map[string]any{"team": "a"},
			"annotations": map[string]any{
				"crossplane.io/external-name":                      "logs-7f3a",
				"kubectl.kubernetes.io/last-applied-configuration": "{}",
				"argocd.argoproj.io/tracking-id":                   "app:s3/Bucket:logs",
			},
			"managedFields": []any{map[string]any{"manager": "argocd-controller"}},
		},
		"spec":   map[string]any{"forProvider": map[string]any{"region": "eu-west-1"}},
		"status": map[string]any{"atProvider": map[string]any{"arn": "arn:1"}, "observedGeneration": int64(3)},
	}}
	if mut != nil {
		mut(u)
	}
	return u
}

func rule(name string, mode Mode, fields []string, exclude ...string) Rule {
	r := Rule{Name: name, Mode: mode, Match: Match{APIGroups: []string{"*.aws.upbound.io"}, Kinds: []string{"Bucket"}}}
	for _, f := range fields {
		r.Fields = append(r.Fields, MustParsePath(f))
	}
	for _, e := range exclude {
		r.Exclude = append(r.Exclude, MustParsePath(e))
	}
	return r
}

func TestBuild(t *testing.T) {
	truth := true
	externalName := []string{`metadata.annotations["crossplane.io/external-name"]`}
	tests := []struct {
		name       string
		rules      []Rule
		obj        *unstructured.Unstructured
		wantOK     bool
		wantMode   Mode
		wantObject map[string]any
		wantStatus map[string]any
	}{
		{
			name:   "patch keeps identity and the selected annotation only",
			rules:  []Rule{rule("xn", ModePatch, externalName)},
			obj:    bucket(nil),
			wantOK: true, wantMode: ModePatch,
			wantObject: map[string]any{"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket",
				"metadata": map[string]any{"name": "logs", "annotations": map[string]any{"crossplane.io/external-name": "logs-7f3a"}}},
		},
		{
			name:   "status goes apart, excluded fields dropped",
			rules:  []Rule{rule("st", ModePatch, []string{"status"}, "status.observedGeneration")},
			obj:    bucket(nil),
			wantOK: true, wantMode: ModePatch,
			wantObject: map[string]any{"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket", "metadata": map[string]any{"name": "logs"}},
			wantStatus: map[string]any{"atProvider": map[string]any{"arn": "arn:1"}},
		},
		{
			name:   "nothing at the selected path: no capture",
			rules:  []Rule{rule("xn", ModePatch, []string{"spec.missing"})},
			obj:    bucket(nil),
			wantOK: false,
		},
		{
			name:   "other kind: no capture",
			rules:  []Rule{{Name: "x", Mode: ModePatch, Match: Match{Kinds: []string{"VPC"}}, Fields: []Path{MustParsePath("spec")}}},
			obj:    bucket(nil),
			wantOK: false,
		},
		{
			name:  "controller-owned objects are skipped by default",
			rules: []Rule{rule("xn", ModePatch, externalName)},
			obj: bucket(func(u *unstructured.Unstructured) {
				u.Object["metadata"].(map[string]any)["ownerReferences"] = []any{map[string]any{"apiVersion": "v1", "kind": "X", "name": "o", "uid": "1", "controller": truth}}
			}),
			wantOK: false,
		},
		{
			name: "label selector filters",
			rules: []Rule{func() Rule {
				r := rule("xn", ModePatch, externalName)
				r.Match.Selector = labels.SelectorFromSet(labels.Set{"team": "b"})
				return r
			}()},
			obj: bucket(nil), wantOK: false,
		},
		{
			name: "object mode sanitizes; owned objects opt in",
			rules: []Rule{func() Rule {
				r := rule("mr", ModeObject, []string{"status.atProvider"})
				r.IncludeOwned = true
				return r
			}()},
			obj: bucket(func(u *unstructured.Unstructured) {
				u.Object["metadata"].(map[string]any)["ownerReferences"] = []any{map[string]any{"apiVersion": "v1", "kind": "X", "name": "o", "uid": "1", "controller": truth}}
			}),
			wantOK: true, wantMode: ModeObject,
			wantObject: map[string]any{"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket",
				"metadata": map[string]any{"name": "logs", "labels": map[string]any{"team": "a"},
					"annotations": map[string]any{"crossplane.io/external-name": "logs-7f3a"}},
				"spec": map[string]any{"forProvider": map[string]any{"region": "eu-west-1"}}},
			wantStatus: map[string]any{"atProvider": map[string]any{"arn": "arn:1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.obj.DeepCopy()
			c, ok := Build(tt.rules, tt.obj)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v (capture %+v)", ok, tt.wantOK, c)
			}
			if !reflect.DeepEqual(before, tt.obj) {
				t.Error("Build modified the live object")
			}
			if !ok {
				return
			}
			if c.Mode != tt.wantMode {
				t.Errorf("mode = %s, want %s", c.Mode, tt.wantMode)
			}
			if !reflect.DeepEqual(c.Object, tt.wantObject) {
				t.Errorf("object =\n%#v\nwant\n%#v", c.Object, tt.wantObject)
			}
			if !reflect.DeepEqual(c.Status, tt.wantStatus) {
				t.Errorf("status = %#v, want %#v", c.Status, tt.wantStatus)
			}
		})
	}
}

func TestBuildMergesRules(t *testing.T) {
	c, ok := Build([]Rule{
		rule("b-status", ModePatch, []string{"status.atProvider"}),
		rule("a-name", ModePatch, []string{`metadata.annotations["crossplane.io/external-name"]`}),
	}, bucket(nil))
	if !ok {
		t.Fatal("no capture")
	}
	if !reflect.DeepEqual(c.Rules, []string{"a-name", "b-status"}) {
		t.Errorf("rules = %v", c.Rules)
	}
	if c.Status == nil || c.Object["metadata"].(map[string]any)["annotations"] == nil {
		t.Errorf("merged capture lacks a part: %+v", c)
	}
}

func TestSpellsGroupVersion(t *testing.T) {
	tests := []struct {
		s, group, version string
		want              bool
	}{
		{"v1", "", "v1", true},
		{"apps/v1", "apps", "v1", true},
		{"s3.aws.upbound.io/v1beta1", "s3.aws.upbound.io", "v1beta1", true},
		{"apps/v1", "", "v1", false},
		{"v1", "apps", "v1", false},
		{"apps/v2", "apps", "v1", false},
		{"appsXv1", "apps", "v1", false},
		{"batch/v1", "apps", "v1", false},
	}
	for _, tt := range tests {
		if got := spellsGroupVersion(tt.s, tt.group, tt.version); got != tt.want {
			t.Errorf("spellsGroupVersion(%q, %q, %q) = %v, want %v", tt.s, tt.group, tt.version, got, tt.want)
		}
		// Whatever the object's string, the capture's apiVersion is the ref's.
		ref := ObjectRef{Group: tt.group, Version: tt.version, Kind: "K", Name: "n"}
		if got := identity(ref, tt.s)["apiVersion"]; got != ref.APIVersion() {
			t.Errorf("identity(%+v, %q) apiVersion = %v, want %s", ref, tt.s, got, ref.APIVersion())
		}
	}
}
