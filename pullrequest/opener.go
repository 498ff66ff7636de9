package pullrequest

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Opener syncs the pull request in the background: Submit never waits for
// the host, so an outage, a rate limit or a bad token never holds up a
// capture or the push of the side branch. Failures are logged with their
// reason, counted, and tried again with exponential backoff (longer when
// the host asks, with Retry-After or a rate-limit reset). Only the newest
// spec is kept: a capture made while the host is down replaces the one
// before it.
type Opener struct {
	p Provider
	m *Metrics
	// MinBackoff and MaxBackoff bound the wait between tries (5s and 5m
	// unless set before Run). A host's Retry-After is honoured up to
	// MaxRetryAfter (1h).
	MinBackoff, MaxBackoff, MaxRetryAfter time.Duration

	mu   sync.Mutex
	want *Spec
	last Result
	kick chan struct{}
}

// Result is the outcome of the last try.
type Result struct {
	Outcome Outcome
	PR      *PR
	Err     error
	// Tries counts the tries of the current spec (1 once it succeeded first time).
	Tries int
}

// NewOpener returns an Opener for p; m may be nil.
func NewOpener(p Provider, m *Metrics) *Opener {
	if m == nil {
		m = NewMetrics(p.Name())
	}
	return &Opener{p: p, m: m, MinBackoff: 5 * time.Second, MaxBackoff: 5 * time.Minute, MaxRetryAfter: time.Hour, kick: make(chan struct{}, 1)}
}

// Submit asks for the pull request to show s. It returns at once.
func (o *Opener) Submit(s Spec) {
	o.mu.Lock()
	o.want = &s
	o.mu.Unlock()
	o.m.Pending.Set(1)
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// Last returns the result of the last try.
func (o *Opener) Last() Result {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last
}

// take returns the newest spec and forgets it.
func (o *Opener) take() *Spec {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.want
	o.want = nil
	return s
}

// retry puts s back unless a newer spec came meanwhile.
func (o *Opener) retry(s *Spec) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.want == nil {
		o.want = s
	}
}

// Run syncs submitted specs until ctx is done.
func (o *Opener) Run(ctx context.Context) {
	tries := 0
	for {
		s := o.take()
		if s == nil {
			o.m.Pending.Set(0)
			select {
			case <-ctx.Done():
				return
			case <-o.kick:
				continue
			}
		}
		tries++
		res := o.try(ctx, *s, tries)
		if res.Err == nil {
			tries = 0
			continue
		}
		if ctx.Err() != nil {
			return
		}
		o.retry(s)
		wait := o.backoff(tries, RetryAfterOf(res.Err))
		slog.Info("pull request: trying again later; captures are pushed meanwhile", "provider", o.p.Name(), "in", wait.Round(time.Second).String(), "tries", tries)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// try syncs once, logs and counts the result.
func (o *Opener) try(ctx context.Context, s Spec, tries int) Result {
	out, pr, err := Sync(ctx, o.p, s)
	res := Result{Outcome: out, PR: pr, Err: err, Tries: tries}
	o.mu.Lock()
	o.last = res
	o.mu.Unlock()
	if out != "" {
		o.m.Synced.WithLabelValues(o.p.Name(), string(out)).Inc()
	}
	if err != nil && ctx.Err() != nil {
		// Shutting down (or snapshot's time is up): not the host's failure.
		slog.Info("pull request: stopped before the host answered", "provider", o.p.Name(), "head", s.Head)
		return res
	}
	if err != nil {
		reason := ReasonOf(err)
		o.m.Errors.WithLabelValues(o.p.Name(), reason).Inc()
		slog.Error("pull request: API call failed; the side branch is pushed regardless", "provider", o.p.Name(), "reason", reason, "head", s.Head, "base", s.Base, "err", err)
		return res
	}
	switch out {
	case Opened:
		slog.Info("pull request opened", "provider", o.p.Name(), "number", pr.Number, "url", pr.URL)
	case Updated:
		slog.Info("pull request updated", "provider", o.p.Name(), "number", pr.Number, "url", pr.URL)
	default:
		slog.Debug("pull request unchanged", "provider", o.p.Name(), "number", pr.Number)
	}
	return res
}

// backoff doubles from MinBackoff to MaxBackoff; a longer wait the host
// asked for wins, up to MaxRetryAfter.
func (o *Opener) backoff(tries int, retryAfter time.Duration) time.Duration {
	d := o.MinBackoff
	for i := 1; i < tries && d < o.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, o.MaxBackoff)
	if retryAfter > d {
		d = min(retryAfter, o.MaxRetryAfter)
	}
	return d
}

// SyncWithin is Submit and Run for a one-shot command (driftback
// snapshot): it tries until the sync succeeds, an error that waiting cannot
// fix (bad token, missing permission, no such repository, a rejected
// request), or the deadline. The capture is pushed before; this only says
// whether the pull request shows it.
func (o *Opener) SyncWithin(ctx context.Context, s Spec, within time.Duration) Result {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for tries := 1; ; tries++ {
		res := o.try(ctx, s, tries)
		if res.Err == nil || !transient(res.Err) {
			return res
		}
		wait := o.backoff(tries, RetryAfterOf(res.Err))
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return res
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return res
		case <-t.C:
		}
	}
}

// transient is true for failures that waiting may fix.
func transient(err error) bool {
	switch ReasonOf(err) {
	case ReasonUnavailable, ReasonRateLimited:
		return true
	}
	return false
}
