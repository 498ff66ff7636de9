package gitsync_test

import (
	"context"
	"io/fs"
	"testing"

	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/internal/gitserver"
)

type dirHasher interface {
	DirHash(dir string) (gitsync.Hash, bool)
}

// Result.Dir names the directory a publish left behind: the next parent's
// DirHash is the same while nobody else writes there, with a commit or
// without one, and moves when someone does.
func TestResultDirIsTheNextParentsDirHash(t *testing.T) {
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "fleet")
	gitserver.Seed(t, repoDir, "main", map[string]string{"apps/x.yaml": "x"})
	r := open(t, url)
	tg := gitsync.Target{Branch: "main", BaseBranch: "main", Dir: "clusters/c1/driftback", AuthorName: "a", AuthorEmail: "a@x"}
	var seen gitsync.Hash
	publish := func(c gitsync.Content) gitsync.Result {
		t.Helper()
		res, err := r.Publish(context.Background(), tg, func(parent fs.FS) (gitsync.Content, error) {
			h, ok := parent.(dirHasher).DirHash(tg.Dir)
			if !ok {
				t.Fatal("no DirHash")
			}
			seen = h
			return c, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	first := publish(gitsync.Content{Files: map[string][]byte{"a.yaml": []byte("1")}})
	if seen != "" || first.Dir.IsZero() || first.Commit.IsZero() {
		t.Fatalf("first publish: parent dir %q, result %+v", seen, first)
	}
	same := publish(gitsync.Content{Update: &gitsync.Update{Changed: map[string][]byte{"a.yaml": []byte("1")}}})
	if seen != first.Dir || same.Dir != first.Dir || !same.Commit.IsZero() {
		t.Fatalf("no-change publish: parent dir %q, result %+v, want dir %q", seen, same, first.Dir)
	}
	next := publish(gitsync.Content{Update: &gitsync.Update{Changed: map[string][]byte{"b.yaml": []byte("2")}}})
	if seen != first.Dir || next.Dir == first.Dir || next.Commit.IsZero() {
		t.Fatalf("update: parent dir %q, result %+v", seen, next)
	}
	// Someone else writes into the directory: the next parent differs.
	publish(gitsync.Content{Files: map[string][]byte{"a.yaml": []byte("1"), "b.yaml": []byte("2"), "c.yaml": []byte("3")}})
	if seen != next.Dir {
		t.Fatalf("parent dir %q, want %q", seen, next.Dir)
	}
	publish(gitsync.Content{Files: map[string][]byte{"a.yaml": []byte("1")}})
	if seen == next.Dir {
		t.Fatal("the parent's DirHash did not move with its content")
	}
	fsys, _, err := r.ReadBranch(context.Background(), "main")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fsys.(dirHasher).DirHash("."); ok {
		t.Error(`a DirHash for "."`)
	}
	if h, ok := fsys.(dirHasher).DirHash("nowhere"); !ok || h != "" {
		t.Errorf("DirHash of a missing directory = %q, %v", h, ok)
	}
}
