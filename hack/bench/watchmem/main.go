// Command watchmem is the baseline side of the watch memory benchmark
// (bench_test.go): run in its own process so its peak RSS is its own, it
// either watches a resource with a bare, full-object client-go dynamic
// informer until synced, or lists it once in pages, and then exits.
//
//	watchmem -mode informer|list -kubeconfig FILE -gvr group/version/resource
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	mode := flag.String("mode", "informer", "informer (full-object dynamic informer until synced) or list (one paged LIST)")
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
	case "informer":
		inf := dynamicinformer.NewFilteredDynamicInformer(dyn, gvr, "", 0, cache.Indexers{}, nil).Informer()
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
		return fmt.Errorf("-mode %q: informer or list", mode)
	}
	// The benchmark reads these two lines.
	fmt.Printf("objects %d\nseconds %f\n", n, time.Since(start).Seconds())
	return nil
}
