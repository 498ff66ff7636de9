package gitsync

import (
	"context"
	"fmt"
	"io/fs"
	"testing"

	"github.com/driftback/driftback/internal/gitserver"
)

// A long-running writer drops its in-memory objects now and then and keeps
// publishing correctly from a fresh fetch, without hashing its files again.
func TestRefreshDropsObjectsAndKeepsWorking(t *testing.T) {
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "fleet")
	gitserver.Seed(t, repoDir, "main", map[string]string{"apps/x.yaml": "x"})
	r, err := Auth{}.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	r.RefreshAfter = 3
	tg := Target{Branch: "driftback/c1", BaseBranch: "main", Dir: "clusters/c1/driftback", AuthorName: "d", AuthorEmail: "d@x"}
	files := map[string][]byte{}
	for i := range 20 {
		files[fmt.Sprintf("f%02d.yaml", i)] = []byte("v0")
	}
	prepare := func(fs.FS) (Content, error) { return Content{Files: files}, nil }
	if _, err := r.Publish(context.Background(), tg, prepare); err != nil {
		t.Fatal(err)
	}
	refreshed := false
	for round := range 7 {
		files["f00.yaml"] = fmt.Appendf(nil, "v%d", round+1)
		storeBefore := r.repo
		res, err := r.Publish(context.Background(), tg, prepare)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if res.Commit.IsZero() || len(res.Changes) != 1 {
			t.Fatalf("round %d: commit %s, changes %v; want one change", round, res.Commit, res.Changes)
		}
		if r.repo != storeBefore {
			refreshed = true
			// The state survived the refresh: every sum is still known.
			for p, fs := range r.states[tg.Dir].files {
				if !fs.hasSum {
					t.Errorf("after a refresh, %s lost its content sum", p)
				}
			}
		}
	}
	if !refreshed {
		t.Fatal("the repository was never refreshed")
	}
	got := gitserver.Run(t, repoDir, "git", "show", "driftback/c1:clusters/c1/driftback/f00.yaml")
	if got != "v7" {
		t.Errorf("f00.yaml = %q, want v7", got)
	}
}
