package gitsync

import (
	"io/fs"
	"time"
)

// Op is what a commit did to a file.
type Op string

// The operations on a file.
const (
	Added    Op = "add"
	Modified Op = "modify"
	Deleted  Op = "delete"
)

// Change is one file a commit adds, modifies or deletes (path relative to
// Dir), with its old and new content so a message can say what changed.
type Change struct {
	Path string
	Op   Op
	Old  []byte
	New  []byte
}

// Update is the delta form of Dir's content: the files that changed (added
// or modified) and the paths removed since the parent. Its cost follows its
// size, not Dir's.
type Update struct {
	Changed map[string][]byte
	Removed []string
}

// Content is what a Prepare callback returns: Dir's content, either whole
// (Files) or as an Update, and the commit message for the changes. The
// file contents become the commit's blobs as they are, not copied: they
// must not be modified once returned.
type Content struct {
	Files  map[string][]byte
	Update *Update
	// Message makes the commit message; driftback's trailers are added.
	Message func([]Change) string
	// Trailers are added to the commit's trailers, after driftback's own
	// (key: value; Trailer reads them back).
	Trailers [][2]string
}

// Prepare builds Dir's content on top of the parent commit's tree, given as a
// read-only file system of the whole repository (empty when there is none).
// It runs again after each rejected push, on the new parent.
type Prepare func(parent fs.FS) (Content, error)

// Result of a Publish.
type Result struct {
	// Commit is the pushed commit, zero when nothing changed.
	Commit  Hash
	Changes []Change
	// Parent is the commit the new one was built on (zero for none).
	Parent Hash
	// Dir is the tree hash of Dir in the pushed commit, or in the parent
	// when nothing changed (zero: no Dir). A writer that finds the same
	// hash under its next parent (the DirHash method of the file system
	// Prepare gets) knows the directory holds exactly what it wrote, and
	// may hand an Update instead of the whole content.
	Dir Hash
	// Rederived is true when the side branch was rebuilt on a new base tip.
	Rederived bool
	// Attempts is the number of fetch-build-push rounds it took.
	Attempts int
	// Took is where the wall time of the round that landed went.
	Took Timings
}

// Timings split one fetch-build-push round: the fetch of the branch and
// its base, the caller's Prepare, the commit's build (blobs, trees) and
// the push. A slow publish says which of them to look at.
type Timings struct {
	Fetch, Prepare, Build, Push time.Duration
}
