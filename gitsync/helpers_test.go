package gitsync_test

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/internal/gitserver"
)

// whole returns a Prepare that writes files as Dir's whole content.
func whole(files map[string]string) gitsync.Prepare {
	return func(fs.FS) (gitsync.Content, error) {
		m := map[string][]byte{}
		for p, c := range files {
			m[p] = []byte(c)
		}
		return gitsync.Content{Files: m}, nil
	}
}

// delta returns a Prepare that changes and removes some files of Dir.
func delta(changed map[string]string, removed ...string) gitsync.Prepare {
	return func(fs.FS) (gitsync.Content, error) {
		u := &gitsync.Update{Changed: map[string][]byte{}, Removed: removed}
		for p, c := range changed {
			u.Changed[p] = []byte(c)
		}
		return gitsync.Content{Update: u}, nil
	}
}

func target(branch, base, dir string) gitsync.Target {
	return gitsync.Target{Branch: branch, BaseBranch: base, Dir: dir, AuthorName: "driftback", AuthorEmail: "driftback@localhost",
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}
}

func open(t *testing.T, url string) *gitsync.Repo {
	t.Helper()
	r, err := gitsync.Auth{}.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func publish(t *testing.T, r *gitsync.Repo, tg gitsync.Target, p gitsync.Prepare) gitsync.Result {
	t.Helper()
	res, err := r.Publish(context.Background(), tg, p)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	return res
}

// files reads every file of branch in the bare repository at dir.
func files(t *testing.T, dir, branch string) (map[string]string, *object.Commit) {
	t.Helper()
	out, c, ok := gitserver.BranchFiles(t, dir, branch)
	if !ok {
		t.Fatalf("branch %s not found", branch)
	}
	return out, c
}

// history lists the subjects of branch's first-parent history, newest first.
func history(t *testing.T, dir, branch string) []string {
	t.Helper()
	_, c := files(t, dir, branch)
	var out []string
	for {
		out = append(out, strings.SplitN(c.Message, "\n", 2)[0])
		if c.NumParents() == 0 {
			return out
		}
		p, err := c.Parent(0)
		if err != nil {
			t.Fatal(err)
		}
		c = p
	}
}

// metric returns the value of a Repo's metric.
func metric(t *testing.T, r *gitsync.Repo, name string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(r.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		m := mf.GetMetric()[0]
		if c := m.GetCounter(); c != nil {
			return c.GetValue()
		}
		return m.GetGauge().GetValue()
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not synchronisation
	}
}

// captureLogs sends slog's output to a buffer for the test's duration.
func captureLogs(t *testing.T) fmt.Stringer { return gitsync.CaptureLogs(t) }
