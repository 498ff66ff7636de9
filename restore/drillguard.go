package restore

import (
	"context"
	"fmt"
	"io/fs"
	"path"

	"github.com/driftback/driftback/kube"
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
func RefuseRecordedTarget(ctx context.Context, cl *Cluster, host string, fsys fs.FS) (string, error) {
	uid, err := kube.Identity(ctx, cl.Meta)
	if err != nil {
		return "", fmt.Errorf("before applying anything: %w", err)
	}
	recorded, err := recordedClusters(fsys)
	if err != nil {
		return uid, fmt.Errorf("read the clusters recorded on the branch: %w", err)
	}
	if who, ok := recorded[uid]; ok {
		return uid, fmt.Errorf("refusing to drill into %s: it is cluster %s recorded on this branch (kube-system UID %s); drill force-applies and must target a scratch cluster (--kubeconfig/--context); to check a recovered cluster without writing, use --verify-only", host, who, uid)
	}
	return uid, nil
}
