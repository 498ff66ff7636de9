package capture

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestNeedsFor(t *testing.T) {
	xn := Rule{Name: "xn", Mode: ModePatch, Match: Match{APIGroups: []string{"*.aws.upbound.io"}, Kinds: []string{"*"}}, Fields: paths(`metadata.annotations["crossplane.io/external-name"]`)}
	st := Rule{Name: "st", Mode: ModePatch, Match: Match{Kinds: []string{"Bucket"}, HasFields: paths("spec.forProvider")}, Fields: paths("status.atProvider"), Exclude: paths("status.atProvider.lastSeen")}
	obj := Rule{Name: "obj", Mode: ModeAuto, Match: Match{Kinds: []string{"VPC"}}, Fields: paths(`metadata.annotations["crossplane.io/external-name"]`)}
	tests := []struct {
		name        string
		rules       []Rule
		kind        string
		wantWhole   bool
		wantMetaOnl bool
		wantPaths   []string
	}{
		{name: "metadata only", rules: []Rule{xn}, kind: "Bucket", wantMetaOnl: true},
		{name: "fields and hasFields outside metadata", rules: []Rule{xn, st}, kind: "Bucket", wantPaths: []string{"status.atProvider", "spec.forProvider"}},
		{name: "whole object", rules: []Rule{xn, st, obj}, kind: "VPC", wantWhole: true},
		{name: "no rule", rules: []Rule{st}, kind: "VPC", wantMetaOnl: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := NeedsFor(tt.rules, "s3.aws.upbound.io", tt.kind)
			var got []string
			for _, p := range n.Paths {
				got = append(got, p.String())
			}
			if n.Whole != tt.wantWhole || n.MetadataOnly != tt.wantMetaOnl || !reflect.DeepEqual(got, tt.wantPaths) {
				t.Errorf("needs = %+v (paths %v)", n, got)
			}
		})
	}
}

// Build must give the same capture on a stripped object as on the whole one,
// the GitOps filter included (it reads managedFields and annotations).
func TestBuildOnStripped(t *testing.T) {
	u := loadFixture(t, "argo-applied.yaml")
	rules := []Rule{
		{Name: "xn", Mode: ModePatch, Match: Match{Kinds: []string{"*"}}, Fields: paths(`metadata.annotations["crossplane.io/external-name"]`), GitOpsManagers: DefaultGitOpsManagers},
		{Name: "st", Mode: ModePatch, Match: Match{Kinds: []string{"Bucket"}, HasFields: paths("spec.forProvider.region")}, Fields: paths("status.atProvider", "spec.forProvider.objectLockEnabled"), GitOpsManagers: DefaultGitOpsManagers},
	}
	n := NeedsFor(rules, "s3.aws.upbound.io", "Bucket")
	stripped := &unstructured.Unstructured{Object: n.Strip(u.Object)}
	if _, ok := stripped.Object["spec"].(map[string]any)["forProvider"].(map[string]any)["tags"]; ok {
		t.Error("Strip kept a field no rule reads")
	}
	want, ok1 := Build(rules, u)
	got, ok2 := Build(rules, stripped)
	if !ok1 || !ok2 || !reflect.DeepEqual(want, got) {
		t.Errorf("stripped capture differs:\n%#v\nwant\n%#v", got, want)
	}
}
