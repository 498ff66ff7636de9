package render

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"sigs.k8s.io/yaml"

	"github.com/driftback/driftback/capture"
)

// fluxBase is a Flux fleet: apps/payments is a plain directory (Flux
// generates its kustomization.yaml), apps/storage a kustomization whose
// object names hold postBuild variables.
func fluxBase() fstest.MapFS {
	return fstest.MapFS{
		"apps/payments/cluster.yaml":                {Data: []byte("apiVersion: infra.example.com/v1alpha1\nkind: KubernetesCluster\nmetadata:\n  name: payments\n  namespace: team\nspec:\n  region: ${region}\n")},
		"apps/payments/notes.txt":                   {Data: []byte("not a manifest")},
		"apps/payments/extra/bucket.yml":            {Data: []byte("apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata:\n  name: logs\n")},
		"apps/payments/lib/kustomization.yaml":      {Data: []byte("resources: [cm.yaml]\n")},
		"apps/payments/lib/cm.yaml":                 {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lib\n")},
		"apps/storage/kustomization.yaml":           {Data: []byte("resources: [bucket.yaml]\n")},
		"apps/storage/bucket.yaml":                  {Data: []byte("apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata:\n  name: ${cluster_name}-logs\nspec:\n  forProvider:\n    region: ${region:=eu-west-1}\n")},
		"clusters/demo/driftback/.driftback.yaml":   {Data: []byte("kept")},
		"clusters/demo/payments/kustomization.yaml": {Data: []byte("resources: [../../../apps/payments/cluster.yaml]\n")},
	}
}

// A plain directory in overlay.resources is refused with the
// kustomization.yaml Flux's generator would write for it.
func TestPlainDirectoryNamesWhatToWrite(t *testing.T) {
	_, err := IndexBase(fluxBase(), "clusters/demo/driftback", []string{"../../../apps/storage", "../../../apps/payments"})
	var pd *PlainDirError
	if !errors.As(err, &pd) {
		t.Fatalf("err = %v, want a PlainDirError", err)
	}
	if pd.Index != 1 || pd.Dir != "apps/payments" {
		t.Errorf("names overlay.resources[%d] %s, want [1] apps/payments", pd.Index, pd.Dir)
	}
	want := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ./cluster.yaml\n- ./extra/bucket.yml\n- ./lib\n"
	if string(pd.Kustomization) != want {
		t.Errorf("proposed kustomization.yaml:\n%s\nwant:\n%s", pd.Kustomization, want)
	}
	for _, s := range []string{`overlay.resources[1] "../../../apps/payments"`, "apps/payments/kustomization.yaml", "- ./lib"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q: %v", s, err)
		}
	}
	// What it proposes builds, and the overlay over it verifies.
	repo := fluxBase()
	repo["apps/payments/kustomization.yaml"] = &fstest.MapFile{Data: pd.Kustomization}
	if _, err := IndexBase(repo, "clusters/demo/driftback", []string{"../../../apps/payments"}); err != nil {
		t.Fatalf("with the proposed kustomization.yaml: %v", err)
	}
}

func patchMeta(t *testing.T, tree Tree, p string) map[string]any {
	t.Helper()
	b, ok := tree[p]
	if !ok {
		t.Fatalf("missing %s; files: %v", p, tree.Paths())
	}
	var obj map[string]any
	if err := yaml.Unmarshal(b, &obj); err != nil {
		t.Fatal(err)
	}
	md, _ := obj["metadata"].(map[string]any)
	return md
}

