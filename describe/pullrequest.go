package describe

import (
	"fmt"
	"strings"
)

// GitHubBodyLimit is the largest pull request body GitHub accepts, in
// characters; GitLab and Gitea accept more, so it is the default for all.
const GitHubBodyLimit = 65536

// PullRequestFoldAfter is how many objects a section shows before the rest
// is folded into <details>.
const PullRequestFoldAfter = 20

// PullRequestInfo says where a pull request goes and whose state it holds.
type PullRequestInfo struct {
	Cluster, ClusterUID string
	// Dir is the overlay's directory; Head the side branch; Base the branch
	// the pull request merges into.
	Dir, Head, Base string
	// Limit is the body's size limit in characters (GitHubBodyLimit when 0).
	Limit int
}

// PullRequestMarker is the hidden line by which driftback finds its own
// pull request again: one per cluster and overlay directory. It never
// changes for a cluster, so a renamed title or an edited body is still
// found.
func PullRequestMarker(cluster, dir string) string {
	return fmt.Sprintf("<!-- driftback:pull-request cluster=%s path=%s -->", cluster, dir)
}

// PullRequestTitle names the pull request after what it brings into the base.
func (r Report) PullRequestTitle() string {
	return "driftback: " + r.Subject
}

// PullRequestBody is the Markdown body of the pull request from the side
// branch into the base, for a report of everything the branch adds to the
// base under the overlay's directory (not only the last commit): the
// cluster, counts by kind of change, deletions called out, objects that
// exist only at run time with where they came from, and a table of fields
// per object, old → new, Secret-like values hidden. Long lists are folded
// in <details>; the body stays within the limit, and what does not fit is
// counted. The marker is the last line.
func (r Report) PullRequestBody(info PullRequestInfo) string {
	limit := info.Limit
	if limit <= 0 {
		limit = GitHubBodyLimit
	}
	marker := PullRequestMarker(info.Cluster, info.Dir)
	var head strings.Builder
	fmt.Fprintf(&head, "## Runtime state of `%s` that `%s` lacks\n\n", info.Cluster, info.Base)
	fmt.Fprintf(&head, "Controllers in cluster `%s` wrote state that Git does not hold. driftback pushed it to `%s` at once, so a rebuild from Git loses nothing; merging this pull request brings it into `%s` under review. driftback updates this pull request after each capture; once it is merged or closed, the next capture opens a new one.\n\n", info.Cluster, info.Head, info.Base)
	uid := ""
	if info.ClusterUID != "" {
		uid = fmt.Sprintf(" (kube-system UID `%s`)", info.ClusterUID)
	}
	fmt.Fprintf(&head, "- **Cluster:** `%s`%s\n- **Overlay:** `%s`\n- **Branch:** `%s` → `%s`\n\n", info.Cluster, uid, info.Dir, info.Head, info.Base)
	objs := 0
	for _, o := range r.Objects {
		if o.Category != "" {
			objs++
		}
	}
	if len(r.Counts) == 0 {
		head.WriteString("**No change to the recorded state:** the branch holds what the base holds.\n")
	} else {
		head.WriteString("| Change | Objects |\n|---|---:|\n")
		for _, c := range r.Counts {
			fmt.Fprintf(&head, "| %s %s | %d |\n", c.Verb, c.What, c.Number)
		}
		fmt.Fprintf(&head, "| **total** | **%d** |\n", objs)
	}
	foot := "\n---\n<sub>Written by driftback from the diff of `" + info.Head + "` against `" + info.Base + "` under `" + info.Dir + "`; Secret-like values are never shown.</sub>\n" + marker + "\n"

	b := &bounded{limit: limit - len(head.String()) - len(foot) - len(cutNote(1<<40, 1<<40))}
	deletions(b, r.Objects)
	runtimeOnly(b, r.Objects)
	fieldTables(b, r.Objects)
	return head.String() + b.String() + cutNote(b.cutObjects, objs) + foot
}

// bounded is a builder that refuses blocks past its limit and counts the
// objects left out.
type bounded struct {
	strings.Builder
	limit      int
	cutObjects int
	full       bool
}

// add writes block unless it would pass the limit; from the first block
// that does not fit, nothing more is written, so what is shown stays in order.
func (b *bounded) add(block string, objects int) bool {
	if b.full || b.Len()+len(block) > b.limit {
		b.full = true
		b.cutObjects += objects
		return false
	}
	b.WriteString(block)
	return true
}

func cutNote(cut, total int) string {
	if cut == 0 {
		return ""
	}
	return fmt.Sprintf("\n**Cut to fit the host's size limit:** %d of %d objects not listed here; see the pull request's diff.\n", cut, total)
}

// objectName is "Kind `name` in `namespace`".
func objectName(o Object) string {
	if o.Kind == "" {
		return "`" + o.File + "`"
	}
	s := fmt.Sprintf("%s `%s`", o.Kind, o.Name)
	if o.Group != "" && o.Group != "v1" {
		s = fmt.Sprintf("%s.%s `%s`", o.Kind, o.Group, o.Name)
	}
	if o.Namespace != "" {
		s += " in `" + o.Namespace + "`"
	}
	return s
}

