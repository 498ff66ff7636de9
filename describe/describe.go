// Package describe tells a reviewer what a driftback commit changed: a
// subject that counts it, a body listing each object and field with old →
// new, and a Markdown summary for a pull request. Body and summary are
// bounded (BodyObjects, SummaryRows): a first commit of 100,000 files is
// read in its diff, not in a multi-megabyte message. It reads the overlay's
// layout (patches/, resources/, status/) but not Git: the caller hands it
// the changed files with their old and new content.
package describe

import (
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/overlay"
)

// FileChange is one changed file of the overlay, relative to its directory.
type FileChange struct {
	Path string
	// Op is "add", "modify" or "delete".
	Op       string
	Old, New []byte
}

// Object is the change to one object's recorded state in one file.
type Object struct {
	File string
	// Category is what the file holds: patch, resource, status, unmatched,
	// or "" for the overlay's own files (kustomization.yaml, the record).
	Category                     string
	Namespace, Group, Kind, Name string
	Op                           string
	// What counts the change in the subject: external name, status, …
	What   string
	Fields []Field
	// Err says why the fields could not be compared (not YAML).
	Err string
	// Described is set when Fields and Err were computed: for the first
	// SummaryRows objects of a commit only, since comparing fields is where
	// describing a huge commit spends its time and nobody reads that far.
	Described bool
}

// BodyObjects is how many objects the commit message body lists with their
// fields; the rest are counted in one closing line.
const BodyObjects = 100

// SummaryRows is how many table rows the Markdown summary holds at most; the
// rest are counted in one closing line.
const SummaryRows = 500

// Report describes one commit.
type Report struct {
	Cluster string
	Objects []Object
	// Counts by what changed, in subject order.
	Counts []Count
	// Subject: "capture 3 external names, 1 status in prod-eu1".
	Subject string
	// Body lists each changed file and field, old → new, for the first
	// BodyObjects objects.
	Body string
}

// Count is how many objects changed in one way.
type Count struct {
	What   string
	Verb   string // capture or drop
	Number int
}

// wellKnown names patch fields a reviewer recognises, most telling first:
// the presets declare them.
var wellKnown = capture.WellKnownFields()

// Describe builds the report of a commit's changes.
func Describe(cluster string, changes []FileChange) Report {
	changes = collapseMerged(changes)
	r := Report{Cluster: cluster}
	counts := map[[2]string]int{}
	var order [][2]string
	r.Objects = make([]Object, len(changes))
	var classify []int
	described := 0
	for i, c := range changes {
		o := parse(c)
		switch {
		case o.Category == "":
			// The overlay's own files (kustomization.yaml lists every
			// object) are only named: their field changes follow from the
			// objects', and parsing them costs as much as all the objects.
		case described < SummaryRows:
			describeFields(&o, c)
			described++
		case needsFields(o):
			// Past the cap nothing is shown, but the subject still counts
			// what kind of patch this is, and that depends on its fields.
			classify = append(classify, i)
		}
		r.Objects[i] = o
	}
	classifyPatches(r.Objects, changes, classify)
	for i, c := range changes {
		o := &r.Objects[i]
		if o.What == "" {
			o.What = what(*o)
		}
		if o.Category == "" {
			continue
		}
		verb, w := "capture", o.What
		if c.Op == "delete" {
			verb, w = "drop", "object"
		}
		k := [2]string{verb, w}
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k]++
	}
	sort.SliceStable(order, func(i, j int) bool {
		if order[i][0] != order[j][0] {
			return order[i][0] == "capture"
		}
		return rank(order[i][1]) < rank(order[j][1])
	})
	for _, k := range order {
		r.Counts = append(r.Counts, Count{Verb: k[0], What: k[1], Number: counts[k]})
	}
	r.Subject = subject(cluster, r.Counts, len(changes))
	r.Body = body(r.Objects)
	return r
}

// collapseMerged stands the files of merged/ (overlay.MergedDir) in for one
// line: they follow from the patches and the base, which are described,
// and a first commit holds one per object of the base.
func collapseMerged(changes []FileChange) []FileChange {
	n := 0
	for _, c := range changes {
		if strings.HasPrefix(c.Path, overlay.MergedDir+"/") {
			n++
		}
	}
	if n == 0 {
		// No copy: a first commit without merged/ lists 100,000 files.
		return changes
	}
	out := make([]FileChange, 0, len(changes)-n+1)
	for _, c := range changes {
		if !strings.HasPrefix(c.Path, overlay.MergedDir+"/") {
			out = append(out, c)
		}
	}
	return append(out, FileChange{Path: fmt.Sprintf("%s/ (%d %s: the objects the overlay builds)", overlay.MergedDir, n, noun(n, "file")), Op: "modify"})
}

// describeFields compares the old and new content of one object's file.
func describeFields(o *Object, c FileChange) {
	fields, err := diffFields(c.Old, c.New, o.Kind == "Secret")
	if err != nil {
		o.Err = err.Error()
	}
	o.Fields = fields
	o.Described = true
	o.What = what(*o)
}

