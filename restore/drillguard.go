package restore

import (
	"context"
	"fmt"
	"io/fs"
	"path"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/driftback/driftback/overlay"
)

// recordedClusters lists every cluster identity an overlay on the branch
// records (each .driftback.yaml), by kube-system UID.
func recordedClusters(fsys fs.FS) (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || path.Base(p) != overlay.MetaFile {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		m, err := overlay.ParseMeta(b)
		if err != nil {
			return nil // not driftback's record: nothing to protect there
		}
		if m.ClusterUID != "" {
			out[m.ClusterUID] = m.Cluster + " (" + path.Dir(p) + ")"
		}
		return nil
	})
	return out, err
}

// RefuseRecordedTarget stops a drill whose target is a cluster the branch
// records: drill force-applies, and the cluster that wrote the overlay is
// production, not a scratch cluster. The identity is the kube-system UID,
// whatever the kubeconfig context is called.
func RefuseRecordedTarget(ctx context.Context, rc *rest.Config, fsys fs.FS) (string, error) {
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return "", err
	}
	ns, err := cs.CoreV1().Namespaces().Get(ctx, metav1.NamespaceSystem, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("read the target's identity (namespace kube-system) before applying anything: %w", err)
	}
	uid := string(ns.UID)
	recorded, err := recordedClusters(fsys)
	if err != nil {
		return uid, fmt.Errorf("read the clusters recorded on the branch: %w", err)
	}
	if who, ok := recorded[uid]; ok {
		return uid, fmt.Errorf("refusing to drill into %s: it is cluster %s recorded on this branch (kube-system UID %s); drill force-applies and must target a scratch cluster (--kubeconfig/--context); to check a recovered cluster without writing, use --verify-only", rc.Host, who, uid)
	}
	return uid, nil
}
