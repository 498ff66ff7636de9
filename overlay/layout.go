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
// object's file sits below each of the ObjectDirs.
func FileName(r capture.ObjectRef) string {
	ns := r.Namespace
	if ns == "" {
		ns = ClusterScopedDir
	}
	g := r.Group
	if g == "" {
		g = coreGroup
	}
	return path.Join(ns, g+"_"+r.Kind, r.Name+".yaml")
}

// Entry is what a path of the overlay says about the object it holds.
type Entry struct {
	// Dir is one of ObjectDirs.
	Dir string
	// Namespace is "" for cluster-scoped objects.
	Namespace string
	// Group as the file name writes it: "core" for the core group; "" when
	// the name has no group part.
	Group string
	Kind  string
	Name  string
}

// Key names the object independently of the directory: FileName's form.
func (e Entry) Key() string {
	ns := e.Namespace
	if ns == "" {
		ns = ClusterScopedDir
	}
	gk := e.Kind
	if e.Group != "" {
		gk = e.Group + "_" + e.Kind
	}
	return path.Join(ns, gk, e.Name+".yaml")
}

// ParsePath reads a path relative to the overlay's directory,
// <dir>/<namespace|_cluster>/<group>_<Kind>/<name>.yaml, the inverse of
// FileName below one of ObjectDirs; ok is false for any other file.
func ParsePath(p string) (Entry, bool) {
	parts := strings.Split(path.Clean(p), "/")
	if len(parts) != 4 || !isObjectDir(parts[0]) {
		return Entry{}, false
	}
	e := Entry{Dir: parts[0]}
	if parts[1] != ClusterScopedDir {
		e.Namespace = parts[1]
	}
	if g, k, ok := strings.Cut(parts[2], "_"); ok {
		e.Group, e.Kind = g, k
	} else {
		e.Kind = parts[2]
	}
	e.Name = strings.TrimSuffix(parts[3], path.Ext(parts[3]))
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
