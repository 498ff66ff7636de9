package gitsync

import (
	"errors"
	"io"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/memory"
)

// TestObjectStoreAsGoGits: the Repo's object store answers as go-git's
// memory storage does for objects written either way (a blobObject over
// the caller's bytes, go-git's own MemoryObject as a fetch writes them).
func TestObjectStoreAsGoGits(t *testing.T) {
	mem := &memory.NewStorage().ObjectStorage
	ours := newStorage().objectStore
	var hashes []plumbing.Hash
	for _, s := range []storer.EncodedObjectStorer{mem, ours} {
		hashes = hashes[:0]
		blob := []byte("kind: Bucket\n")
		h, err := writeBlob(s, blob)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, h)
		o := s.NewEncodedObject()
		o.SetType(plumbing.CommitObject)
		w, _ := o.Writer()
		if _, err := io.WriteString(w, "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nmsg\n"); err != nil {
			t.Fatal(err)
		}
		w.Close()
		if h, err = s.SetEncodedObject(o); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, h)
	}
	for _, h := range hashes {
		for _, typ := range []plumbing.ObjectType{plumbing.AnyObject, plumbing.BlobObject, plumbing.CommitObject, plumbing.TreeObject} {
			a, errA := mem.EncodedObject(typ, h)
			b, errB := ours.EncodedObject(typ, h)
			if !errors.Is(errA, errB) && errA != errB {
				t.Fatalf("%s as %s: errors %v and %v", h, typ, errA, errB)
			}
			if errA != nil {
				continue
			}
			ca, _ := readAll(a)
			cb, _ := readAll(b)
			if a.Hash() != b.Hash() || a.Type() != b.Type() || a.Size() != b.Size() || string(ca) != string(cb) {
				t.Errorf("%s as %s: %s %s %d %q, go-git %s %s %d %q", h, typ, b.Hash(), b.Type(), b.Size(), cb, a.Hash(), a.Type(), a.Size(), ca)
			}
		}
		if err := ours.HasEncodedObject(h); err != nil {
			t.Errorf("has %s: %v", h, err)
		}
		sa, _ := mem.EncodedObjectSize(h)
		if sb, err := ours.EncodedObjectSize(h); err != nil || sa != sb {
			t.Errorf("size of %s = %d, %v; go-git %d", h, sb, err, sa)
		}
	}
	missing := plumbing.NewHash("0123456789012345678901234567890123456789")
	if err := ours.HasEncodedObject(missing); !errors.Is(err, plumbing.ErrObjectNotFound) {
		t.Errorf("has a missing object: %v", err)
	}
	if _, err := ours.EncodedObject(plumbing.AnyObject, missing); !errors.Is(err, plumbing.ErrObjectNotFound) {
		t.Errorf("read a missing object: %v", err)
	}
	for typ, want := range map[plumbing.ObjectType]int{plumbing.AnyObject: 2, plumbing.BlobObject: 1, plumbing.CommitObject: 1, plumbing.TreeObject: 0} {
		it, _ := ours.IterEncodedObjects(typ)
		n := 0
		it.ForEach(func(plumbing.EncodedObject) error { n++; return nil })
		if n != want {
			t.Errorf("%d objects of type %s, want %d", n, typ, want)
		}
	}
	bad := &plumbing.MemoryObject{}
	bad.SetType(plumbing.OFSDeltaObject)
	if _, err := ours.SetEncodedObject(bad); err == nil {
		t.Error("a delta object was stored")
	}
}
