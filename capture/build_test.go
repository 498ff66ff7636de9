package capture

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func service(typ string, status map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "web", "namespace": "shop"},
		"spec":     map[string]any{"type": typ, "selector": map[string]any{}, "ports": []any{}},
		"status":   status,
	}}
}

func TestBuildDropsEmpty(t *testing.T) {
	lb := Rule{Name: "lb", Mode: ModePatch, Match: Match{APIGroups: []string{""}, Kinds: []string{"Service"}}, Fields: paths("status.loadBalancer")}
	tests := []struct {
		name       string
		rules      []Rule
		obj        *unstructured.Unstructured
		wantOK     bool
		wantObject map[string]any
		wantStatus map[string]any
	}{
		{name: "ClusterIP: status.loadBalancer {} is no capture", rules: []Rule{lb},
			obj: service("ClusterIP", map[string]any{"loadBalancer": map[string]any{}})},
		{name: "nested empties are no capture", rules: []Rule{lb},
			obj: service("LoadBalancer", map[string]any{"loadBalancer": map[string]any{"ingress": []any{}, "x": nil}})},
		{name: "empty selected spec maps and lists are no capture",
			rules: []Rule{{Name: "s", Mode: ModePatch, Match: Match{Kinds: []string{"Service"}}, Fields: paths("spec.selector", "spec.ports")}},
			obj:   service("ClusterIP", nil)},
		{name: "empty parts pruned, the rest kept", rules: []Rule{lb},
			obj:        service("LoadBalancer", map[string]any{"loadBalancer": map[string]any{"ingress": []any{map[string]any{"ip": "1.2.3.4", "ports": []any{}}}}}),
			wantOK:     true,
			wantObject: map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": "web", "namespace": "shop"}},
			wantStatus: map[string]any{"loadBalancer": map[string]any{"ingress": []any{map[string]any{"ip": "1.2.3.4"}}}}},
		{name: "hasFields: no ingress, no match", rules: []Rule{func() Rule {
			r := lb
			r.Match.HasFields = paths("status.loadBalancer.ingress")
			return r
		}()}, obj: service("LoadBalancer", map[string]any{"loadBalancer": map[string]any{"ingress": []any{}}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := Build(tt.rules, tt.obj)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v (%#v %#v)", ok, tt.wantOK, c.Object, c.Status)
			}
			if !ok {
				return
			}
			if !reflect.DeepEqual(c.Object, tt.wantObject) || !reflect.DeepEqual(c.Status, tt.wantStatus) {
				t.Errorf("got %#v %#v\nwant %#v %#v", c.Object, c.Status, tt.wantObject, tt.wantStatus)
			}
		})
	}
}

func TestBuildModesAndOwnership(t *testing.T) {
	owned := func(u *unstructured.Unstructured) {
		u.Object["metadata"].(map[string]any)["ownerReferences"] = []any{map[string]any{"apiVersion": "x/v1", "kind": "XR", "name": "o", "uid": "1", "controller": true}}
	}
	xn := paths(`metadata.annotations["crossplane.io/external-name"]`)
	tests := []struct {
		name      string
		rules     []Rule
		obj       *unstructured.Unstructured
		wantOK    bool
		wantMode  Mode
		wantWhole bool
	}{
		{name: "auto keeps patch and whole object",
			rules: []Rule{{Name: "a", Mode: ModeAuto, Match: Match{Kinds: []string{"Bucket"}}, Fields: xn}},
			obj:   bucket(nil), wantOK: true, wantMode: ModeAuto, wantWhole: true},
		{name: "object wins over auto",
			rules: []Rule{{Name: "a", Mode: ModeAuto, Match: Match{Kinds: []string{"Bucket"}}, Fields: xn}, {Name: "o", Mode: ModeObject, Match: Match{Kinds: []string{"Bucket"}}}},
			obj:   bucket(nil), wantOK: true, wantMode: ModeObject},
		{name: "auto wins over patch",
			rules: []Rule{{Name: "p", Mode: ModePatch, Match: Match{Kinds: []string{"Bucket"}}, Fields: xn}, {Name: "a", Mode: ModeAuto, Match: Match{Kinds: []string{"Bucket"}}, Fields: paths("spec.x")}},
			obj:   bucket(nil), wantOK: true, wantMode: ModeAuto, wantWhole: true},
		{name: "onlyOwned skips unowned objects",
			rules: []Rule{{Name: "p", Mode: ModePatch, Match: Match{Kinds: []string{"Bucket"}}, Fields: xn, OnlyOwned: true}},
			obj:   bucket(nil)},
		{name: "onlyOwned takes owned objects",
			rules: []Rule{{Name: "p", Mode: ModePatch, Match: Match{Kinds: []string{"Bucket"}}, Fields: xn, OnlyOwned: true}},
			obj:   bucket(owned), wantOK: true, wantMode: ModePatch},
		{name: "includeOwned takes both",
			rules: []Rule{{Name: "p", Mode: ModePatch, Match: Match{Kinds: []string{"Bucket"}}, Fields: xn, IncludeOwned: true}},
			obj:   bucket(nil), wantOK: true, wantMode: ModePatch},
		{name: "hasFields absent",
			rules: []Rule{{Name: "p", Mode: ModeAuto, Match: Match{Kinds: []string{"Bucket"}, HasFields: paths("spec.claimRef")}, Fields: xn}},
			obj:   bucket(nil)},
		{name: "hasFields present",
			rules: []Rule{{Name: "p", Mode: ModeAuto, Match: Match{Kinds: []string{"Bucket"}, HasFields: xn}, Fields: xn}},
			obj:   bucket(nil), wantOK: true, wantMode: ModeAuto, wantWhole: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := Build(tt.rules, tt.obj)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				return
			}
			if c.Mode != tt.wantMode || (c.Whole != nil) != tt.wantWhole {
				t.Errorf("mode %s whole %v, want %s %v", c.Mode, c.Whole != nil, tt.wantMode, tt.wantWhole)
			}
			for _, o := range []map[string]any{c.Object, c.Whole} {
				if o == nil {
					continue
				}
				md := o["metadata"].(map[string]any)
				for _, k := range []string{"ownerReferences", "uid", "managedFields", "resourceVersion"} {
					if _, bad := md[k]; bad {
						t.Errorf("%s kept", k)
					}
				}
				if _, bad := o["status"]; bad {
					t.Error("status kept in the object")
				}
			}
		})
	}
}