// classifyPatches sets What of the objects at idx from the paths that
// changed, without keeping fields, on all cores: in a first commit that is
// every patch past the first SummaryRows objects.
func classifyPatches(objs []Object, changes []FileChange, idx []int) {
	workers := min(runtime.GOMAXPROCS(0), len(idx)/256+1)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				n := int(next.Add(1)) - 1
				if n >= len(idx) {
					return
				}
				i := idx[n]
				objs[i].What = patchWhat(changedPaths(changes[i].Old, changes[i].New))
			}
		})
	}
	wg.Wait()
}

// needsFields is true when what an object counts as depends on which of its
// fields changed (a patch may record an external name, an ARN, …).
func needsFields(o Object) bool {
	return (o.Category == "patch" || o.Category == "unmatched") && o.Op != "delete"
}

func rank(what string) int {
	for i, w := range wellKnown {
		if w.What == what {
			return i
		}
	}
	switch what {
	case "patch":
		return 100
	case "object":
		return 101
	case "status":
		return 102
	}
	return 103
}

// categories name the overlay's object directories in reports.
var categories = map[string]string{
	overlay.PatchesDir:   "patch",
	overlay.ResourcesDir: "resource",
	overlay.StatusDir:    "status",
	overlay.UnmatchedDir: "unmatched",
}

// parse reads an overlay path (overlay.ParsePath).
func parse(c FileChange) Object {
	o := Object{File: c.Path, Op: c.Op}
	e, ok := overlay.ParsePath(c.Path)
	if !ok {
		return o
	}
	o.Category = categories[e.Dir]
	o.Namespace, o.Group, o.Kind, o.Name = e.Namespace, e.Group, e.Kind, e.Name
	if e.NameHash != "" {
		// A truncated file name: the real name is inside the file.
		content := c.New
		if len(content) == 0 {
			content = c.Old
		}
		if n, err := e.NameIn(content); err == nil {
			o.Name = n
		} else {
			o.Name = e.Name + "…"
		}
	}
	if strings.IndexFunc(o.Name, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		// A name with a newline must not start a line of its own (a trailer)
		// in a commit message: printed quoted.
		o.Name = strconv.Quote(o.Name)
	}
	return o
}

func what(o Object) string {
	switch o.Category {
	case "status":
		return "status"
	case "resource":
		return "object"
	case "patch", "unmatched":
		paths := make([]string, len(o.Fields))
		for i, f := range o.Fields {
			paths[i] = f.Path
		}
		return patchWhat(paths)
	}
	return ""
}

// patchWhat names a patch by the most telling well-known field among the
// changed paths.
func patchWhat(paths []string) string {
	for _, w := range wellKnown {
		for _, p := range paths {
			if strings.Contains(p, w.Contains) {
				return w.What
			}
		}
	}
	return "patch"
}

func plural(n int, what string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", what)
	}
	switch {
	case strings.HasSuffix(what, "s"), strings.HasSuffix(what, "ch"):
		return fmt.Sprintf("%d %ses", n, what)
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// noun is what in the plural unless n is 1.
func noun(n int, what string) string {
	if n == 1 {
		return what
	}
	return what + "s"
}

func subject(cluster string, counts []Count, files int) string {
	if len(counts) == 0 {
		if files == 0 {
			return "follow the base branch in " + cluster
		}
		return fmt.Sprintf("update %d overlay file(s) in %s", files, cluster)
	}
	var parts []string
	verb := ""
	for _, c := range counts {
		s := plural(c.Number, c.What)
		if c.Verb != verb {
			s = c.Verb + " " + s
			verb = c.Verb
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ") + " in " + cluster
}

func opSymbol(op string) string {
	switch op {
	case "add":
		return "+"
	case "delete":
		return "-"
	}
	return "~"
}

// body lists the objects' files with each changed field, then the
// overlay's own files (kustomization.yaml, the record), whose field-level
// changes only follow from the objects'.
func body(objs []Object) string {
	var b strings.Builder
	listed, more := 0, 0
	for _, o := range objs {
		if o.Category == "" {
			continue
		}
		if listed == BodyObjects {
			more++
			continue
		}
		listed++
		fmt.Fprintf(&b, "%s %s\n", opSymbol(o.Op), o.File)
		if o.Err != "" {
			fmt.Fprintf(&b, "    (not compared: %s)\n", o.Err)
			continue
		}
		if o.Op == "delete" {
			continue
		}
		for _, f := range o.Fields {
			fmt.Fprintf(&b, "    %s: %s → %s\n", f.Path, show(f.Old), show(f.New))
		}
	}
	if more > 0 {
		fmt.Fprintf(&b, "… and %d more %s (see the Markdown summary or git diff)\n", more, noun(more, "object"))
	}
	for _, o := range objs {
		if o.Category == "" {
			fmt.Fprintf(&b, "%s %s\n", opSymbol(o.Op), o.File)
		}
	}
	return b.String()
}

// maxValue bounds a value in a message; whole objects stay in the diff.
const maxValue = 120

func show(v string) string {
	if v == "" {
		return "(none)"
	}
	v = strings.ReplaceAll(v, "\n", `\n`)
	if len(v) > maxValue {
		return v[:maxValue] + "…"
	}
	return v
}
