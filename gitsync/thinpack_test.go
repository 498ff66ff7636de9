package gitsync

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/driftback/driftback/internal/gitserver"
)

// treeDelta turns a tree into any edit of it (entries changed, added,
// removed, files and directories), as Git applies deltas (go-git's
// PatchDelta), and is small for a few changes.
func TestTreeDelta(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 9))
	hash := func() plumbing.Hash {
		var h plumbing.Hash
		for i := range h {
			h[i] = byte(r.IntN(256))
		}
		return h
	}
	sorted := func(es []object.TreeEntry) []object.TreeEntry {
		slices.SortFunc(es, func(a, b object.TreeEntry) int {
			return cmpGitName(a.Name, a.Mode == filemode.Dir, b.Name, b.Mode == filemode.Dir)
		})
		return es
	}
	for round := range 200 {
		var base []object.TreeEntry
		n := r.IntN(3000)
		for i := range n {
			mode := filemode.Regular
			if r.IntN(10) == 0 {
				mode = filemode.Dir
			}
			// Names that prefix each other ("a", "a.yaml", "a-b") test
			// Git's order of files and directories.
			base = append(base, object.TreeEntry{Name: fmt.Sprintf("n%d%s", i/3, []string{"", ".yaml", "-b"}[i%3]), Mode: mode, Hash: hash()})
		}
		base = sorted(base)
		target := slices.Clone(base)
		edits := r.IntN(20)
		if round%10 == 0 {
			edits = r.IntN(n + 1) // sometimes everything
		}
		for range edits {
			switch i := r.IntN(len(target) + 1); {
			case i == len(target) || r.IntN(3) == 0:
				target = append(target, object.TreeEntry{Name: fmt.Sprintf("new%d", r.IntN(100000)), Mode: filemode.Regular, Hash: hash()})
			case r.IntN(2) == 0:
				target[i].Hash = hash()
			default:
				target = slices.Delete(target, i, i+1)
			}
		}
		target = slices.CompactFunc(sorted(target), func(a, b object.TreeEntry) bool { return a.Name == b.Name })
		bb, _ := encodeTree(base)
		tb, _ := encodeTree(target)
		d, ok := treeDelta(bb, tb)
		if !ok {
			t.Fatalf("round %d: no delta", round)
		}
		got, err := packfile.PatchDelta(bb, d)
		if err != nil || !bytes.Equal(got, tb) {
			t.Fatalf("round %d (%d entries, %d edits): the delta gives %d bytes (%v), want %d", round, n, edits, len(got), err, len(tb))
		}
		if n > 1000 && edits < 20 && len(d) > 4096 {
			t.Errorf("round %d: %d edits of %d entries make a delta of %d bytes", round, edits, n, len(d))
		}
	}
}

// A push that rewrites a large directory sends it as a delta against the
// tree the server has (a thin pack), and the server takes it: the branch
// holds every file and the repository is whole (git fsck).
func TestThinPushOfALargeDirectory(t *testing.T) {
	r, _, repoDir := fleet(t)
	tg := Target{Branch: "driftback/c1", BaseBranch: "main", Dir: "clusters/c1", AuthorName: "a", AuthorEmail: "a@x"}
	want := map[string]string{}
	for i := range 1000 {
		want[fmt.Sprintf("status/o%04d.yaml", i)] = fmt.Sprintf("arn: %d\n", i)
	}
	step := func(u *Update) {
		t.Helper()
		if _, err := r.Publish(context.Background(), tg, func(fs.FS) (Content, error) {
			if u == nil {
				m := map[string][]byte{}
				for p, c := range want {
					m[p] = []byte(c)
				}
				return Content{Files: m}, nil
			}
			return Content{Update: u}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	step(nil)
	u := &Update{Changed: map[string][]byte{}, Removed: []string{"status/o0007.yaml"}}
	delete(want, "status/o0007.yaml")
	for _, p := range []string{"status/o0001.yaml", "status/o0500.yaml", "status/o0999.yaml", "status/o1000.yaml"} {
		want[p] = "changed\n"
		u.Changed[p] = []byte("changed\n")
	}
	step(u)
	status := false
	for _, base := range r.written.taken {
		if o, err := r.repo.Storer.EncodedObject(plumbing.TreeObject, base); err == nil && o.Size() >= thinMinBase {
			status = true // the status directory's tree, the one large enough
		}
	}
	if !status {
		t.Fatalf("rewriting the directory recorded no large delta base (%d bases): the push was not thin", len(r.written.taken))
	}
	if r.written.noThin {
		t.Fatal("the thin push failed and whole packs were sent instead")
	}
	// The large tree goes as a delta: its pack is a fraction of the
	// tree's whole pack.
	for h := range r.written.taken {
		if o, err := r.repo.Storer.EncodedObject(plumbing.TreeObject, h); err != nil || o.Size() < thinMinBase {
			continue
		}
		var thin, whole bytes.Buffer
		if err := writePack(&thin, r.repo.Storer, []plumbing.Hash{h}, r.written.taken); err != nil {
			t.Fatal(err)
		}
		if err := writePack(&whole, r.repo.Storer, []plumbing.Hash{h}, nil); err != nil {
			t.Fatal(err)
		}
		if thin.Len()*2 > whole.Len() {
			t.Errorf("tree %s packs to %d bytes with its base, %d without: not sent as a delta", h, thin.Len(), whole.Len())
		}
	}
	got, _, ok := gitserver.BranchFiles(t, repoDir, tg.Branch)
	if !ok {
		t.Fatal("no branch")
	}
	for p, c := range want {
		if got["clusters/c1/"+p] != c {
			t.Fatalf("%s = %q, want %q", p, got["clusters/c1/"+p], c)
		}
	}
	if n := len(got) - 1; n != len(want) {
		t.Errorf("%d files under clusters/c1, want %d", n, len(want))
	}
	gitserver.Run(t, repoDir, "git", "fsck", "--strict")
}
