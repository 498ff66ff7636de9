package gitsync

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// encodeTree writes what go-git's Tree.Encode writes, and names the tree
// as go-git names it, over random entries of every mode.
func TestEncodeTreeIsTreeEncode(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 15))
	modes := []filemode.FileMode{filemode.Regular, filemode.Executable, filemode.Symlink, filemode.Dir, filemode.Submodule}
	for round := range 50 {
		var entries []object.TreeEntry
		for i := range r.IntN(200) {
			var h plumbing.Hash
			for j := range h {
				h[j] = byte(r.IntN(256))
			}
			name := fmt.Sprintf("%c%d-ü.yaml", 'a'+r.IntN(26), i)
			entries = append(entries, object.TreeEntry{Name: name, Mode: modes[r.IntN(len(modes))], Hash: h})
		}
		slices.SortFunc(entries, func(a, b object.TreeEntry) int {
			return cmpGitName(a.Name, a.Mode == filemode.Dir, b.Name, b.Mode == filemode.Dir)
		})
		want := &plumbing.MemoryObject{}
		if err := (&object.Tree{Entries: entries}).Encode(want); err != nil {
			t.Fatal(err)
		}
		got, err := encodeTree(entries)
		if err != nil {
			t.Fatal(err)
		}
		rd, _ := want.Reader()
		wantBytes, _ := io.ReadAll(rd)
		if !bytes.Equal(got, wantBytes) {
			t.Fatalf("round %d: encodeTree differs from Tree.Encode:\n%q\n%q", round, got, wantBytes)
		}
		if o := newTreeObject(got); o.Hash() != want.Hash() || o.Type() != plumbing.TreeObject {
			t.Fatalf("round %d: named %s (%s), go-git names it %s", round, o.Hash(), o.Type(), want.Hash())
		}
	}
	if _, err := encodeTree([]object.TreeEntry{{Name: "a\x00b", Mode: filemode.Regular}}); err == nil {
		t.Error("a name holding NUL was encoded")
	}
}
