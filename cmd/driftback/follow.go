package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/driftback/driftback/follow"
	"github.com/driftback/driftback/gitsync"
)

// followFlags configure how `run` follows the base branch.
type followFlags struct {
	poll        time.Duration
	webhookAddr string
	secretFile  string
}

func (o *followFlags) addFlags(f *pflag.FlagSet) {
	f.DurationVar(&o.poll, "base-poll", 30*time.Second, "how often to check whether the base branch moved (the side branch is rebuilt on it, captures or not)")
	f.StringVar(&o.webhookAddr, "webhook-addr", "", "address serving POST /hooks/push for GitHub, GitLab and Gitea push events, so the side branch follows at once (off when empty; needs --webhook-secret-file)")
	f.StringVar(&o.secretFile, "webhook-secret-file", "", "file holding the webhook secret the Git host signs push events with")
}

// start runs the follower (side mode only) and the webhook, if asked for,
// until ctx ends or stop is called.
func (o *followFlags) start(ctx context.Context, repo *gitsync.Repo, t gitsync.Target, m *follow.Metrics, active func() bool) (stop func(), err error) {
	if o.poll <= 0 {
		return nil, fmt.Errorf("--base-poll: %v is not allowed: a positive duration (the side branch must follow its base)", o.poll)
	}
	if t.Mode == gitsync.ModeDirect || t.BaseBranch == "" || t.Branch == t.BaseBranch {
		if o.webhookAddr != "" {
			slog.Warn("--webhook-addr ignored: git.mode is direct, there is no side branch to follow")
		}
		return func() {}, nil
	}
	f := &follow.Follower{Repo: repo, Target: t, Interval: o.poll, Active: active, Metrics: m}
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); f.Run(fctx) }()
	stopHook := func() {}
	if o.webhookAddr != "" {
		if stopHook, err = o.serveHook(t.BaseBranch, f.Poke); err != nil {
			cancel()
			<-done
			return nil, err
		}
	}
	return func() { stopHook(); cancel(); <-done }, nil
}

func (o *followFlags) serveHook(branch string, poke func()) (func(), error) {
	if o.secretFile == "" {
		return nil, fmt.Errorf("--webhook-addr needs --webhook-secret-file: push events are accepted only signed with a secret")
	}
	secret, err := os.ReadFile(o.secretFile)
	if err != nil {
		return nil, fmt.Errorf("--webhook-secret-file: %w", err)
	}
	secret = bytes.TrimSpace(secret)
	if len(secret) == 0 {
		return nil, fmt.Errorf("--webhook-secret-file %s: empty", o.secretFile)
	}
	ln, err := net.Listen("tcp", o.webhookAddr)
	if err != nil {
		return nil, fmt.Errorf("--webhook-addr %s: %w", o.webhookAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/hooks/push", &follow.Hook{Secret: secret, Branch: branch, Poke: poke})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("webhook server stopped", "err", err)
		}
	}()
	slog.Info("serving push webhooks on /hooks/push", "addr", ln.Addr().String(), "base", branch)
	return func() {
		sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		_ = srv.Shutdown(sctx)
	}, nil
}