// section writes a heading and one block per item, folding the items past
// PullRequestFoldAfter into <details>.
func section(b *bounded, heading string, items []string) {
	if len(items) == 0 {
		return
	}
	if !b.add("\n"+heading+"\n\n", 0) {
		b.cutObjects += len(items)
		return
	}
	for i, it := range items {
		if i == PullRequestFoldAfter {
			if !b.add(fmt.Sprintf("\n<details><summary>%d more</summary>\n\n", len(items)-i), 0) {
				b.cutObjects += len(items) - i
				return
			}
		}
		if !b.add(it, 1) {
			b.cutObjects += len(items) - i - 1
			return
		}
	}
	if len(items) > PullRequestFoldAfter {
		b.add("\n</details>\n", 0)
	}
}

// deletions lists the objects whose record the pull request removes.
func deletions(b *bounded, objs []Object) {
	var items []string
	for _, o := range objs {
		if o.Category != "" && o.Op == "delete" {
			items = append(items, fmt.Sprintf("- %s (%s) `%s`\n", objectName(o), o.Category, o.File))
		}
	}
	section(b, "### ⚠️ Deletions\n\nThese objects are gone from the cluster (or no longer match a rule); merging removes their record from the base:", items)
}

// runtimeOnly lists the whole objects that exist only at run time, with
// where they came from where their recorded fields tell.
func runtimeOnly(b *bounded, objs []Object) {
	var items []string
	for _, o := range objs {
		if o.Category != "resource" || o.Op != "add" {
			continue
		}
		from := origin(o.Fields)
		if from == "" {
			from = "not recorded (owner references are never kept: a rebuilt cluster's owners have new UIDs)"
			if !o.Described {
				from = "not described (past the summary's limit)"
			}
		}
		items = append(items, fmt.Sprintf("- %s: %s\n", objectName(o), from))
	}
	section(b, "### Objects that exist only at run time\n\nNot in Git before driftback: recorded whole, so a rebuild adopts them instead of creating new ones.", items)
}

// origins are the recorded fields that tell who made an object.
var origins = []struct{ path, format string }{
	{`metadata.labels["crossplane.io/composite"]`, "composed by composite `%s`"},
	{`metadata.labels["crossplane.io/claim-name"]`, "for claim `%s`"},
	{`metadata.annotations["crossplane.io/composition-resource-name"]`, "composition resource `%s`"},
	{`spec.claimRef.name`, "bound to claim `%s`"},
	{`metadata.annotations["pv.kubernetes.io/provisioned-by"]`, "provisioned by `%s`"},
	{`metadata.labels["app.kubernetes.io/managed-by"]`, "managed by `%s`"},
	{`metadata.labels["app.kubernetes.io/created-by"]`, "created by `%s`"},
}

// origin reads an added object's fields for its maker: Crossplane's
// composite and claim labels, a PV's claim and provisioner, the
// well-known managed-by labels.
func origin(fields []Field) string {
	vals := map[string]string{}
	for _, f := range fields {
		vals[f.Path] = f.New
	}
	var parts []string
	for _, o := range origins {
		v := vals[o.path]
		if v == "" {
			continue
		}
		switch o.path {
		case `metadata.labels["crossplane.io/claim-name"]`:
			if ns := vals[`metadata.labels["crossplane.io/claim-namespace"]`]; ns != "" {
				v = ns + "/" + v
			}
		case `spec.claimRef.name`:
			if ns := vals[`spec.claimRef.namespace`]; ns != "" {
				v = ns + "/" + v
			}
		}
		parts = append(parts, fmt.Sprintf(o.format, cell(show(v))))
	}
	return strings.Join(parts, "; ")
}

// fieldTables writes one table per changed object: field, old → new.
func fieldTables(b *bounded, objs []Object) {
	var items []string
	for _, o := range objs {
		if o.Category == "" || o.Op == "delete" {
			continue
		}
		var s strings.Builder
		fmt.Fprintf(&s, "#### %s %s\n\n", opWord(o.Op), objectName(o))
		fmt.Fprintf(&s, "Recorded as %s in `%s`.\n\n", o.Category, o.File)
		switch {
		case !o.Described:
			s.WriteString("Fields not compared (past the summary's limit); see the diff.\n")
		case o.Err != "":
			fmt.Fprintf(&s, "Not compared: %s\n", o.Err)
		case len(o.Fields) == 0:
			s.WriteString("No field changed.\n")
		default:
			s.WriteString("| Field | Old | New |\n|---|---|---|\n")
			for _, f := range o.Fields {
				fmt.Fprintf(&s, "| `%s` | %s | %s |\n", cell(f.Path), mdValue(f.Old), mdValue(f.New))
			}
		}
		items = append(items, s.String()+"\n")
	}
	section(b, "### Changed objects", items)
}

func opWord(op string) string {
	switch op {
	case "add":
		return "➕"
	case "delete":
		return "➖"
	}
	return "✏️"
}
