package config

import (
	"fmt"
	"time"
)

// The deletion guard's defaults: the record may lose at most this share of
// the most objects it held within the window before a person confirms.
const (
	DefaultDeletionWindow   = 24 * time.Hour
	DefaultMaxShareInWindow = 0.3
	// maxDeletionWindow bounds the history walked at each commit.
	maxDeletionWindow = 30 * 24 * time.Hour
)

// DeletionGuardIn is the mass-deletion guard over a window, as written:
//
//	deletionGuard:
//	  window: 24h            # how far back to look; 0 turns the window off
//	  maxShareInWindow: 0.3  # largest share of the window's peak that may be gone
//
// The per-commit limit is the --max-delete-share flag; this one stops a
// deletion spread over many commits (one object every few seconds).
type DeletionGuardIn struct {
	Window           string   `json:"window"`
	MaxShareInWindow *float64 `json:"maxShareInWindow"`
}

// DeletionGuard is the validated guard over a window.
type DeletionGuard struct {
	// Window is how far back the branch's history is read; 0: off.
	Window time.Duration
	// MaxShareInWindow is the largest share (0–1) of the most objects
	// recorded within Window that a commit may leave missing.
	MaxShareInWindow float64
}

func (in DeletionGuardIn) compile() (DeletionGuard, error) {
	g := DeletionGuard{Window: DefaultDeletionWindow, MaxShareInWindow: DefaultMaxShareInWindow}
	if in.Window != "" {
		d, err := time.ParseDuration(in.Window)
		if err != nil || d < 0 || d > maxDeletionWindow {
			return g, fmt.Errorf("deletionGuard.window: %q is not allowed: a duration from 0 (off) to %s, such as 6h or 24h (Go syntax: h, m, s)", in.Window, maxDeletionWindow)
		}
		g.Window = d
	}
	if s := in.MaxShareInWindow; s != nil {
		if *s < 0 || *s > 1 {
			return g, fmt.Errorf("deletionGuard.maxShareInWindow: %v is not allowed: a share from 0 to 1 (0.3 = at most 30%% of the most objects recorded within the window may be gone)", *s)
		}
		g.MaxShareInWindow = *s
	}
	return g, nil
}
