package gitsync

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/driftback/driftback/internal/gitserver"
)

// The push is a compare-and-swap on the server: built on a tip that has
// moved since, it is rejected (and Publish starts over), never applied.
func TestPushIsCompareAndSwap(t *testing.T) {
	r, url, repoDir := fleet(t)
	ctx := context.Background()
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
	mine, _, _, err := r.build(p, tg, Content{Files: map[string][]byte{"mine.yaml": []byte("1")}})
	if err != nil {
		t.Fatal(err)
	}
	objs := r.written.take()

	// Someone else moves main first.
	other, err := Auth{}.Open(url)
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

func TestPackWindow(t *testing.T) {
	tests := []struct {
		objects int
		want    uint
	}{
		{1, 10},
		{deltaSearchMax, 10},
		{deltaSearchMax + 1, 0},
		{100000, 0},
	}
	for _, tc := range tests {
		if got := packWindow(tc.objects); got != tc.want {
			t.Errorf("packWindow(%d) = %d, want %d", tc.objects, got, tc.want)
		}
	}
}

// Pushes with and without delta search land whole: the server's own git
// reads every file back and finds the repository sound.
func TestPushWithoutDeltaSearch(t *testing.T) {
	tests := []struct {
		name  string
		files int
	}{
		{"few objects, delta search", 10},
		{"many objects, none", deltaSearchMax + 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := gitserver.New(t, gitserver.Options{})
			url, repoDir := srv.CreateRepo(t, "fleet")
			r, err := Auth{}.Open(url)
			if err != nil {
				t.Fatal(err)
			}
			files := map[string][]byte{}
			for i := range tc.files {
				files[fmt.Sprintf("status/ns/g_K/o-%05d.yaml", i)] = fmt.Appendf(nil, "status:\n  arn: arn:aws:s3:::bucket-%05d\n", i)
			}
			// Two files of one content: one blob, in the pack once.
			files["same/a.yaml"], files["same/b.yaml"] = []byte("same\n"), []byte("same\n")
			res, err := r.Publish(context.Background(), Target{Branch: "main", Dir: "d", AuthorName: "a", AuthorEmail: "a@x"},
				func(fs.FS) (Content, error) { return Content{Files: files}, nil })
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Changes) != tc.files+2 {
				t.Errorf("changes = %d, want %d", len(res.Changes), tc.files)
			}
			gitserver.Run(t, repoDir, "git", "fsck", "--strict", "--no-dangling")
			last := fmt.Sprintf("status/ns/g_K/o-%05d.yaml", tc.files-1)
			if got := gitserver.Run(t, repoDir, "git", "show", "main:d/"+last); got != string(files[last]) {
				t.Errorf("server has %s = %q, want %q", last, got, files[last])
			}
		})
	}
}
