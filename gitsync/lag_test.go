package gitsync_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/internal/gitserver"
)

// commitOn appends a commit to branch of the bare repository at repoDir.
func commitOn(t *testing.T, repoDir, branch, path string) {
	t.Helper()
	work := t.TempDir()
	gitserver.Run(t, "", "git", "clone", "-q", "-b", branch, repoDir, work)
	if err := os.WriteFile(filepath.Join(work, path), []byte(path), 0o644); err != nil {
		t.Fatal(err)
	}
	gitserver.Run(t, work, "git", "add", "-A")
	gitserver.Run(t, work, "git", "-c", "user.name=dev", "-c", "user.email=dev@localhost", "commit", "-q", "-m", path)
	gitserver.Run(t, work, "git", "push", "-q", "origin", branch)
}

// Lag counts the base commits the side branch lacks, and an empty update
// (the overlay carried as it is) re-derives the side branch so it lags no
// more, keeping Dir.
func TestLagAndCarry(t *testing.T) {
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "fleet")
	gitserver.Seed(t, repoDir, "main", map[string]string{"apps/x.yaml": "x"})
	r := open(t, url)
	tg := target("driftback/c1", "main", dir)

	lag, err := r.Lag(t.Context(), tg)
	if err != nil || lag.Commits != 0 {
		t.Fatalf("no side branch yet: lag %+v, err %v; want none", lag, err)
	}
	publish(t, r, tg, whole(map[string]string{"a.yaml": "a"}))
	if lag, err = r.Lag(t.Context(), tg); err != nil || lag.Commits != 0 || !lag.Since.IsZero() {
		t.Fatalf("just published: lag %+v, err %v", lag, err)
	}
	commitOn(t, repoDir, "main", "one.txt")
	commitOn(t, repoDir, "main", "two.txt")
	if lag, err = r.Lag(t.Context(), tg); err != nil || lag.Commits != 2 || lag.Since.IsZero() {
		t.Fatalf("two commits on main: lag %+v, err %v; want 2 commits", lag, err)
	}

	res := publish(t, r, tg, func(_ fs.FS) (gitsync.Content, error) { return gitsync.Content{Update: &gitsync.Update{}}, nil })
	if !res.Rederived || res.Commit.IsZero() {
		t.Fatalf("carrying the overlay onto the moved base: %+v, want a re-derived commit", res)
	}
	got, c := files(t, repoDir, "driftback/c1")
	if got["one.txt"] != "one.txt" || got["two.txt"] != "two.txt" || got[dir+"/a.yaml"] != "a" || c.NumParents() != 1 {
		t.Fatalf("side branch %v (%d parents): want main's files and the carried overlay on one parent", got, c.NumParents())
	}
	if !strings.Contains(c.Message, gitsync.TrailerBase+": ") {
		t.Errorf("no %s trailer: %q", gitsync.TrailerBase, c.Message)
	}
	if lag, err = r.Lag(t.Context(), tg); err != nil || lag.Commits != 0 {
		t.Fatalf("after the carry: lag %+v, err %v; want none", lag, err)
	}
	// Nothing moved: an empty update makes no commit.
	if res := publish(t, r, tg, func(fs.FS) (gitsync.Content, error) { return gitsync.Content{Update: &gitsync.Update{}}, nil }); !res.Commit.IsZero() {
		t.Errorf("an empty update with the base unchanged committed %s", res.Commit)
	}
}
