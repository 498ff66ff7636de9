package pullrequest

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// flaky is a provider that fails while down, as a host in an outage would,
// and otherwise keeps pull requests in memory.
type flaky struct {
	mu     sync.Mutex
	down   error
	prs    []*PR
	bodies []string
}

func (f *flaky) Name() string { return "fake" }

func (f *flaky) fail() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down
}

func (f *flaky) FindOpen(_ context.Context, _, _, marker string) (*PR, error) {
	if err := f.fail(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.prs {
		if strings.Contains(p.Body, marker) {
			c := *p
			return &c, nil
		}
	}
	return nil, nil
}

func (f *flaky) Create(_ context.Context, s Spec) (*PR, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := &PR{Number: int64(len(f.prs) + 1), Title: s.Title, Body: s.Body, Labels: s.Labels}
	f.prs = append(f.prs, p)
	f.bodies = append(f.bodies, s.Body)
	return p, nil
}

func (f *flaky) Update(_ context.Context, pr *PR, s Spec) (*PR, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.prs[pr.Number-1]
	p.Title, p.Body = s.Title, s.Body
	f.bodies = append(f.bodies, s.Body)
	return p, nil
}

func (f *flaky) EnableAutoMerge(context.Context, *PR) error { return nil }

func TestOpenerRetriesInTheBackground(t *testing.T) {
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil)))
	defer slog.SetDefault(prev)

	// The outage's error names the token, as a careless SDK might: it must
	// never reach a log.
	resp := &http.Response{StatusCode: 503, Header: http.Header{}}
	f := &flaky{down: Classify("fake", testToken, resp, errors.New("503 from https://host/?access_token="+testToken), time.Now())}
	m := NewMetrics("fake")
	o := NewOpener(f, m)
	o.MinBackoff, o.MaxBackoff = 10*time.Millisecond, 40*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { o.Run(ctx); close(done) }()

	s := testSpec()
	s.Body = "first\n" + testMarker
	o.Submit(s) // returns at once although the host is down
	s.Body = "second\n" + testMarker
	o.Submit(s) // the newest spec replaces the one not yet synced
	waitFor(t, "two failed tries", func() bool {
		return testutil.ToFloat64(m.Errors.WithLabelValues("fake", ReasonUnavailable)) >= 2
	})
	if testutil.ToFloat64(m.Pending) != 1 {
		t.Error("pending should be 1 while the host is down")
	}
	f.mu.Lock()
	f.down = nil
	f.mu.Unlock()
	waitFor(t, "the pull request once the host is back", func() bool { return testutil.ToFloat64(m.Pending) == 0 })
	if len(f.prs) != 1 || f.prs[0].Body != s.Body {
		t.Fatalf("pull requests = %+v, want one with the newest body", f.prs)
	}
	if got := testutil.ToFloat64(m.Synced.WithLabelValues("fake", string(Opened))); got != 1 {
		t.Errorf("opened = %v, want 1", got)
	}
	// Same spec again: nothing to change.
	o.Submit(s)
	waitFor(t, "the unchanged sync", func() bool { return testutil.ToFloat64(m.Synced.WithLabelValues("fake", string(Unchanged))) == 1 })
	if len(f.bodies) != 1 {
		t.Errorf("bodies written = %d, want 1 (unchanged spec)", len(f.bodies))
	}
	cancel()
	<-done
	if strings.Contains(logs.String(), testToken) {
		t.Errorf("the token reached the log:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "reason=unavailable") || !strings.Contains(logs.String(), "[redacted]") {
		t.Errorf("the log should say why, without the token:\n%s", logs.String())
	}
}

func TestSyncWithinStopsOnPermanentErrors(t *testing.T) {
	f := &flaky{down: &Error{Provider: "fake", Reason: ReasonUnauthorized, Status: 401, Err: errors.New("bad credentials")}}
	o := NewOpener(f, nil)
	o.MinBackoff = time.Millisecond
	res := o.SyncWithin(context.Background(), testSpec(), time.Minute)
	if ReasonOf(res.Err) != ReasonUnauthorized || res.Tries != 1 {
		t.Fatalf("result = %+v, want one unauthorized try", res)
	}
	if !strings.Contains(res.Err.Error(), "tokenFile is wrong, revoked or expired") {
		t.Errorf("error does not say what to do: %v", res.Err)
	}
}

func TestBackoff(t *testing.T) {
	o := NewOpener(&flaky{}, nil)
	for _, tc := range []struct {
		tries      int
		retryAfter time.Duration
		want       time.Duration
	}{
		{1, 0, 5 * time.Second}, {2, 0, 10 * time.Second}, {10, 0, 5 * time.Minute},
		{1, 90 * time.Second, 90 * time.Second}, {1, 3 * time.Hour, time.Hour},
	} {
		if got := o.backoff(tc.tries, tc.retryAfter); got != tc.want {
			t.Errorf("backoff(%d, %s) = %s, want %s", tc.tries, tc.retryAfter, got, tc.want)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
