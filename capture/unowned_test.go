package capture

import (
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

func TestUnownedReport(t *testing.T) {
	r := NewUnownedReport(DefaultGitOpsManagers)
	for _, f := range []string{"argo-applied.yaml", "provider-wrote.yaml", "secret.yaml", "deployment-lists.yaml"} {
		r.Add(loadFixture(t, f))
	}
	type row struct{ kind, path, manager, example string }
	var got []row
	for _, f := range r.Fields() {
		got = append(got, row{f.Kind, f.Path, f.Manager, f.Example})
	}
	want := []row{
		{"Secret", "data.password", "provider-sql", Redacted},
		{"Deployment", `metadata.annotations["deployment.kubernetes.io/revision"]`, "image-updater", `"3"`},
		{"Deployment", "spec.template.spec.containers[*].image", "image-updater", `"web:7"`},
		{"Bucket", `metadata.annotations["crossplane.io/external-name"]`, "provider-aws", `"logs-7f3a"`},
		{"Bucket", "spec.forProvider.objectLockEnabled", "provider-aws", "false"},
		{"Bucket", "status.atProvider.arn", "provider-aws/status", `"arn:aws:s3:::logs-from-git"`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields =\n%v\nwant\n%v", got, want)
	}
	if r.Objects("s3.aws.upbound.io", "Bucket") != 2 {
		t.Errorf("buckets seen = %d", r.Objects("s3.aws.upbound.io", "Bucket"))
	}
	for _, f := range r.Fields() {
		if strings.Contains(f.Example, "aHVudGVy") {
			t.Errorf("a Secret value leaked: %+v", f)
		}
	}
}

func TestSuggest(t *testing.T) {
	r := NewUnownedReport(DefaultGitOpsManagers)
	for _, f := range []string{"argo-applied.yaml", "provider-wrote.yaml", "secret.yaml", "deployment-lists.yaml"} {
		r.Add(loadFixture(t, f))
	}
	tests := []struct {
		minShare float64
		want     map[string][]string
	}{
		{minShare: 0.5, want: map[string][]string{
			"discovered-bucket-s3-aws-upbound-io": {`metadata.annotations["crossplane.io/external-name"]`, "spec.forProvider", "status.atProvider"},
			"discovered-deployment-apps":          {`metadata.annotations["deployment.kubernetes.io/revision"]`, "spec.template"},
		}},
		{minShare: 1, want: map[string][]string{
			"discovered-deployment-apps": {`metadata.annotations["deployment.kubernetes.io/revision"]`, "spec.template"},
		}},
	}
	for _, tt := range tests {
		got := map[string][]string{}
		for _, s := range r.Suggest(tt.minShare) {
			got[s.Name] = s.Fields
			for _, f := range s.Fields {
				if _, err := ParsePath(f); err != nil {
					t.Errorf("suggested path %q does not parse: %v", f, err)
				}
			}
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Suggest(%v) = %v, want %v", tt.minShare, got, tt.want)
		}
	}
}

func TestSuggestIncludeOwned(t *testing.T) {
	r := NewUnownedReport(DefaultGitOpsManagers)
	u := loadFixture(t, "provider-wrote.yaml")
	u.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "x/v1", Kind: "XR", Name: "o", UID: "1", Controller: ptr(true)}})
	r.Add(u)
	s := r.Suggest(0.5)
	if len(s) != 1 || !s[0].IncludeOwned {
		t.Errorf("suggestions = %+v, want one with IncludeOwned", s)
	}
}

func ptr[T any](v T) *T { return &v }

func TestRulePathRoundTrip(t *testing.T) {
	tests := []struct {
		path fieldpath.Path
		want string
	}{
		{fieldpath.MakePathOrDie("spec", "volumeName"), "spec.volumeName"},
		{fieldpath.MakePathOrDie("metadata", "annotations", "crossplane.io/external-name"), `metadata.annotations["crossplane.io/external-name"]`},
		{fieldpath.MakePathOrDie("status", "loadBalancer", "ingress", 0, "ip"), "status.loadBalancer.ingress[*].ip"},
		{fieldpath.MakePathOrDie("metadata", "labels", `we"ird`), `metadata.labels["we\"ird"]`},
		{fieldpath.MakePathOrDie("metadata", "labels", `a<b\\c`), `metadata.labels["a<b\\\\c"]`},
	}
	for _, tt := range tests {
		got := RulePath(tt.path)
		if got != tt.want {
			t.Errorf("RulePath(%v) = %s, want %s", tt.path, got, tt.want)
		}
		p, err := ParsePath(got)
		if err != nil {
			t.Fatalf("%s does not parse: %v", got, err)
		}
		last := tt.path[len(tt.path)-1]
		if last.FieldName != nil && p.segs[len(p.segs)-1].key != *last.FieldName {
			t.Errorf("%s parses back to key %q, want %q", got, p.segs[len(p.segs)-1].key, *last.FieldName)
		}
	}
}