// With a Flux Kustomization that renames objects, patches address the base's
// objects by the names kustomize sees before Flux's transformers (its
// generator puts them into the overlay's own kustomization.yaml, where
// patches run first), and by their ${var} names before substitution.
func TestFluxTransformAddressing(t *testing.T) {
	repo := fluxBase()
	repo["apps/payments/kustomization.yaml"] = &fstest.MapFile{Data: []byte("resources: [cluster.yaml]\n")}
	dir := "clusters/demo/driftback"
	resources := []string{"../../../apps/payments", "../../../apps/storage"}
	flux := FluxTransform{TargetNamespace: "apps", NamePrefix: "demo-"}
	idx, err := IndexBaseFor(repo, dir, resources, flux)
	if err != nil {
		t.Fatal(err)
	}
	xn := map[string]any{"crossplane.io/external-name": "demo-logs-7f3a"}
	caps := []capture.Capture{
		{ // lives as apps/demo-payments; the base says team/payments
			Ref:  capture.ObjectRef{Group: "infra.example.com", Version: "v1alpha1", Kind: "KubernetesCluster", Namespace: "apps", Name: "demo-payments"},
			Mode: capture.ModePatch,
			Object: map[string]any{"apiVersion": "infra.example.com/v1alpha1", "kind": "KubernetesCluster",
				"metadata": map[string]any{"name": "demo-payments", "namespace": "apps"},
				"spec":     map[string]any{"region": "eu-west-1", "endpoint": "10.0.0.1"}},
			Applied: map[string]any{"spec": map[string]any{"region": "eu-west-1"}},
			Status:  map[string]any{"phase": "Ready"},
		},
		{ // lives as demo-payments-logs (cluster-scoped): base ${cluster_name}-logs
			Ref:  capture.ObjectRef{Group: "s3.aws.upbound.io", Version: "v1beta1", Kind: "Bucket", Name: "demo-payments-logs"},
			Mode: capture.ModeAuto,
			Object: map[string]any{"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket",
				"metadata": map[string]any{"name": "demo-payments-logs", "annotations": xn}},
			Whole: map[string]any{"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket",
				"metadata": map[string]any{"name": "demo-payments-logs", "annotations": xn}},
		},
		{ // created at run time under Flux's prefix: written without it
			Ref:    capture.ObjectRef{Group: "s3.aws.upbound.io", Version: "v1beta1", Kind: "Bucket", Name: "demo-composed-1"},
			Mode:   capture.ModeObject,
			Object: map[string]any{"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket", "metadata": map[string]any{"name": "demo-composed-1"}},
		},
		{ // created at run time without it: Flux would rename it, so not applied
			Ref:    capture.ObjectRef{Group: "s3.aws.upbound.io", Version: "v1beta1", Kind: "Bucket", Name: "x7k2"},
			Mode:   capture.ModeObject,
			Object: map[string]any{"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket", "metadata": map[string]any{"name": "x7k2"}},
		},
	}
	tree, err := Render(caps, Layout{Cluster: "demo", ClusterUID: "uid", Resources: resources, Base: idx, Flux: flux})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file, name, namespace string
	}{
		{"patches/apps/infra.example.com_KubernetesCluster/bc/demo-payments.yaml", "payments", "team"},
		{"patches/_cluster/s3.aws.upbound.io_Bucket/76/demo-payments-logs.yaml", "${cluster_name}-logs", ""},
		{"resources/_cluster/s3.aws.upbound.io_Bucket/2b/demo-composed-1.yaml", "composed-1", ""},
		{"unmatched/_cluster/s3.aws.upbound.io_Bucket/9d/x7k2.yaml", "x7k2", ""},
		{"status/apps/infra.example.com_KubernetesCluster/bc/demo-payments.yaml", "demo-payments", "apps"},
	}
	for _, tt := range tests {
		md := patchMeta(t, tree, tt.file)
		if md["name"] != tt.name || (md["namespace"] != nil || tt.namespace != "") && md["namespace"] != tt.namespace {
			t.Errorf("%s: metadata %v, want name %q namespace %q", tt.file, md, tt.name, tt.namespace)
		}
	}
	// ${region} in the base was substituted by Flux: Git holds it, the
	// overlay must not freeze eu-west-1 into a literal. endpoint stays.
	p := string(tree["patches/apps/infra.example.com_KubernetesCluster/bc/demo-payments.yaml"])
	if strings.Contains(p, "region") || !strings.Contains(p, "endpoint: 10.0.0.1") {
		t.Errorf("patch:\n%s\nwant endpoint and no region", p)
	}
	if err := Verify(repo, dir, tree); err != nil {
		t.Fatalf("the overlay does not build: %v", err)
	}
}

func TestVarPattern(t *testing.T) {
	tests := []struct {
		tmpl, s string
		want    bool
	}{
		{"${cluster_name}-logs", "payments-logs", true},
		{"${cluster_name}-logs", "payments-data", false},
		{"demo-${a}.${b:=x}", "demo-1.2", true},
		{"${region:-eu}", "us-east-1", true},
		{"plain", "plain", true},
	}
	for _, tt := range tests {
		if got := varPattern(tt.tmpl).MatchString(tt.s); got != tt.want {
			t.Errorf("varPattern(%q).Match(%q) = %v, want %v", tt.tmpl, tt.s, got, tt.want)
		}
	}
	if hasVar("$notavar") || !hasVar("x-${y}") {
		t.Error("hasVar")
	}
}
