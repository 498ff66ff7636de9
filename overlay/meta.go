package overlay

import (
	"errors"
	"fmt"
	"io/fs"
	"path"

	"sigs.k8s.io/yaml"
)

// MetaFile records whose live state the overlay holds.
const MetaFile = ".driftback.yaml"

// FormatVersion is bumped when the overlay layout changes incompatibly:
// 2 added the bucket directory (Bucket), which an older driftback would not
// read as an object's file, so it refuses the overlay instead of restoring
// nothing.
const FormatVersion = 2

// Meta is the content of MetaFile.
type Meta struct {
	APIVersion    string `json:"apiVersion"`
	Kind          string `json:"kind"`
	FormatVersion int    `json:"formatVersion"`
	Cluster       string `json:"cluster"`
	// ClusterUID is the kube-system namespace UID of the cluster that wrote
	// the overlay; a rebuilt cluster has another one.
	ClusterUID string `json:"clusterUID"`
}

// NewMeta is the record of the cluster named cluster with kube-system UID uid.
func NewMeta(cluster, uid string) Meta {
	return Meta{APIVersion: "driftback.dev/v1alpha1", Kind: "Overlay", FormatVersion: FormatVersion, Cluster: cluster, ClusterUID: uid}
}

// ParseMeta reads MetaFile.
func ParseMeta(b []byte) (Meta, error) {
	var m Meta
	if err := yaml.UnmarshalStrict(b, &m); err != nil {
		return Meta{}, fmt.Errorf("parse %s: %w", MetaFile, err)
	}
	if m.Kind != "Overlay" || m.ClusterUID == "" {
		return Meta{}, fmt.Errorf("parse %s: not a driftback overlay record (kind %q, clusterUID %q)", MetaFile, m.Kind, m.ClusterUID)
	}
	if m.FormatVersion > FormatVersion {
		return Meta{}, fmt.Errorf("parse %s: formatVersion %d is newer than this driftback understands (%d); upgrade driftback", MetaFile, m.FormatVersion, FormatVersion)
	}
	return m, nil
}

// ReadMeta reads the record of the overlay at dir of fsys; found is false
// (and the error nil) when there is none.
func ReadMeta(fsys fs.FS, dir string) (m Meta, found bool, err error) {
	p := path.Join(dir, MetaFile)
	b, err := fs.ReadFile(fsys, p)
	if errors.Is(err, fs.ErrNotExist) {
		return Meta{}, false, nil
	}
	if err != nil {
		return Meta{}, false, fmt.Errorf("read %s: %w", p, err)
	}
	m, err = ParseMeta(b)
	return m, err == nil, err
}
