// Package live reads captures from a running cluster with client-go.
package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/kube"
)

// Cluster reads a cluster's identity and the objects the rules select.
type Cluster struct {
	dyn  dynamic.Interface
	meta metadata.Interface
	disc discovery.DiscoveryInterface
}

// NewCluster builds the clients from a rest config (kube.New).
func NewCluster(cfg *rest.Config) (*Cluster, error) {
	c, err := kube.New(cfg)
	if err != nil {
		return nil, err
	}
	return New(c.Dynamic, c.Metadata, c.Discovery), nil
}

// New reads a cluster through the given clients (kube.Clients', or fakes).
func New(dyn dynamic.Interface, meta metadata.Interface, disc discovery.DiscoveryInterface) *Cluster {
	return &Cluster{dyn: dyn, meta: meta, disc: disc}
}

// Identity is the cluster's identity (kube.Identity).
func (c *Cluster) Identity(ctx context.Context) (string, error) { return kube.Identity(ctx, c.meta) }

// Resource is a listable API resource that at least one rule matches.
type Resource struct {
	GVR        schema.GroupVersionResource
	Kind       string
	Namespaced bool
	// Watchable resources support the watch verb; the others can only be
	// captured by snapshot.
	Watchable bool
}

// Resources discovers the resources the rules match, in their preferred
// version. Groups that fail discovery (an aggregated API that is down) are
// logged and skipped rather than failing the whole capture.
func (c *Cluster) Resources(rules []capture.Rule) ([]Resource, error) {
	res, failed, err := c.discover(rules)
	if len(failed) > 0 {
		slog.Warn("some API groups could not be discovered; their objects are not captured this time", "groups", failed)
	}
	return res, err
}

// discover is Resources that also returns the group versions whose discovery
// failed, so a watcher can keep watching them instead of dropping their
// objects from Git because of a transient error.
func (c *Cluster) discover(rules []capture.Rule) ([]Resource, map[schema.GroupVersion]bool, error) {
	lists, err := c.disc.ServerPreferredResources()
	failed := map[schema.GroupVersion]bool{}
	if err != nil {
		var gdf *discovery.ErrGroupDiscoveryFailed
		if !errors.As(err, &gdf) || len(lists) == 0 {
			return nil, nil, fmt.Errorf("discover API resources: %w", err)
		}
		for gv := range gdf.Groups {
			failed[gv] = true
		}
	}
	var out []Resource
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			return nil, nil, fmt.Errorf("discover API resources: group version %q: %w", l.GroupVersion, err)
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || !hasVerb(r.Verbs, "list") {
				continue
			}
			for _, rule := range rules {
				if rule.Match.MatchesKind(gv.Group, r.Kind) {
					out = append(out, Resource{GVR: gv.WithResource(r.Name), Kind: r.Kind, Namespaced: r.Namespaced, Watchable: hasVerb(r.Verbs, "watch")})
					break
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GVR.String() < out[j].GVR.String() })
	return out, failed, nil
}

func hasVerb(verbs []string, v string) bool {
	for _, x := range verbs {
		if x == v {
			return true
		}
	}
	return false
}

// List lists every object of the resources once and builds their captures,
// sorted by ref.
func (c *Cluster) List(ctx context.Context, rules []capture.Rule, res []Resource) ([]capture.Capture, error) {
	var out []capture.Capture
	for _, r := range res {
		err := c.eachObject(ctx, r.GVR, func(u *unstructured.Unstructured) {
			if cp, ok := capture.Build(rules, u); ok {
				out = append(out, cp)
			}
		})
		if err != nil {
			return nil, err
		}
	}
	capture.Sort(out)
	return out, nil
}

// eachObject lists a resource in pages so a large kind never sits whole in memory.
func (c *Cluster) eachObject(ctx context.Context, gvr schema.GroupVersionResource, fn func(*unstructured.Unstructured)) error {
	opts := metav1.ListOptions{Limit: 500}
	for {
		l, err := c.dyn.Resource(gvr).List(ctx, opts)
		if err != nil {
			return fmt.Errorf("list %s: %w", gvr, err)
		}
		for i := range l.Items {
			fn(&l.Items[i])
		}
		if l.GetContinue() == "" {
			return nil
		}
		opts.Continue = l.GetContinue()
	}
}
