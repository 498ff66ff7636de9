package config

import (
	"fmt"

	"github.com/driftback/driftback/gitsync"
)

// Overrides are the command line's replacements for git.url, git.branch and
// git.path; empty fields leave the configuration's value.
type Overrides struct {
	URL    string
	Branch string
	Path   string
}

// Override applies o and checks that a repository is named. The mode is
// resolved again for the branch o names: a --branch naming the base branch
// is appended to (direct), whatever the file chose, since the base branch
// is never forced.
func (c *Config) Override(o Overrides) error {
	if o.URL != "" {
		c.Git.URL = o.URL
	}
	if o.Path != "" {
		c.Git.Path = o.Path
		if err := checkNotSelf(c.Git.Path, c.Overlay.Resources); err != nil {
			return fmt.Errorf("--path: %w", err)
		}
	}
	if o.Branch != "" {
		c.Git.Branch = o.Branch
		if o.Branch == c.Git.BaseBranch {
			c.Git.modeWritten = ""
		}
		if err := c.Git.resolveMode(); err != nil {
			return err
		}
	}
	if c.Git.URL == "" {
		return fmt.Errorf("git.url: required (in the config or as --repo)")
	}
	return nil
}

// resolveMode sets Mode by gitsync's rule from the mode the file wrote.
func (g *Git) resolveMode() error {
	m, err := gitsync.ResolveMode(gitsync.Mode(g.modeWritten), g.Branch, g.BaseBranch)
	if err != nil {
		return fmt.Errorf("git.mode: %w", err)
	}
	g.Mode = string(m)
	return nil
}
