// Command watchmem is the baseline side of the watch memory benchmark
// (bench_test.go): run in its own process so its peak RSS is its own, it
// watches a resource with a client-go dynamic informer until synced — bare
// (full objects) or with a transform that keeps only the fields driftback
// needs (the floor a watcher holding only its captures should reach) — or
// lists it once in pages, and then exits.
//
//	watchmem -mode informer|transform|list -kubeconfig FILE -gvr group/version/resource
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	mode := flag.String("mode", "informer", "informer (full-object dynamic informer until synced), transform (the same informer with a transform that keeps only the needed fields) or list (one paged LIST)")
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig")
	gvrFlag := flag.String("gvr", "", "group/version/resource")
	flag.Parse()
	if err := run(*mode, *kubeconfig, *gvrFlag); err != nil {
		fmt.Fprintln(os.Stderr, "watchmem:", err)
		os.Exit(1)
	}
}

func run(mode, kubeconfig, gvrFlag string) error {
	parts := strings.Split(gvrFlag, "/")
	if len(parts) != 3 {
		return fmt.Errorf("-gvr %q: want group/version/resource", gvrFlag)
	}
	gvr := schema.GroupVersionResource{Group: parts[0], Version: parts[1], Resource: parts[2]}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("load kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = 50, 100 // as driftback run
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("dynamic client: %w", err)
	}
	ctx := context.Background()
	start := time.Now()
	n := 0
	switch mode {
	case "informer", "transform":
		inf := dynamicinformer.NewFilteredDynamicInformer(dyn, gvr, "", 0, cache.Indexers{}, nil).Informer()
		if mode == "transform" {
			if err := inf.SetTransform(strip); err != nil {
				return fmt.Errorf("set transform: %w", err)
			}
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go inf.RunWithContext(ctx)
		if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
			return fmt.Errorf("informer did not sync")
		}
		n = len(inf.GetStore().ListKeys())
	case "list":
		opts := metav1.ListOptions{Limit: 500}
		for {
			l, err := dyn.Resource(gvr).List(ctx, opts)
			if err != nil {
				return fmt.Errorf("list %s: %w", gvr, err)
			}
			n += len(l.Items)
			if l.GetContinue() == "" {
				break
			}
			opts.Continue = l.GetContinue()
		}
	default:
		return fmt.Errorf("-mode %q: informer, transform or list", mode)
	}
	// The benchmark reads these two lines.
	fmt.Printf("objects %d\nseconds %f\n", n, time.Since(start).Seconds())
	return nil
}

// strip keeps of an object what driftback's status rules need and the
// informer needs to key and resume it: name, namespace, uid,
// resourceVersion, the external-name annotation and status.atProvider.arn.
// Idempotent, as a transform must be.
func strip(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil // a tombstone or an already stripped object
	}
	md := map[string]any{"name": u.GetName(), "resourceVersion": u.GetResourceVersion(), "uid": string(u.GetUID())}
	if ns := u.GetNamespace(); ns != "" {
		md["namespace"] = ns
	}
	if v, ok := u.GetAnnotations()[externalName]; ok {
		md["annotations"] = map[string]any{externalName: v}
	}
	out := map[string]any{"metadata": md}
	if arn, ok, _ := unstructured.NestedString(u.Object, "status", "atProvider", "arn"); ok {
		out["status"] = map[string]any{"atProvider": map[string]any{"arn": arn}}
	}
	return &unstructured.Unstructured{Object: out}, nil
}

const externalName = "crossplane.io/external-name"
