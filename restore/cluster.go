package restore

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// Cluster is the target of a restore or a drill: the dynamic client and a
// RESTMapper over discovery that is reset when a kind is not yet known (a
// CRD the GitOps tool has not applied yet).
type Cluster struct {
	Dyn    dynamic.Interface
	Mapper meta.ResettableRESTMapper
}

// NewCluster builds the clients from a rest config.
func NewCluster(cfg *rest.Config) (*Cluster, error) {
	// A restore is a few requests per object and discovery after a mapper
	// reset one per API group: at client-go's default of 5 requests a
	// second a large overlay would take minutes. The apiserver's priority
	// and fairness still protects it.
	cfg = rest.CopyConfig(cfg)
	if cfg.QPS < 500 {
		cfg.QPS, cfg.Burst = 500, 1000
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	return &Cluster{Dyn: dyn, Mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))}, nil
}

// resource returns the client for u's kind, in namespace ns when the kind
// is namespaced (default when ns is empty, as kubectl does).
func (c *Cluster) resource(u *unstructured.Unstructured, ns string) (dynamic.ResourceInterface, error) {
	gvk := u.GroupVersionKind()
	m, err := c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("map %s to a resource: %w", gvk, err)
	}
	if m.Scope.Name() != meta.RESTScopeNameNamespace {
		return c.Dyn.Resource(m.Resource), nil
	}
	if ns == "" {
		ns = "default"
	}
	return c.Dyn.Resource(m.Resource).Namespace(ns), nil
}
