package main

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/driftback/driftback/config"
)

var storageBucketGVR = schema.GroupVersionResource{Group: "storage.cnrm.cloud.google.com", Version: "v1beta1", Resource: "storagebuckets"}

// TestDiscover plays Argo CD applying two buckets, Config Connector filling
// their resource IDs, and a controller writing a Secret, then checks that
// discover reports the runtime fields only, hides the Secret's value, and
// proposes a rule the config loader accepts.
func TestDiscover(t *testing.T) {
	ctx := context.Background()
	core := kubernetes.NewForConfigOrDie(cp.Config)
	dyn := dynamic.NewForConfigOrDie(cp.Config)
	const ns = "discover-team"
	if _, err := core.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	apply := func(manager string, obj map[string]any, status bool) {
		t.Helper()
		u := &unstructured.Unstructured{Object: obj}
		u.SetAPIVersion("storage.cnrm.cloud.google.com/v1beta1")
		u.SetKind("StorageBucket")
		u.SetNamespace(ns)
		ri := dyn.Resource(storageBucketGVR).Namespace(ns)
		opts := metav1.ApplyOptions{FieldManager: manager, Force: true}
		var err error
		if status {
			_, err = ri.ApplyStatus(ctx, u.GetName(), u, opts)
		} else {
			_, err = ri.Apply(ctx, u.GetName(), u, opts)
		}
		if err != nil {
			t.Fatalf("apply %s as %s: %v", u.GetName(), manager, err)
		}
	}
	for _, name := range []string{"a", "b"} {
		apply("argocd-controller", map[string]any{"metadata": map[string]any{"name": name}, "spec": map[string]any{"location": "EU"}}, false)
		apply("cnrm-controller-manager", map[string]any{"metadata": map[string]any{"name": name}, "spec": map[string]any{"resourceID": "bucket-" + name + "-8a7f"}}, false)
	}
	apply("cnrm-controller-manager", map[string]any{"metadata": map[string]any{"name": "a"}, "status": map[string]any{"url": "gs://bucket-a-8a7f"}}, true)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db-conn", Namespace: ns}, StringData: map[string]string{"password": "hunter2-discover"}}
	if _, err := core.CoreV1().Secrets(ns).Create(ctx, secret, metav1.CreateOptions{FieldManager: "provider-sql"}); err != nil {
		t.Fatal(err)
	}

	out, err := runCLI(t, "discover", "--kinds", "StorageBucket,Secret")
	if err != nil {
		t.Fatalf("discover: %v\n%s", err, out)
	}
	table, proposed, ok := strings.Cut(out, "# Proposed rules")
	if !ok {
		t.Fatalf("no proposed rules:\n%s", out)
	}
	for _, want := range []string{
		"StorageBucket.storage.cnrm.cloud.google.com",
		"spec.resourceID",
		"cnrm-controller-manager",
		"2/2",
		`"bucket-a-8a7f" (discover-team/a)`,
		"status.url",
		"cnrm-controller-manager/status",
		"data.password",
		"provider-sql",
		"<redacted> (discover-team/db-conn)",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("report lacks %q:\n%s", want, table)
		}
	}
	for _, leak := range []string{"hunter2", "aHVudGVy", "spec.location"} {
		if strings.Contains(out, leak) {
			t.Errorf("output holds %q:\n%s", leak, out)
		}
	}
	_, yamlPart, _ := strings.Cut(proposed, "\nrules:")
	cfg, err := config.Parse([]byte("apiVersion: driftback.dev/v1alpha1\nkind: Config\ncluster: c\nrules:" + yamlPart))
	if err != nil {
		t.Fatalf("the proposed rules do not load: %v\n%s", err, proposed)
	}
	var got []string
	for _, r := range cfg.Rules {
		if r.Match.MatchesKind("", "Secret") {
			t.Errorf("a rule for Secrets was proposed: %s", r.Name)
		}
		for _, f := range r.Fields {
			got = append(got, r.Name+" "+f.String())
		}
	}
	want := []string{"discovered-storagebucket-storage-cnrm-cloud-google-com spec.resourceID", "discovered-storagebucket-storage-cnrm-cloud-google-com status.url"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("proposed fields = %v, want %v", got, want)
	}
}
