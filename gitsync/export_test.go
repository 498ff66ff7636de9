package gitsync

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// The go-git level of the package, for its own tests only.

func (a Auth) Method(url string) (transport.AuthMethod, error) { return a.method(url) }

func OpenMethod(url string, m transport.AuthMethod) (*Repo, error) { return openMethod(url, m) }

func (r *Repo) Fetch(ctx context.Context, branches ...string) (map[string]plumbing.Hash, error) {
	return r.fetch(ctx, branches...)
}

// CaptureLogs sends slog's output to a buffer for the test's duration.
func CaptureLogs(t *testing.T) *LogBuffer {
	t.Helper()
	b := &LogBuffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return b
}

// LogBuffer is a buffer safe for slog's concurrent writers.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *LogBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *LogBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
