package main

import (
	"github.com/spf13/pflag"

	"github.com/driftback/driftback/config"
	"github.com/driftback/driftback/writeback"
)

// configFlags are the flags every command that writes to Git shares: where
// the configuration is, where it goes, the credentials and the safety
// switches.
type configFlags struct {
	configPath string
	repoURL    string
	branch     string
	opts       writeback.Options
	git        gitFlags
}

func (c *configFlags) register(f *pflag.FlagSet) {
	f.StringVarP(&c.configPath, "config", "c", "driftback.yaml", "configuration file")
	f.StringVar(&c.repoURL, "repo", "", "Git repository URL or local path (overrides git.url)")
	f.StringVar(&c.branch, "branch", "", "branch to write (overrides git.branch)")
	f.BoolVar(&c.opts.Adopt, "adopt", false, "write a branch recorded for another cluster (after a rebuild, once restored)")
	f.BoolVar(&c.opts.AllowDeletions, "allow-deletions", false, "let the first commit drop more than --max-delete-share of the recorded objects")
	f.Float64Var(&c.opts.MaxDeleteShare, "max-delete-share", 0.2, "largest share (0-1) of recorded objects one commit may drop")
	c.git.addFlags(f)
}

// load validates the flags, reads the configuration and applies the
// overrides.
func (c *configFlags) load() (*config.Config, error) {
	if err := c.opts.Validate(); err != nil {
		return nil, err
	}
	cfg, err := config.Load(c.configPath)
	if err != nil {
		return nil, err
	}
	if err := cfg.Override(config.Overrides{URL: c.repoURL, Branch: c.branch}); err != nil {
		return nil, err
	}
	return cfg, nil
}
