package follow

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/internal/httpserve"
)

// Options say how `run` follows the base branch.
type Options struct {
	// Poll is how often the base is checked (--base-poll).
	Poll time.Duration
	// WebhookAddr serves POST /hooks/push when set (--webhook-addr).
	WebhookAddr string
	// WebhookSecretFile holds the secret push events are signed with.
	WebhookSecretFile string
}

// Start runs a follower (side mode only) and the push webhook, if asked
// for, until ctx ends or stop is called. active says whether this process
// writes (leader election); rerender asks its writer for a publish
// (Follower.Rerender).
func Start(ctx context.Context, repo *gitsync.Repo, t gitsync.Target, o Options, m *Metrics, active func() bool, rerender func()) (stop func(), err error) {
	if o.Poll <= 0 {
		return nil, fmt.Errorf("--base-poll: %v is not allowed: a positive duration (the side branch must follow its base)", o.Poll)
	}
	if t.Mode == gitsync.ModeDirect || t.BaseBranch == "" || t.Branch == t.BaseBranch {
		if o.WebhookAddr != "" {
			slog.Warn("--webhook-addr ignored: git.mode is direct, there is no side branch to follow")
		}
		return func() {}, nil
	}
	f := &Follower{Repo: repo, Target: t, Interval: o.Poll, Active: active, Metrics: m, Rerender: rerender}
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); f.Run(fctx) }()
	stopHook := func() {}
	if o.WebhookAddr != "" {
		if stopHook, err = o.serveHook(t.BaseBranch, f.Poke); err != nil {
			cancel()
			<-done
			return nil, err
		}
	}
	return func() { stopHook(); cancel(); <-done }, nil
}

func (o Options) serveHook(branch string, poke func()) (func(), error) {
	if o.WebhookSecretFile == "" {
		return nil, fmt.Errorf("--webhook-addr needs --webhook-secret-file: push events are accepted only signed with a secret")
	}
	secret, err := os.ReadFile(o.WebhookSecretFile)
	if err != nil {
		return nil, fmt.Errorf("--webhook-secret-file: %w", err)
	}
	secret = bytes.TrimSpace(secret)
	if len(secret) == 0 {
		return nil, fmt.Errorf("--webhook-secret-file %s: empty", o.WebhookSecretFile)
	}
	mux := http.NewServeMux()
	mux.Handle("/hooks/push", &Hook{Secret: secret, Branch: branch, Poke: poke})
	stop, addr, err := httpserve.Start(o.WebhookAddr, "--webhook-addr", mux)
	if err != nil {
		return nil, err
	}
	slog.Info("serving push webhooks on /hooks/push", "addr", addr, "base", branch)
	return stop, nil
}
