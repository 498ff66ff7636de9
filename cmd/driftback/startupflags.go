package main

import (
	"time"

	"github.com/driftback/driftback/gitsync"

	"github.com/spf13/pflag"
)

// startupFlags govern what `run` does when it starts in a cluster that the
// branch does not record (writeback.Startup).
type startupFlags struct {
	restoreOnStart bool
	restoreWait    time.Duration
	adoptionPoll   time.Duration
	verifyKeys     string
	unverified     bool
}

func (o *startupFlags) addFlags(f *pflag.FlagSet) {
	f.BoolVar(&o.restoreOnStart, "restore-on-start", true, "when the branch records another cluster (this one was rebuilt), write its captured status into this cluster before anything else")
	f.DurationVar(&o.restoreWait, "restore-wait", 5*time.Minute, "how long the start-up restore waits for objects the GitOps tool has not created yet")
	f.StringVar(&o.verifyKeys, "verify-signatures", "", verifySignaturesHelp+" before the start-up restore; otherwise nothing is restored")
	f.BoolVar(&o.unverified, "restore-unverified", false, "let the start-up restore run without --verify-signatures: the rules still bound which fields are written, but whoever can push to the branch chooses their values")
	f.DurationVar(&o.adoptionPoll, "adoption-poll", 30*time.Second, "while waiting for adoption, how often to check whether the branch was adopted (driftback snapshot --adopt)")
}

const verifySignaturesHelp = "file of trusted public keys (armored OpenPGP and/or SSH authorized_keys lines): every commit that changed the overlay since the base must carry a good signature by one of them"

// loadTrustedKeys reads --verify-signatures; nil when it is not given.
func loadTrustedKeys(name string) (*gitsync.TrustedKeys, error) {
	if name == "" {
		return nil, nil
	}
	return gitsync.LoadTrustedKeys(name)
}
