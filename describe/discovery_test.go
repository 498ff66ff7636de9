package describe

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/config"
)

// discover's report: one row per unowned field, the Secret's value hidden,
// then rules a config file accepts as they are.
func TestDiscovery(t *testing.T) {
	r := capture.NewUnownedReport(capture.DefaultGitOpsManagers)
	for _, f := range []string{"argo-applied.yaml", "provider-wrote.yaml", "secret.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "capture", "testdata", "managed", f))
		if err != nil {
			t.Fatal(err)
		}
		j, err := yaml.YAMLToJSON(b)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(j); err != nil {
			t.Fatal(err)
		}
		r.Add(u)
	}
	var out bytes.Buffer
	if err := Discovery(&out, r, 0.5); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"KIND", "Bucket.s3.aws.upbound.io", `metadata.annotations["crossplane.io/external-name"]`, "provider-aws",
		"Secret", capture.Redacted, "# Proposed rules",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "aHVudGVy") || strings.Contains(s, "hunter") {
		t.Errorf("a Secret value leaked:\n%s", s)
	}
	// The proposed rules load as a config's rules.
	rules := s[strings.Index(s, "\nrules:")+1:]
	doc := "apiVersion: driftback.dev/v1alpha1\nkind: Config\ncluster: c\ngit: {url: https://git.example/r.git, branch: driftback/c}\n" + rules
	p := filepath.Join(t.TempDir(), "driftback.yaml")
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(p); err != nil {
		t.Errorf("proposed rules do not load: %v\n%s", err, doc)
	}
}

func TestDiscoveryNothingFound(t *testing.T) {
	var out bytes.Buffer
	if err := Discovery(&out, capture.NewUnownedReport(capture.DefaultGitOpsManagers), 0.5); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "no field found") {
		t.Errorf("got %q", out.String())
	}
}
