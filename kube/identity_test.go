package kube

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	metadatafake "k8s.io/client-go/metadata/fake"
)

func TestIdentity(t *testing.T) {
	scheme := metadatafake.NewTestScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	ks := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: "kube-system", UID: types.UID("6f1c0d2e")}}
	uid, err := Identity(context.Background(), metadatafake.NewSimpleMetadataClient(scheme, ks))
	if err != nil || uid != "6f1c0d2e" {
		t.Fatalf("Identity = %q, %v", uid, err)
	}
	// No kube-system (a cluster we may not read): an error that says what
	// was read, never an empty identity.
	_, err = Identity(context.Background(), metadatafake.NewSimpleMetadataClient(scheme, []runtime.Object{}...))
	if err == nil || !strings.Contains(err.Error(), "kube-system") {
		t.Fatalf("err = %v", err)
	}
}
