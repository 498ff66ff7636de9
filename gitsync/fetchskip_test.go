package gitsync

import (
	"context"
	"io/fs"
	"strings"
	"testing"

	"github.com/driftback/driftback/internal/gitserver"
)

// A publish after this Repo's own push asks the server for its references
// once (the fetch's listing), not twice: the push recorded where the
// branch now is, so go-git's fetch, which would advertise the references
// again and download nothing, is skipped. A commit another writer pushed
// in between is still fetched and built on.
func TestPublishAfterOwnPushListsOnce(t *testing.T) {
	srv := gitserver.New(t, gitserver.Options{})
	_, repoDir := srv.CreateRepo(t, "fleet")
	gitserver.Seed(t, repoDir, "main", map[string]string{"apps/x.yaml": "x"})
	front := newFrontDoor(t, srv.URL)
	repo, err := Auth{}.Open(front.URL + "/fleet.git")
	if err != nil {
		t.Fatal(err)
	}
	publish := func(content string) {
		t.Helper()
		if _, err := repo.Publish(context.Background(), Target{Branch: "main", Dir: "d", AuthorName: "a", AuthorEmail: "a@x", Attempts: 1},
			func(fs.FS) (Content, error) {
				return Content{Files: map[string][]byte{"status/o.yaml": []byte(content)}}, nil
			}); err != nil {
			t.Fatal(err)
		}
	}
	publish("one")
	front.listings.Store(0)
	publish("two")
	if n := front.listings.Load(); n != 1 {
		t.Fatalf("a publish after this Repo's own push listed the server's references %d times, want 1", n)
	}

	// Another writer moves the branch: the next publish fetches it and
	// keeps its file.
	work := t.TempDir()
	gitserver.Run(t, work, "git", "clone", "-q", repoDir, ".")
	gitserver.Run(t, work, "sh", "-c", "echo outside > apps/y.yaml && git add -A && git -c user.name=o -c user.email=o@x commit -q -m outside && git push -q origin HEAD:main")
	front.listings.Store(0)
	publish("three")
	if n := front.listings.Load(); n != 2 {
		t.Fatalf("a publish after another writer's push listed the server's references %d times, want 2 (the listing and go-git's fetch)", n)
	}
	if got := gitserver.Run(t, repoDir, "git", "show", "main:apps/y.yaml"); strings.TrimSpace(got) != "outside" {
		t.Fatalf("the other writer's file after the publish = %q", got)
	}
	if got := gitserver.Run(t, repoDir, "git", "show", "main:d/status/o.yaml"); got != "three" {
		t.Fatalf("the publish's file = %q", got)
	}
}
