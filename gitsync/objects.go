package gitsync

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/memory"
)

// storage is go-git's in-memory storage for everything but objects, which
// an objectStore keeps.
type storage struct {
	memory.ConfigStorage
	memory.ShallowStorage
	memory.IndexStorage
	memory.ReferenceStorage
	memory.ModuleStorage
	*objectStore
}

func newStorage() *storage {
	return &storage{
		ReferenceStorage: memory.ReferenceStorage{},
		ModuleStorage:    memory.ModuleStorage{},
		objectStore:      &objectStore{objs: map[plumbing.Hash]storedObject{}},
	}
}

// objectStore holds a Repo's Git objects in memory: every file of the
// branch it fetched and of the commits it built, for as long as the Repo
// lives (until a prune, prune.go). go-git's memory storage keeps each object in
// two maps (all objects, and those of its type) as an interface to an
// object of its own: ≈ 170 bytes per object besides its content, 17 MB for
// the 100,000 blobs of a large first commit. This keeps one map entry of
// the type and the content (BenchmarkPublishFirstCommit's retained-MB).
type objectStore struct {
	objs map[plumbing.Hash]storedObject
	// pruned is set on a store a prune made (prune.go): it lacks old
	// trees and blobs. incomplete is set when a read asked it for one.
	pruned, incomplete bool
}

type storedObject struct {
	content []byte
	typ     plumbing.ObjectType
}

func (s *objectStore) NewEncodedObject() plumbing.EncodedObject { return &plumbing.MemoryObject{} }

// SetEncodedObject keeps o's content: a blobObject's or treeObject's own
// bytes (the caller's), another object's read into a slice of its size.
func (s *objectStore) SetEncodedObject(o plumbing.EncodedObject) (plumbing.Hash, error) {
	typ := o.Type()
	switch typ {
	case plumbing.CommitObject, plumbing.TreeObject, plumbing.BlobObject, plumbing.TagObject:
	default:
		return plumbing.ZeroHash, memory.ErrUnsupportedObjectType
	}
	h := o.Hash()
	if _, ok := s.objs[h]; ok {
		return h, nil
	}
	var content []byte
	switch t := o.(type) {
	case *blobObject:
		content = t.content
	case *treeObject:
		content = t.content
	case *storedView:
		content = t.content
	default:
		var err error
		if content, err = readAll(o); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("store %s %s: %w", typ, h, err)
		}
	}
	s.objs[h] = storedObject{content: content, typ: typ}
	return h, nil
}

// readAll reads an object's content into a slice of its size.
func readAll(o plumbing.EncodedObject) ([]byte, error) {
	r, err := o.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b := make([]byte, o.Size())
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	var one [1]byte
	if n, _ := r.Read(one[:]); n > 0 {
		return nil, errors.New("longer than its size")
	}
	return b, nil
}

func (s *objectStore) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	o, ok := s.objs[h]
	if !ok && s.pruned && t != plumbing.CommitObject && t != plumbing.TagObject {
		s.incomplete = true // maybe dropped: the Repo fetches afresh
	}
	if !ok || (t != plumbing.AnyObject && t != o.typ) {
		return nil, plumbing.ErrObjectNotFound
	}
	return &storedView{hash: h, storedObject: o}, nil
}

func (s *objectStore) IterEncodedObjects(t plumbing.ObjectType) (storer.EncodedObjectIter, error) {
	var series []plumbing.EncodedObject
	for h, o := range s.objs {
		if t == plumbing.AnyObject || t == o.typ {
			series = append(series, &storedView{hash: h, storedObject: o})
		}
	}
	return storer.NewEncodedObjectSliceIter(series), nil
}

func (s *objectStore) HasEncodedObject(h plumbing.Hash) error {
	if _, ok := s.objs[h]; !ok {
		return plumbing.ErrObjectNotFound
	}
	return nil
}

func (s *objectStore) EncodedObjectSize(h plumbing.Hash) (int64, error) {
	o, ok := s.objs[h]
	if !ok {
		return 0, plumbing.ErrObjectNotFound
	}
	return int64(len(o.content)), nil
}

func (s *objectStore) AddAlternate(string) error {
	return errors.New("alternates are not supported by an in-memory repository")
}

// storedView is a stored object as go-git reads it, over the stored bytes.
type storedView struct {
	hash plumbing.Hash
	storedObject
}

func (o *storedView) Hash() plumbing.Hash         { return o.hash }
func (o *storedView) Type() plumbing.ObjectType   { return o.typ }
func (o *storedView) SetType(plumbing.ObjectType) {}
func (o *storedView) Size() int64                 { return int64(len(o.content)) }
func (o *storedView) SetSize(int64)               {}
func (o *storedView) Reader() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(o.content)), nil
}

// Writer refuses: a stored object is never written to.
func (o *storedView) Writer() (io.WriteCloser, error) {
	return nil, fmt.Errorf("object %s is read-only", o.hash)
}
