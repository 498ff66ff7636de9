// Package overlay owns the on-branch format of driftback's Kustomize overlay:
// its directory and file names (and the parser that reads them back), the
// record of the cluster that wrote it (.driftback.yaml) and reading a whole
// overlay from a file system. render writes through it; restore, describe and
// the write-back guards read through it, so a layout change touches only
// this package.
//
// The layout, relative to the overlay's directory:
//
//	kustomization.yaml
//	.driftback.yaml
//	<patches|resources|status|unmatched>/<namespace|_cluster>/<group|core>_<Kind>/<name>.yaml
//	merged/kustomization.yaml, merged/<namespace|_cluster>/<group|core>_<Kind>/<name>.yaml (overlay.merged)
package overlay

import (
	"path"
	"strings"

	"github.com/driftback/driftback/capture"
)

// Directories of the overlay, one per kind of content.
const (
	PatchesDir   = "patches"
	ResourcesDir = "resources"
	StatusDir    = "status"
	// UnmatchedDir holds captured fields of objects the base does not define.
	UnmatchedDir = "unmatched"
	// MergedDir holds what the overlay's kustomize build yields, one file
	// per object, under a kustomization.yaml of its own that lists only
	// them: the same objects, built by Argo CD and Flux without kustomize's
	// per-patch scans of the base (docs/overlay-cost.md). It is derived
	// from the directories above and the base, and never read back.
	MergedDir = "merged"
	// ClusterScopedDir stands in for the namespace of cluster-scoped objects.
	ClusterScopedDir = "_cluster"
	// KustomizationFile is the overlay's entry point.
	KustomizationFile = "kustomization.yaml"
	// coreGroup stands in for the core API group's empty name.
	coreGroup = "core"
)

// ObjectDirs are the directories that hold one file per object.
var ObjectDirs = []string{PatchesDir, ResourcesDir, StatusDir, UnmatchedDir}

func isObjectDir(d string) bool {
	for _, o := range ObjectDirs {
		if d == o {
			return true
		}
	}
	return false
}

// FileName is <namespace|_cluster>/<group|core>_<Kind>/<name>.yaml: where an
// object's file sits below each of the ObjectDirs. Each part is written by
// encodeSegment (names.go): plain for DNS names, escaped and bounded to
// MaxFileName bytes for any other legal name.
func FileName(r capture.ObjectRef) string {
	return path.Join(nsDir(r.Namespace), KindDir(r.Group, r.Kind), encodeSegment(r.Name, ".yaml"))
}

func nsDir(ns string) string {
	if ns == "" {
		return ClusterScopedDir
	}
	return encodeSegment(ns, "")
}

// KindDir is the directory of a kind's files inside a category and a
// namespace: <group|core>_<Kind>.
func KindDir(group, kind string) string {
	if group == "" {
		group = coreGroup
	}
	return encodeSegment(group+"_"+kind, "")
}

// Entry is what a path of the overlay says about the object it holds.
type Entry struct {
	// Dir is one of ObjectDirs.
	Dir string
	// Namespace is "" for cluster-scoped objects.
	Namespace string
	// Group as the file name writes it: "core" for the core group; "" when
	// the name has no group part, or when the directory name is truncated
	// (then Kind is "" too: read both from the file's apiVersion and kind).
	Group string
	Kind  string
	// Name is the object's name; when NameHash is set, the file name is
	// truncated and Name is only the start of the name: NameIn reads the
	// real one from the file.
	Name     string
	NameHash string
	// key is the path below Dir.
	key string
}

// Key names the object independently of the directory: FileName's form.
func (e Entry) Key() string { return e.key }

// ParsePath reads a path relative to the overlay's directory,
// <dir>/<namespace|_cluster>/<group>_<Kind>/<name>.yaml, the inverse of
// FileName below one of ObjectDirs; ok is false for any other file.
func ParsePath(p string) (Entry, bool) {
	parts := strings.Split(path.Clean(p), "/")
	if len(parts) != 4 || !isObjectDir(parts[0]) || !strings.HasSuffix(parts[3], ".yaml") {
		return Entry{}, false
	}
	e := Entry{Dir: parts[0], key: path.Join(parts[1:]...)}
	if parts[1] != ClusterScopedDir {
		ns, hash, ok := decodeSegment(parts[1], "")
		if !ok || hash != "" {
			return Entry{}, false
		}
		e.Namespace = ns
	}
	gk, hash, ok := decodeSegment(parts[2], "")
	if !ok {
		return Entry{}, false
	}
	if hash == "" {
		if g, k, ok := strings.Cut(gk, "_"); ok {
			e.Group, e.Kind = g, k
		} else {
			e.Kind = gk
		}
	}
	e.Name, e.NameHash, ok = decodeSegment(strings.TrimSuffix(parts[3], ".yaml"), ".yaml")
	if !ok {
		return Entry{}, false
	}
	return e, true
}

// ObjectKeys returns the set of objects a list of overlay paths holds state
// for, whichever of ObjectDirs the files are in.
func ObjectKeys(paths []string) map[string]bool {
	out := map[string]bool{}
	for _, p := range paths {
		dir, rest, ok := strings.Cut(path.Clean(p), "/")
		if ok && isObjectDir(dir) {
			out[rest] = true
		}
	}
	return out
}
