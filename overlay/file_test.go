package overlay

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// A file names its live object by its path: a patch's metadata addresses the
// object as the overlay's build sees it, which under Flux's targetNamespace,
// namePrefix or postBuild differs from the live name.
func TestFileIdentity(t *testing.T) {
	obj := func(name, ns string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetName(name)
		u.SetNamespace(ns)
		return u
	}
	tests := []struct {
		path, name, ns       string
		wantName, wantNSpace string
	}{
		{"patches/default/infra.example.com_KubernetesCluster/payments.yaml", "payments", "", "payments", "default"},
		{"patches/payments/infra.example.com_KubernetesCluster/payments.yaml", "${cluster_name}", "team", "payments", "payments"},
		{"patches/_cluster/s3.aws.upbound.io_Bucket/demo-logs.yaml", "logs", "", "demo-logs", ""},
		{"resources/_cluster/s3.aws.upbound.io_Bucket/demo-composed-1.yaml", "composed-1", "", "demo-composed-1", ""},
		{"odd.yaml", "x", "y", "x", "y"},
	}
	for _, tt := range tests {
		f := File{Path: tt.path, Object: obj(tt.name, tt.ns)}
		if f.Name() != tt.wantName || f.Namespace() != tt.wantNSpace {
			t.Errorf("%s: Name %q Namespace %q, want %q %q", tt.path, f.Name(), f.Namespace(), tt.wantName, tt.wantNSpace)
		}
	}
}
