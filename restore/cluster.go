package restore

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/driftback/driftback/kube"
)

// Cluster is the target of a restore or a drill: the dynamic client and a
// RESTMapper over discovery that is reset when a kind is not yet known (a
// CRD the GitOps tool has not applied yet).
type Cluster struct {
	Dyn    dynamic.Interface
	Mapper meta.ResettableRESTMapper
	// Meta reads the cluster's identity (the drill's guard).
	Meta metadata.Interface
}

// NewCluster builds the clients from a rest config (kube.New).
func NewCluster(cfg *rest.Config) (*Cluster, error) {
	c, err := kube.New(cfg)
	if err != nil {
		return nil, err
	}
	return &Cluster{Dyn: c.Dynamic, Mapper: c.Mapper, Meta: c.Metadata}, nil
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
