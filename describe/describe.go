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
	// untold is how many objects Objects leaves out (Commit's report): they
	// are in Counts only, and neither the body nor the summary shows them.
	untold int
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

// Describe builds the report of a commit's changes: every object, in
// order, for templates that range over them and for PullRequestBody.
func Describe(cluster string, changes []FileChange) Report {
	return describe(cluster, len(changes), func(i int) FileChange { return changes[i] }, true)
}

// Commit builds the report of a commit's changes read by index (n of
// them; change(i) may be called more than once and from several
// goroutines), keeping only the objects its body and Markdown summary show:
// the first SummaryRows objects, described, and the overlay's own files.
// The others are counted in the subject and in the body's and summary's
// "and M more" lines, exactly as Describe counts them, without an Object
// each: a first commit of 100,000 files is described in the memory of 500.
// Its Objects are not every object (PullRequestBody and templates that
// read .Objects need Describe).
func Commit(cluster string, n int, change func(i int) FileChange) Report {
	return describe(cluster, n, change, false)
}

// tally counts objects by verb and what, remembering where each first
// appears: the subject lists counts of the same rank in that order.
type tally map[[2]string]*tallied

type tallied struct{ number, first int }

func (t tally) add(o *Object, at int) {
	if o.Category == "" {
		return
	}
	verb, w := "capture", o.What
	if o.Op == "delete" {
		verb, w = "drop", "object"
	}
	k := [2]string{verb, w}
	if e := t[k]; e != nil {
		e.number++
		e.first = min(e.first, at)
		return
	}
	t[k] = &tallied{number: 1, first: at}
}

func (t tally) merge(u tally) {
	for k, e := range u {
		if f := t[k]; f != nil {
			f.number += e.number
			f.first = min(f.first, e.first)
		} else {
			t[k] = e
		}
	}
}

// describe builds a report of n changes. The first objects up to
// SummaryRows are compared field by field in order; the rest are only
// classified, on all cores, and kept (all) or counted. merged/'s files are
// collapsed into one line at the end (mergedLine).
func describe(cluster string, n int, change func(int) FileChange, all bool) Report {
	r := Report{Cluster: cluster}
	n, change, moved := relocations(n, change)
	if moved > 0 {
		// The collapsed line is the change after the last.
		line, from := movedLine(moved), change
		change = func(i int) FileChange {
			if i == n-1 {
				return line
			}
			return from(i)
		}
		n++
	}
	merged := 0
	for i := range n {
		if isMerged(change(i).Path) {
			merged++
		}
	}
	at := change
	total := n
	if merged > 0 {
		// The collapsed line is the change after the last.
		line := mergedLine(merged)
		at = func(i int) FileChange {
			if i == n {
				return line
			}
			return change(i)
		}
		total = n + 1
	}
	var objs []Object
	if all {
		objs = make([]Object, total)
	}
	counts := tally{}
	keep := func(i int, o Object) {
		if all {
			objs[i] = o
		} else {
			objs = append(objs, o)
		}
	}
	// In order until SummaryRows objects are described: which objects
	// are shown depends on the order.
	described, cut := 0, total
	for i := range total {
		c := at(i)
		if merged > 0 && i < n && isMerged(c.Path) {
			continue
		}
		if described == SummaryRows {
			cut = i
			break
		}
		o := parse(c)
		if o.Category != "" {
			describeFields(&o, c)
			described++
		}
		counts.add(&o, i)
		keep(i, o)
	}
	// Past the cap nothing is shown but the overlay's own files; the
	// subject still counts what each object is, which for a patch depends
	// on which of its fields changed.
	rest, own := classifyRest(at, cut, total, func(i int) bool { return merged > 0 && i < n }, func(i int, o Object) {
		if all {
			objs[i] = o
		}
	})
	if !all {
		for _, e := range rest {
			r.untold += e.number
		}
	}
	counts.merge(rest)
	for _, e := range own {
		keep(e.at, e.o)
	}
	if all && merged > 0 {
		// Drop the merged/ files' empty slots.
		kept := objs[:0]
		for i, o := range objs {
			if i == n || !isMerged(at(i).Path) {
				kept = append(kept, o)
			}
		}
		objs = kept
	}
	r.Objects = objs
	order := make([][2]string, 0, len(counts))
	for k := range counts {
		order = append(order, k)
	}
	sort.Slice(order, func(i, j int) bool { return counts[order[i]].first < counts[order[j]].first })
	sort.SliceStable(order, func(i, j int) bool {
		if order[i][0] != order[j][0] {
			return order[i][0] == "capture"
		}
		return rank(order[i][1]) < rank(order[j][1])
	})
	for _, k := range order {
		r.Counts = append(r.Counts, Count{Verb: k[0], What: k[1], Number: counts[k].number})
	}
	files := n - merged
	if merged > 0 {
		files++
	}
	r.Subject = subject(cluster, r.Counts, files)
	if moved > 0 && len(r.Counts) == 0 {
		r.Subject = fmt.Sprintf("move %d overlay %s into bucket directories in %s", moved, noun(moved, "file"), cluster)
	}
	r.Body = body(r.Objects, r.untold)
	return r
}

// ownFile is one of the overlay's own files past the cap, at its index.
type ownFile struct {
	at int
	o  Object
}

// classifyRest classifies the changes from..to (skipping those skip says
// are merged/ files) on all cores: each object's What from the paths that
// changed, without keeping fields (in a first commit that is every object
// past the first SummaryRows). It counts them, hands each object to put,
// and returns the overlay's own files among them in order: they are always
// shown.
func classifyRest(at func(int) FileChange, from, to int, skip func(int) bool, put func(int, Object)) (tally, []ownFile) {
	const chunk = 64
	workers := min(runtime.GOMAXPROCS(0), (to-from)/256+1)
	var next atomic.Int64
	next.Store(int64(from))
	var mu sync.Mutex
	counts := tally{}
	var own []ownFile
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			mine := tally{}
			var mineOwn []ownFile
			var known shapes
			for {
				start := int(next.Add(chunk)) - chunk
				if start >= to {
					break
				}
				for i := start; i < min(start+chunk, to); i++ {
					c := at(i)
					if skip(i) && isMerged(c.Path) {
						continue
					}
					o := parse(c)
					switch {
					case o.Category == "":
						mineOwn = append(mineOwn, ownFile{i, o})
					case needsFields(o) && len(c.Old) == 0:
						o.What = known.addedWhat(c.New)
					case needsFields(o):
						o.What = patchWhat(changedPaths(c.Old, c.New))
					default:
						o.What = what(o)
					}
					mine.add(&o, i)
					put(i, o)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			counts.merge(mine)
			own = append(own, mineOwn...)
		})
	}
	wg.Wait()
	sort.Slice(own, func(i, j int) bool { return own[i].at < own[j].at })
	return counts, own
}

func isMerged(p string) bool { return strings.HasPrefix(p, overlay.MergedDir+"/") }

// mergedLine stands the files of merged/ (overlay.MergedDir) in for one
// line: they follow from the patches and the base, which are described,
// and a first commit holds one per object of the base.
func mergedLine(n int) FileChange {
	return FileChange{Path: fmt.Sprintf("%s/ (%d %s: the objects the overlay builds)", overlay.MergedDir, n, noun(n, "file")), Op: "modify"}
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
func body(objs []Object, untold int) string {
	var b strings.Builder
	listed, more := 0, untold
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
