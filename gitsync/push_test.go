package gitsync

import (
	"context"
	"errors"
	"io/fs"
	"testing"

	"github.com/driftback/driftback/internal/gitserver"
)

// The push is a compare-and-swap on the server: built on a tip that has
// moved since, it is rejected (and Publish starts over), never applied.
func TestPushIsCompareAndSwap(t *testing.T) {
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "fleet")
	gitserver.Seed(t, repoDir, "main", map[string]string{"apps/x.yaml": "x"})
	ctx := context.Background()
	r, err := Open(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	tips, err := r.Fetch(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	stale := tips["main"]
	tg := Target{Branch: "main", Dir: "d", AuthorName: "a", AuthorEmail: "a@x"}
	p := plan{parent: stale}
	if err := r.fillRoot(&p); err != nil {
		t.Fatal(err)
	}
	r.written.take()
	mine, _, err := r.build(p, tg, Content{Files: map[string][]byte{"mine.yaml": []byte("1")}})
	if err != nil {
		t.Fatal(err)
	}
	objs := r.written.take()

	// Someone else moves main first.
	other, err := Open(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Publish(ctx, Target{Branch: "main", Dir: "o", AuthorName: "o", AuthorEmail: "o@x"},
		func(fs.FS) (Content, error) {
			return Content{Files: map[string][]byte{"theirs.yaml": []byte("1")}}, nil
		}); err != nil {
		t.Fatal(err)
	}
	err = r.pushPack(ctx, "main", stale, mine, objs)
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("push on a moved tip: err = %v, want ErrRejected", err)
	}
	if got := gitserver.Run(t, repoDir, "git", "show", "main:o/theirs.yaml"); got != "1" {
		t.Errorf("the other writer's commit was overwritten")
	}
}
