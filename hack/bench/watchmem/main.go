// Command watchmem is the baseline side of the watch memory benchmark
// (bench_test.go): run in its own process so its peak RSS is its own, it
// watches a resource with a client-go dynamic informer until synced — bare
// (full objects) or with a transform that keeps only the fields driftback
// needs (the floor a watcher holding only its captures should reach) — or
// lists it once in pages (decoded as client-go does, or as raw bytes
// only: the apiserver's own time), and then exits.
//
//	watchmem -mode informer|transform|list|rawlist -kubeconfig FILE -gvr group/version/resource
package main

import (
	"bytes"
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
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	mode := flag.String("mode", "informer", "informer (full-object dynamic informer until synced), transform (the same informer with a transform that keeps only the needed fields), list (one paged LIST) or rawlist (the same pages as bytes, not decoded, not gzipped)")
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
	case "rawlist":
		c, err := rest.UnversionedRESTClientFor(rawConfig(cfg))
		if err != nil {
			return err
		}
		if n, err = rawList(ctx, c, gvr); err != nil {
			return fmt.Errorf("list %s: %w", gvr, err)
		}
	default:
		return fmt.Errorf("-mode %q: informer, transform, list or rawlist", mode)
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

// rawConfig is a REST client's config for raw bytes: JSON, never gzip.
func rawConfig(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.GroupVersion = &schema.GroupVersion{}
	c.APIPath = "/apis"
	c.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	c.AcceptContentTypes = "application/json"
	c.DisableCompression = true
	return c
}

// rawList reads the resource in pages of 500 as bytes, decoding nothing:
// the apiserver's own time to serve them. Objects are counted by their
// kind's bytes, `"kind":"Bucket"`.
func rawList(ctx context.Context, c *rest.RESTClient, gvr schema.GroupVersionResource) (int, error) {
	path := "/apis/" + gvr.Group + "/" + gvr.Version + "/" + gvr.Resource
	needle := []byte(`"kind":"Bucket"`)
	n, cont := 0, ""
	for {
		req := c.Get().AbsPath(path).Param("limit", "500")
		if cont != "" {
			req = req.Param("continue", cont)
		}
		b, err := req.Do(ctx).Raw()
		if err != nil {
			return 0, err
		}
		n += bytes.Count(b, needle)
		i := bytes.Index(b, []byte(`"continue":"`))
		if i < 0 {
			return n, nil
		}
		rest := b[i+len(`"continue":"`):]
		if cont = string(rest[:bytes.IndexByte(rest, '"')]); cont == "" {
			return n, nil
		}
	}
}
