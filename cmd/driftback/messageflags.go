package main

import (
	"fmt"
	"os"
	"text/template"

	"github.com/spf13/pflag"

	"github.com/driftback/driftback/config"
	"github.com/driftback/driftback/describe"
	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/writeback"
)

// messageFlags choose how commits are described: the message template and
// a Markdown summary file for a pull request.
type messageFlags struct {
	templateText string
	summaryFile  string
}

func (m *messageFlags) addFlags(f *pflag.FlagSet) {
	f.StringVar(&m.templateText, "message-template", "", "Go text/template for commit messages (overrides git.messageTemplate; see docs/gitsync.md)")
	f.StringVar(&m.summaryFile, "summary-file", "", "write a Markdown summary of the commit (for a pull request) to this file")
}

// template returns the parsed message template: the flag, else the config's.
func (m *messageFlags) template(cfg *config.Config) (*template.Template, error) {
	text, where := cfg.Git.MessageTemplate, "git.messageTemplate"
	if m.templateText != "" {
		text, where = m.templateText, "--message-template"
	}
	t, err := describe.Template(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return t, nil
}

// writeSummary writes the Markdown summary of changes, when asked to.
func (m *messageFlags) writeSummary(cluster string, changes []gitsync.Change) error {
	if m.summaryFile == "" {
		return nil
	}
	text := fmt.Sprintf("### driftback: no change in %s\n\nGit already holds the live state.\n", cluster)
	if len(changes) > 0 {
		text = writeback.Describe(cluster, changes).Markdown()
	}
	if err := os.WriteFile(m.summaryFile, []byte(text), 0o644); err != nil {
		return fmt.Errorf("--summary-file: %w", err)
	}
	return nil
}
