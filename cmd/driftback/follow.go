package main

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/driftback/driftback/follow"
)

// addFollowFlags binds how `run` follows the base branch (follow.Start).
func addFollowFlags(f *pflag.FlagSet, o *follow.Options) {
	f.DurationVar(&o.Poll, "base-poll", 30*time.Second, "how often to check whether the base branch moved (the side branch is rebuilt on it, captures or not)")
	f.StringVar(&o.WebhookAddr, "webhook-addr", "", "address serving POST /hooks/push for GitHub, GitLab and Gitea push events, so the side branch follows at once (off when empty; needs --webhook-secret-file)")
	f.StringVar(&o.WebhookSecretFile, "webhook-secret-file", "", "file holding the webhook secret the Git host signs push events with")
}
