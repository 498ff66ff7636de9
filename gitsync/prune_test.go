package gitsync

import (
	"context"
	"fmt"
	"io/fs"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/driftback/driftback/internal/gitserver"
)

// A long-running writer prunes its in-memory objects every few commits and
// keeps publishing correctly: each commit's old content is still diffed,
// the deletion window's walk still finds the directory in every commit, a
// file system handed out before a prune still reads, and a call that needs
// an object the prune dropped (an old commit's directory) gets it from a
// fresh fetch.
func TestPruneKeepsWhatLaterCallsRead(t *testing.T) {
	_, url, repoDir := fleet(t)
	tg := Target{Branch: "driftback/c1", BaseBranch: "main", Dir: "clusters/c1/driftback", AuthorName: "d", AuthorEmail: "d@x"}
	files := map[string][]byte{}
	for i := range 20 {
		files[fmt.Sprintf("status/%02x/f%02d.yaml", i%4, i)] = []byte("v0")
	}
	const changed = "status/00/f00.yaml"

	run := func(t *testing.T, pruneAfter int) *Repo {
		r, err := Auth{}.Open(url)
		if err != nil {
			t.Fatal(err)
		}
		r.PruneAfter = pruneAfter
		if _, err := r.Publish(context.Background(), tg, func(fs.FS) (Content, error) { return Content{Files: files}, nil }); err != nil {
			t.Fatal(err)
		}
		var early fs.FS
		pruned := false
		for round := range 12 {
			next := fmt.Appendf(nil, "%s-r%d", t.Name(), round)
			walked := 0
			res, err := r.Publish(context.Background(), tg, func(parent fs.FS) (Content, error) {
				err := parent.(History).Recent(tg.Dir, time.Time{}, func(c Recorded, _ func() ([]string, error)) error {
					if c.Dir != "" {
						walked++ // driftback's commits; main's seed has none
					}
					return nil
				})
				return Content{Update: &Update{Changed: map[string][]byte{changed: next}}}, err
			})
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			if len(res.Changes) != 1 || res.Changes[0].Path != changed || len(res.Changes[0].Old) == 0 {
				t.Fatalf("round %d: changes %+v; want %s with its old content", round, res.Changes, changed)
			}
			if walked < round+1 {
				t.Fatalf("round %d: the history walk found the directory in %d commits", round, walked)
			}
			pruned = pruned || r.store().pruned
			if round == 1 {
				if early, _, err = r.ReadBranch(context.Background(), tg.Branch); err != nil {
					t.Fatal(err)
				}
			}
		}
		if pruneAfter > 0 && !pruned {
			t.Fatal("the repository was never pruned")
		}
		if r.store().incomplete {
			t.Error("a publish needed an object the prune dropped")
		}
		// Read after the prunes: the content as it was at round 1.
		if b, err := fs.ReadFile(early, tg.Dir+"/"+changed); err != nil || string(b) != t.Name()+"-r1" {
			t.Errorf("a file system from before the prune reads %q, %v; want %q", b, err, t.Name()+"-r1")
		}
		return r
	}
	trees := func(r *Repo) int {
		n := 0
		for _, o := range r.store().objs {
			if o.typ == plumbing.TreeObject || o.typ == plumbing.BlobObject {
				n++
			}
		}
		return n
	}

	never := run(t, -1)
	r := run(t, 3)
	if got, all := trees(r), trees(never); got >= all {
		t.Errorf("pruned every 3 commits the Repo holds %d trees and blobs, never pruned %d", got, all)
	}
	// Pruned now, the last commit's parent directory is dropped: LastChange
	// diffs against it, so it reads the history afresh.
	if err := r.prune(tg.Dir); err != nil {
		t.Fatal(err)
	}
	_, ch, err := r.LastChange(context.Background(), tg.Branch, tg.Dir)
	if err != nil || len(ch) != 1 || string(ch[0].Old) != t.Name()+"-r10" || string(ch[0].New) != t.Name()+"-r11" {
		t.Fatalf("LastChange after a prune: %+v, %v", ch, err)
	}
	if r.store().pruned {
		t.Error("LastChange read a dropped directory without fetching afresh")
	}
	got := gitserver.Run(t, repoDir, "git", "show", "driftback/c1:clusters/c1/driftback/"+changed)
	if got != t.Name()+"-r11" {
		t.Errorf("%s = %q, want the last round's", changed, got)
	}
}

// A prune that cannot read what it must keep (here an old commit's root
// tree is missing) only saves memory: the publish goes on, and the store,
// marked incomplete, is fetched afresh.
func TestPruneFailureDoesNotStopPublishing(t *testing.T) {
	r, _, repoDir := fleet(t)
	r.PruneAfter = 1
	tg := Target{Branch: "driftback/c1", BaseBranch: "main", Dir: "clusters/c1/driftback", AuthorName: "d", AuthorEmail: "d@x"}
	publish := func(v string) {
		t.Helper()
		res, err := r.Publish(context.Background(), tg, func(fs.FS) (Content, error) {
			return Content{Files: map[string][]byte{"f.yaml": []byte(v)}}, nil
		})
		if err != nil || res.Commit.IsZero() || res.Attempts != 1 {
			t.Fatalf("publish %s: %v (commit %s, %d attempts; want one)", v, err, res.Commit, res.Attempts)
		}
	}
	publish("v1")
	publish("v2") // pruned: the store lacks v1's tree
	if !r.store().pruned {
		t.Fatal("not pruned")
	}
	main, err := r.repo.Reference(plumbing.NewRemoteReferenceName(remoteName, "main"), true)
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.commit(main.Hash())
	if err != nil {
		t.Fatal(err)
	}
	delete(r.store().objs, c.TreeHash) // main's root: the next prune cannot keep its path
	r.built = 1
	publish("v3")
	publish("v4")
	if got := gitserver.Run(t, repoDir, "git", "show", "driftback/c1:clusters/c1/driftback/f.yaml"); got != "v4" {
		t.Errorf("f.yaml = %q, want v4", got)
	}
}
