package main

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/config"
	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/restore"
)

// overlaySource says where restore and drill read the overlay: a branch of a
// repository and the overlay's directory in it. The config file supplies
// what the flags leave out.
type overlaySource struct {
	configPath string
	repoURL    string
	branch     string
	dir        string
	git        gitFlags
	// allowHTTP is the config's git.allowInsecureHTTP.
	allowHTTP bool
	// rules are the config's: restore writes only the status they select.
	rules []capture.Rule
	// managers are the config's GitOps managers (nil: the defaults).
	managers []string
	// base is the config's git.baseBranch: provenance is checked since it.
	base string
	// verifyKeys is --verify-signatures.
	verifyKeys string
}

// resolve reads the config file, always: its rules bound what a restore may
// write, whatever the flags give.
func (s *overlaySource) resolve() error {
	cfg, err := config.Load(s.configPath)
	if err != nil {
		return fmt.Errorf("%w (restore and drill write back only the status the config's rules select)", err)
	}
	s.allowHTTP = cfg.Git.AllowInsecureHTTP
	s.rules = cfg.Rules
	s.managers = cfg.GitOpsManagers
	s.base = cfg.Git.BaseBranch
	if err := cfg.Override(config.Overrides{URL: s.repoURL, Branch: s.branch, Path: s.dir}); err != nil {
		return err
	}
	s.repoURL, s.branch, s.dir = cfg.Git.URL, cfg.Git.Branch, cfg.Git.Path
	return nil
}

// open fetches the branch and returns its tree as a file system; restore
// reads an fs.FS. With --verify-signatures the tree is returned only once
// the overlay's provenance is verified.
func (s *overlaySource) open(ctx context.Context) (fs.FS, gitsync.Hash, []gitsync.Verified, error) {
	repo, err := openRepo(s.repoURL, &s.git, s.allowHTTP)
	if err != nil {
		return nil, "", nil, err
	}
	keys, err := loadTrustedKeys(s.verifyKeys)
	if err != nil {
		return nil, "", nil, err
	}
	if keys == nil {
		fsys, h, err := repo.ReadBranch(ctx, s.branch)
		return fsys, h, nil, err
	}
	return repo.ReadBranchVerified(ctx, s.branch, s.base, s.dir, keys)
}

// readBranch is what restore and drill start from: the cluster to write to
// and the branch's tree.
type readBranch struct {
	cluster *restore.Cluster
	host    string
	fsys    fs.FS
	commit  gitsync.Hash
	// verified are the signed commits --verify-signatures checked.
	verified []gitsync.Verified
}

// connect resolves the source, connects to the cluster and fetches the branch.
func (s *overlaySource) connect(ctx context.Context, g *globalFlags) (readBranch, error) {
	if err := s.resolve(); err != nil {
		return readBranch{}, err
	}
	rc, err := g.restConfig()
	if err != nil {
		return readBranch{}, err
	}
	cl, err := restore.NewCluster(rc)
	if err != nil {
		return readBranch{}, err
	}
	fsys, commit, verified, err := s.open(ctx)
	if err != nil {
		return readBranch{}, err
	}
	return readBranch{cluster: cl, host: rc.Host, fsys: fsys, commit: commit, verified: verified}, nil
}
