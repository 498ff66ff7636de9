package kube

import (
	"fmt"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"
)

// NewConfigFlags returns kubectl's and flux's standard connection flags
// (--kubeconfig, --context, --namespace, --as, --request-timeout, ...), from
// cli-runtime so they mean what they mean there, without those driftback
// has no use for: basic auth (removed from Kubernetes) and the discovery
// cache directory (driftback rediscovers without a disk cache).
func NewConfigFlags() *genericclioptions.ConfigFlags {
	f := genericclioptions.NewConfigFlags(false)
	f.Username, f.Password, f.CacheDir = nil, nil, nil
	return f
}

// LoadConfig resolves the cluster connection from the standard flags: an
// explicit kubeconfig, else $KUBECONFIG and ~/.kube/config, else the
// in-cluster service account (clientcmd's deferred loading falls back to it
// when no kubeconfig exists).
func LoadConfig(flags genericclioptions.RESTClientGetter) (*rest.Config, error) {
	cfg, err := flags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	return cfg, nil
}
