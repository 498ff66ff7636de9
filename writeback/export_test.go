package writeback

import (
	"text/template"

	"github.com/driftback/driftback/describe"
	"github.com/driftback/driftback/gitsync"
)

// BaseBuilds is how many times the writer indexed the base with krusty.
func (w *Writer) BaseBuilds() int { return w.base.builds }

// Paths is how many prepares took the incremental and the full path.
func (w *Writer) Paths() (incremental, full int) { return w.paths.incremental, w.paths.full }

// Builds is how many incremental publishes were verified with the cheap
// checks and how many built the whole overlay.
func (w *Writer) Builds() (cheap, whole int) { return w.paths.cheap, w.paths.fullBuilds }

// ForgetRecord drops what the last publish wrote: the next publish takes
// the full path, as every publish did before the incremental one.
func (w *Writer) ForgetRecord() { w.inc = nil }

// Named is how many incremental publishes compared only the captures
// named as changed (capture.Changes).
func (w *Writer) Named() int { return w.paths.named }

// ScanEvery is scanEvery.
const ScanEvery = scanEvery

// CommitReport is the report a commit message with the default template
// is rendered from.
func CommitReport(cluster string, changes []gitsync.Change) describe.Report {
	t, _ := describe.Template("")
	return commitReport(t, cluster, changes)
}

// CommitMessage is the commit message of changes with template t.
func CommitMessage(t *template.Template, cluster string, changes []gitsync.Change) string {
	return commitMessage(t, cluster, changes)
}
