// Package kube is driftback's one bundle of Kubernetes clients: dynamic,
// metadata, discovery and a REST mapper, built from one rest.Config with one
// rate-limit policy. capture/live and restore take the bundle (or its
// interfaces, which tests fill with client-go's fakes); nothing else builds
// clients.
package kube

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// Clients are the clients driftback reaches a cluster with.
type Clients struct {
	// Dynamic reads watch streams with watchJSON.
	Dynamic  dynamic.Interface
	Metadata metadata.Interface
	// Discovery is uncached: the watcher's periodic rediscovery must see
	// kinds come and go.
	Discovery discovery.DiscoveryInterface
	// Mapper maps kinds to resources over a cached discovery; Reset it when
	// a kind is not known yet (a CRD applied since).
	Mapper meta.ResettableRESTMapper
}

// Rate-limit policy. client-go's default of 5 requests a second would make
// driftback crawl: snapshot and discover list one kind per request, run
// starts one informer per kind, a restore makes a few requests per object
// and discovery after a mapper reset one per API group. The apiserver's
// priority and fairness still protects it.
const (
	QPS   = 500
	Burst = 1000
)

// RateLimited returns a copy of cfg that allows at least QPS and Burst.
func RateLimited(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	if cfg.QPS < QPS {
		cfg.QPS, cfg.Burst = QPS, Burst
	}
	return cfg
}

// New builds the clients from cfg, rate-limited by the policy.
func New(cfg *rest.Config) (*Clients, error) {
	cfg = RateLimited(cfg)
	dyn, err := newDynamic(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("metadata client: %w", err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	return &Clients{
		Dynamic: dyn, Metadata: md, Discovery: disc,
		Mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc)),
	}, nil
}

var namespacesGVR = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// Identity is the cluster's identity: the UID of the kube-system namespace,
// stable for the life of a cluster and different in a rebuilt one. Capture
// records it; the drill refuses a target that has a recorded one.
func Identity(ctx context.Context, meta metadata.Interface) (string, error) {
	ns, err := meta.Resource(namespacesGVR).Get(ctx, metav1.NamespaceSystem, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("read cluster identity (namespace kube-system): %w", err)
	}
	return string(ns.UID), nil
}