func TestSanitizeDropsToolLabels(t *testing.T) {
	u := bucket(func(u *unstructured.Unstructured) {
		u.SetLabels(map[string]string{"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"})
	})
	out := Sanitize(u.Object)
	if _, ok := out["metadata"].(map[string]any)["labels"]; ok {
		t.Errorf("Flux labels kept: %v", out["metadata"])
	}
	r := Rule{Name: "l", Mode: ModePatch, Match: Match{Kinds: []string{"*"}}, Fields: paths("metadata.labels")}
	if c, ok := Build([]Rule{r}, u); ok {
		t.Errorf("Flux labels captured: %v", c.Object)
	}
}

// A rule selecting all annotations must not carry the last-applied manifest
// (for a Secret, its values) or Argo CD's tracking id.
func TestBuildDropsToolAnnotations(t *testing.T) {
	r := Rule{Name: "ann", Mode: ModePatch, Match: Match{Kinds: []string{"*"}}, Fields: paths("metadata.annotations")}
	c, ok := Build([]Rule{r}, bucket(nil))
	if !ok {
		t.Fatal("no capture")
	}
	want := map[string]any{"crossplane.io/external-name": "logs-7f3a"}
	if got := c.Object["metadata"].(map[string]any)["annotations"]; !reflect.DeepEqual(got, want) {
		t.Errorf("annotations = %#v, want %#v", got, want)
	}
}
