package describe

import (
	"fmt"
	"strings"
	"text/template"
	tparse "text/template/parse"
)

// DefaultTemplate is the commit message unless configured otherwise.
const DefaultTemplate = "{{.Subject}}\n\n{{.Body}}"

// Template parses a commit message template. It sees a Report: .Cluster,
// .Subject, .Body, .Objects (each with .File .Category .Namespace .Kind
// .Name .Op .What .Fields) and .Counts.
func Template(text string) (*template.Template, error) {
	if strings.TrimSpace(text) == "" {
		text = DefaultTemplate
	}
	t, err := template.New("message").Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("message template: %w", err)
	}
	// Fail now, not at the first commit: run it on an empty report.
	if _, err := Message(t, Describe("example", nil)); err != nil {
		return nil, err
	}
	return t, nil
}

// Message renders a report with a template.
func Message(t *template.Template, r Report) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, r); err != nil {
		return "", fmt.Errorf("message template: %w", err)
	}
	if strings.TrimSpace(b.String()) == "" {
		return "", fmt.Errorf("message template: produced an empty message")
	}
	return b.String(), nil
}

// Markdown is a summary for a pull request: the subject as a heading and
// a table of the changed fields, at most SummaryRows rows, then a line
// counting the objects left out.
func (r Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### driftback: %s\n\n", r.Subject)
	if len(r.Objects) == 0 {
		b.WriteString("No change to the recorded state.\n")
		return b.String()
	}
	b.WriteString("| Object | Recorded as | Field | Old | New |\n|---|---|---|---|---|\n")
	rows, more, moreFiles := 0, r.untold, 0
	for _, o := range r.Objects {
		// An object's rows stay together: one that does not fit whole, or
		// was not described, is counted instead (the overlay's own files
		// take one row each and are never described).
		need := 1
		if o.Op != "delete" && o.Category != "" && len(o.Fields) > 0 {
			need = len(o.Fields)
		}
		if rows+need > SummaryRows || (o.Category != "" && !o.Described) {
			if o.Category == "" {
				moreFiles++
			} else {
				more++
			}
			continue
		}
		rows += need
		obj := "`" + o.File + "`"
		if o.Kind != "" {
			obj = fmt.Sprintf("%s `%s`", o.Kind, o.Name)
			if o.Namespace != "" {
				obj += " in `" + o.Namespace + "`"
			}
		}
		cat := o.Category
		if cat == "" {
			cat = "overlay file"
		}
		switch {
		case o.Op == "delete":
			fmt.Fprintf(&b, "| %s | %s | *dropped* | | |\n", obj, cat)
		case len(o.Fields) == 0 || o.Category == "":
			// The overlay's own files change because the objects did.
			fmt.Fprintf(&b, "| %s | %s | | | |\n", obj, cat)
		}
		if o.Op == "delete" || o.Category == "" {
			continue
		}
		for _, f := range o.Fields {
			fmt.Fprintf(&b, "| %s | %s | `%s` | %s | %s |\n", obj, cat, cell(f.Path), mdValue(f.Old), mdValue(f.New))
		}
	}
	switch {
	case more > 0 && moreFiles > 0:
		fmt.Fprintf(&b, "\n… and %d more %s and %d more %s, not shown (see the commit's diff).\n", more, noun(more, "object"), moreFiles, noun(moreFiles, "overlay file"))
	case more > 0:
		fmt.Fprintf(&b, "\n… and %d more %s, not shown (see the commit's diff).\n", more, noun(more, "object"))
	case moreFiles > 0:
		fmt.Fprintf(&b, "\n… and %d more %s, not shown (see the commit's diff).\n", moreFiles, noun(moreFiles, "overlay file"))
	}
	return b.String()
}

func mdValue(v string) string {
	if v == "" {
		return "—"
	}
	return "`" + cell(show(v)) + "`"
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// ReadsObjects is false when a message template reads nothing of a report
// but .Cluster, .Subject, .Body, .Counts and what the report's methods
// other than PullRequestBody show, so Commit's report (which keeps only the
// objects those show) renders it exactly as Describe's would. It is true
// when in doubt: a template that names .Objects, passes the whole report
// on ({{.}}, $, {{template}}) or uses a construct it does not know.
func ReadsObjects(t *template.Template) bool {
	for _, tt := range t.Templates() {
		if tt.Tree != nil && readsObjects(tt.Tree.Root) {
			return true
		}
	}
	return false
}

func readsObjects(n tparse.Node) bool {
	switch n := n.(type) {
	case nil:
		return false
	case *tparse.ListNode:
		if n == nil {
			return false
		}
		for _, c := range n.Nodes {
			if readsObjects(c) {
				return true
			}
		}
		return false
	case *tparse.TextNode, *tparse.CommentNode, *tparse.BreakNode, *tparse.ContinueNode,
		*tparse.IdentifierNode, *tparse.BoolNode, *tparse.NumberNode, *tparse.StringNode, *tparse.NilNode:
		return false
	case *tparse.ActionNode:
		return readsObjects(n.Pipe)
	case *tparse.IfNode:
		return readsObjects(n.Pipe) || readsObjects(n.List) || readsObjects(n.ElseList)
	case *tparse.RangeNode:
		return readsObjects(n.Pipe) || readsObjects(n.List) || readsObjects(n.ElseList)
	case *tparse.WithNode:
		return readsObjects(n.Pipe) || readsObjects(n.List) || readsObjects(n.ElseList)
	case *tparse.PipeNode:
		if n == nil {
			return false
		}
		for _, c := range n.Cmds {
			if readsObjects(c) {
				return true
			}
		}
		return false
	case *tparse.CommandNode:
		for _, a := range n.Args {
			if readsObjects(a) {
				return true
			}
		}
		return false
	case *tparse.FieldNode:
		return namesObjects(n.Ident)
	case *tparse.ChainNode:
		return readsObjects(n.Node) || namesObjects(n.Field)
	case *tparse.VariableNode:
		// $ alone is the whole report.
		return len(n.Ident) == 1 && n.Ident[0] == "$" || namesObjects(n.Ident)
	}
	// {{.}}, {{template}} and anything new: the whole report may be read.
	return true
}

func namesObjects(idents []string) bool {
	for _, id := range idents {
		if id == "Objects" || id == "PullRequestBody" {
			return true
		}
	}
	return false
}
