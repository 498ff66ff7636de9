package gitsync

import (
	"fmt"
	"time"
)

// Mode says how driftback's commits relate to the base branch.
type Mode string

const (
	// ModeSide keeps Branch equal to the base branch's tip plus Dir: when
	// the base moves, the commit is built again on the new tip and pushed
	// with a lease, but only while every commit on Branch since the base is
	// driftback's own (trailer TrailerBase).
	ModeSide Mode = "side"
	// ModeDirect appends to Branch and never forces it (the branch starts
	// from BaseBranch when it does not exist).
	ModeDirect Mode = "direct"
)

// Trailers driftback writes at the end of its commit messages.
const (
	// TrailerDir names the directory the commit wrote; it marks driftback's
	// commits (the summary command looks for it).
	TrailerDir = "Driftback-Dir"
	// TrailerBase names the base commit a side branch was derived from.
	TrailerBase = "Driftback-Base"
	// TrailerCarried names another writer's directory that a re-derived
	// commit carried over from the old tip (several writers, one branch).
	TrailerCarried = "Driftback-Carried"
)

// Target says where a file tree goes.
type Target struct {
	// Branch receives the commits.
	Branch string
	// BaseBranch is where Branch starts, and in ModeSide what it follows.
	BaseBranch string
	// Mode defaults to ModeDirect when Branch is BaseBranch, else ModeSide
	// (ResolveMode).
	Mode Mode
	// Dir is the directory, relative to the repository root, that the file
	// tree replaces. Nothing outside it is touched.
	Dir         string
	AuthorName  string
	AuthorEmail string
	// CommitterName and CommitterEmail default to the author.
	CommitterName  string
	CommitterEmail string
	// Attempts bounds fetch-build-push rounds (rejected pushes, an
	// unreachable server). Default 6.
	Attempts int
	// Backoff between attempts: from MinBackoff (default 200ms), doubling,
	// at most MaxBackoff (default 30s), with jitter so writers spread out.
	MinBackoff, MaxBackoff time.Duration
	// AttemptTimeout bounds one fetch-build-push round, so a server that
	// accepts a connection and then hangs cannot stall the writer for
	// ever. Default 5m (a first fetch of a large repository is a clone).
	AttemptTimeout time.Duration
	// Signer, when set, signs each commit (see OpenPGPSigner).
	Signer Signer
}

// Signer makes a detached, armored signature of a commit's bytes.
type Signer func(message []byte) (string, error)

// ResolveMode is the one rule for a configured mode ("" for the default):
// side unless branch is the base branch, which is only ever appended to
// (direct); side on the base branch is refused, since driftback never
// forces the base branch.
func ResolveMode(m Mode, branch, base string) (Mode, error) {
	switch m {
	case "":
		if branch == base || base == "" {
			return ModeDirect, nil
		}
		return ModeSide, nil
	case ModeSide:
		if branch == base {
			return "", fmt.Errorf("side is not allowed when the branch is the base branch %q (driftback never forces the base branch): use direct, or another branch", base)
		}
		return m, nil
	case ModeDirect:
		return m, nil
	default:
		return "", fmt.Errorf("%q is not allowed: side (follow the base branch, the default) or direct (append, never force)", m)
	}
}

func (t Target) validate() error {
	if t.Branch == "" {
		return fmt.Errorf("target: branch is required")
	}
	if _, err := ResolveMode(t.Mode, t.Branch, t.BaseBranch); err != nil {
		return fmt.Errorf("target: mode %w", err)
	}
	// Checked before any network round: a name the server refuses
	// ("funny refname") would otherwise be retried.
	if err := CheckBranchName(t.Branch); err != nil {
		return permanent(fmt.Errorf("target: branch: %w", err))
	}
	if t.BaseBranch != "" {
		if err := CheckBranchName(t.BaseBranch); err != nil {
			return permanent(fmt.Errorf("target: base branch: %w", err))
		}
	}
	if _, err := CleanDir(t.Dir); err != nil {
		return permanent(fmt.Errorf("target: dir: %w", err))
	}
	return validPath(t.Dir)
}

// mode is t's mode; validate has checked it.
func (t Target) mode() Mode {
	m, _ := ResolveMode(t.Mode, t.Branch, t.BaseBranch)
	return m
}
