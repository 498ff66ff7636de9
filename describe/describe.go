// Package describe tells a reviewer what a driftback commit changed: a
// subject that counts it, a body listing each object and field with old →
// new, and a Markdown summary for a pull request. It reads the overlay's
// layout (patches/, resources/, status/) but not Git: the caller hands it
// the changed files with their old and new content.
package describe

import (
	"fmt"
	"path"
	"sort"
	"strings"
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
}

// Report describes one commit.
type Report struct {
	Cluster string
	Objects []Object
	// Counts by what changed, in subject order.
	Counts []Count
	// Subject: "capture 3 external names, 1 status in prod-eu1".
	Subject string
	// Body lists each changed file and field, old → new.
	Body string
}

// Count is how many objects changed in one way.
type Count struct {
	What   string
	Verb   string // capture or drop
	Number int
}

// wellKnown names patch fields a reviewer recognises, most telling first.
var wellKnown = []struct{ contains, what string }{
	{`crossplane.io/external-name`, "external name"},
	{`spec.volumeName`, "volume binding"},
	{`spec.claimRef`, "volume binding"},
	{`spec.resourceID`, "resource ID"},
	{`ackResourceMetadata.arn`, "ARN"},
	{`status.loadBalancer`, "load-balancer address"},
}

// Describe builds the report of a commit's changes.
func Describe(cluster string, changes []FileChange) Report {
	r := Report{Cluster: cluster}
	counts := map[[2]string]int{}
	var order [][2]string
	for _, c := range changes {
		o := parse(c)
		secret := o.Kind == "Secret"
		fields, err := diffFields(c.Old, c.New, secret)
		if err != nil {
			o.Err = err.Error()
		}
		o.Fields = fields
		o.What = what(o)
		r.Objects = append(r.Objects, o)
		if o.Category == "" {
			continue
		}
		verb := "capture"
		if c.Op == "delete" {
			verb, o.What = "drop", "object"
		}
		k := [2]string{verb, o.What}
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

func rank(what string) int {
	for i, w := range wellKnown {
		if w.what == what {
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

// parse reads <category>/<namespace|_cluster>/<group>_<Kind>/<name>.yaml.
func parse(c FileChange) Object {
	o := Object{File: c.Path, Op: c.Op}
	parts := strings.Split(c.Path, "/")
	if len(parts) != 4 {
		return o
	}
	switch parts[0] {
	case "patches":
		o.Category = "patch"
	case "resources":
		o.Category = "resource"
	case "status":
		o.Category = "status"
	case "unmatched":
		o.Category = "unmatched"
	default:
		return o
	}
	if parts[1] != "_cluster" {
		o.Namespace = parts[1]
	}
	if g, k, ok := strings.Cut(parts[2], "_"); ok {
		o.Group, o.Kind = g, k
	} else {
		o.Kind = parts[2]
	}
	o.Name = strings.TrimSuffix(parts[3], path.Ext(parts[3]))
	return o
}

func what(o Object) string {
	switch o.Category {
	case "status":
		return "status"
	case "resource":
		return "object"
	case "patch", "unmatched":
		for _, w := range wellKnown {
			for _, f := range o.Fields {
				if strings.Contains(f.Path, w.contains) {
					return w.what
				}
			}
		}
		return "patch"
	}
	return ""
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
	for _, o := range objs {
		if o.Category == "" {
			continue
		}
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
