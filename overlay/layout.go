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
//	<patches|resources|status|unmatched>/<namespace|_cluster>/<group|core>_<Kind>/<bucket>/<name>.yaml
//	merged/kustomization.yaml, merged/<namespace|_cluster>/<group|core>_<Kind>/<bucket>/<name>.yaml (overlay.merged)
//
// <bucket> (Bucket) spreads a kind's files over up to 256 directories, so
// that no Git tree holds more than a few hundred entries. Branches written
// before it (LegacyFileName) are read as well, and rewritten in this layout
// by the next whole publish.
package overlay

import (
	"crypto/sha256"
	"encoding/hex"
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

// FileName is <namespace|_cluster>/<group|core>_<Kind>/<bucket>/<name>.yaml:
// where an object's file sits below each of the ObjectDirs. Each part is
// written by encodeSegment (names.go): plain for DNS names, escaped and
// bounded to MaxFileName bytes for any other legal name.
func FileName(r capture.ObjectRef) string {
	return nsDir(r.Namespace) + "/" + KindDir(r.Group, r.Kind) + "/" + Bucket(r.Name) + "/" + encodeSegment(r.Name, ".yaml")
}

// LegacyFileName is where FileName put an object's file before buckets:
// <namespace|_cluster>/<group|core>_<Kind>/<name>.yaml. Only read, to carry
// a branch written then forward (an object left out of a commit keeps its
// recorded files wherever they are). It is also the object's Key.
func LegacyFileName(r capture.ObjectRef) string {
	return nsDir(r.Namespace) + "/" + KindDir(r.Group, r.Kind) + "/" + encodeSegment(r.Name, ".yaml")
}

// Key names an object in both layouts, as Entry.Key does for a path: the
// deletion guards compare objects by it, so files moved into buckets are
// not objects dropped.
func Key(r capture.ObjectRef) string { return LegacyFileName(r) }

// Bucket is the directory between a kind's directory and an object's file:
// the first two hex digits of the SHA-256 of the object's name, so a kind's
// objects spread evenly over 256 directories whatever their names. Git
// stores a directory as one tree object, rewritten whole by every commit
// that changes a file in it, and a Git server checks every entry of every
// new tree when it receives a push: with 50,000 objects of one kind in one
// directory, each one-object commit wrote and pushed a 3 MB tree, and a
// long-running writer kept one per commit in memory (issue 15). With
// buckets a commit rewrites about 200 entries. A truncated file name ends
// in the name's hash (names.go), which starts with the same two digits.
func Bucket(name string) string {
	h := sha256.Sum256([]byte(name))
	return hex.EncodeToString(h[:1])
}

// isBucket reports whether s has Bucket's form.
func isBucket(s string) bool {
	return len(s) == 2 && strings.Trim(s, "0123456789abcdef") == ""
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
	// Legacy is set for a path written before buckets (LegacyFileName).
	Legacy bool
	// key is LegacyFileName's form; kindDir the kind's directory name.
	key, kindDir string
}

// Key names the object independently of the directory and of the layout
// (with or without Bucket): LegacyFileName's form. Two files with one key
// hold state of one object.
func (e Entry) Key() string { return e.key }

// KindDirName is the name of the kind's directory, as KindDir writes it.
func (e Entry) KindDirName() string { return e.kindDir }

// ParsePath reads a path relative to the overlay's directory,
// <dir>/<namespace|_cluster>/<group>_<Kind>/<bucket>/<name>.yaml, the
// inverse of FileName below one of ObjectDirs, or LegacyFileName's form
// without the bucket; ok is false for any other file, and for a bucket that
// is not the name's.
func ParsePath(p string) (Entry, bool) {
	parts := strings.Split(path.Clean(p), "/")
	bucket := ""
	switch len(parts) {
	case 4:
	case 5:
		bucket = parts[3]
		if !isBucket(bucket) {
			return Entry{}, false
		}
		parts = []string{parts[0], parts[1], parts[2], parts[4]}
	default:
		return Entry{}, false
	}
	if !isObjectDir(parts[0]) || !strings.HasSuffix(parts[3], ".yaml") {
		return Entry{}, false
	}
	e := Entry{Dir: parts[0], Legacy: bucket == "", key: path.Join(parts[1:]...), kindDir: parts[2]}
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
	// The bucket must be the name's (a truncated name's hash starts with
	// it): a file moved by hand to another would be a second file of one
	// object.
	if bucket != "" && !(e.NameHash == "" && Bucket(e.Name) == bucket || e.NameHash != "" && strings.HasPrefix(e.NameHash, bucket)) {
		return Entry{}, false
	}
	return e, true
}

// ObjectKeys returns the set of objects a list of overlay paths holds state
// for, whichever of ObjectDirs the files are in.
func ObjectKeys(paths []string) map[string]bool {
	out := map[string]bool{}
	for _, p := range paths {
		if e, ok := ParsePath(p); ok {
			out[e.key] = true
			continue
		}
		dir, rest, ok := strings.Cut(path.Clean(p), "/")
		if ok && isObjectDir(dir) {
			out[rest] = true
		}
	}
	return out
}
