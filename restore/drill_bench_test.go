package restore

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"k8s.io/client-go/rest"
)

// benchRepo is an overlay over a base of n KubernetesClusters in namespace
// ns, each with a captured status (seed 001 at scale).
func benchRepo(ns string, n int) fstest.MapFS {
	fsys := fstest.MapFS{
		"o/kustomization.yaml": {Data: []byte("resources: [../base]\n")},
		"o/.driftback.yaml":    {Data: []byte("apiVersion: driftback.dev/v1alpha1\nkind: Overlay\nformatVersion: 1\ncluster: lost\nclusterUID: uid-a\n")},
	}
	var base strings.Builder
	fmt.Fprintf(&base, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", ns)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("c%04d", i)
		fmt.Fprintf(&base, "---\napiVersion: infra.example.com/v1alpha1\nkind: KubernetesCluster\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  type: iks\n", name, ns)
		fsys[fmt.Sprintf("o/status/%s/infra.example.com_KubernetesCluster/%s.yaml", ns, name)] = &fstest.MapFile{Data: []byte(fmt.Sprintf(
			"apiVersion: infra.example.com/v1alpha1\nkind: KubernetesCluster\nmetadata:\n  name: %[1]s\n  namespace: %[2]s\nstatus:\n  apiServerURL: https://%[1]s.k8s.internal:6443\n  masterVersion: 1.28.23\n", name, ns))}
	}
	fsys["base/kustomization.yaml"] = &fstest.MapFile{Data: []byte("resources: [all.yaml]\n")}
	fsys["base/all.yaml"] = &fstest.MapFile{Data: []byte(base.String())}
	return fsys
}

// BenchmarkDrill rebuilds 200 objects with captured status into fresh
// namespaces of a real apiserver: build, apply, restore, verify, with the
// client limits the CLI uses. rto-ms is the drill's RTO.
func BenchmarkDrill(b *testing.B) {
	const n = 200
	// The client limits of the CLI, not envtest's 1000 requests a second.
	cfg := rest.CopyConfig(cp.Config)
	cfg.QPS, cfg.Burst = 0, 0
	c, err := NewCluster(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	for i := 0; i < b.N; i++ {
		r := Drill(context.Background(), c, benchRepo(fmt.Sprintf("bench-%d-%d", time.Now().UnixNano()%100000, i), n), "o", DrillOptions{Restore: Options{Rules: everyStatus}})
		if !r.OK() || r.Restore.Count(Restored) != n {
			var out strings.Builder
			r.Print(&out)
			b.Fatalf("drill failed:\n%s", out.String())
		}
		total += r.RTO
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "rto-ms")
	b.ReportMetric(n, "objects")
}
