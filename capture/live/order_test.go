package live

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"k8s.io/client-go/tools/cache"

	"github.com/driftback/driftback/capture"
)

// captured is what the transform makes of object ns/name, with a capture
// unless empty.
func captured(ns, name string, empty bool, value int) *Captured {
	c := &Captured{name: name, namespace: ns, resourceVersion: fmt.Sprint(value)}
	if !empty {
		c.Capture = &capture.Capture{
			Ref:    capture.ObjectRef{Group: "s3.aws.upbound.io", Version: "v1beta1", Kind: "Bucket", Namespace: ns, Name: name},
			Status: map[string]any{"value": value},
		}
	}
	return c
}

// sortedBySort is the reference: the captures of the store sorted.
func sortedBySort(objs []any) []*capture.Capture {
	var out []*capture.Capture
	for _, o := range objs {
		if c := capturedOf(o); c != nil && c.Capture != nil {
			out = append(out, c.Capture)
		}
	}
	slices.SortFunc(out, func(a, b *capture.Capture) int { return a.Ref.Compare(b.Ref) })
	return out
}

// TestRefOrderSortsLikeASort runs random changes to one resource's store
// (updates that replace captures, adds, deletes, renames that keep the
// count, captures that become empty) and requires every snapshot's order to
// be exactly a sort's, pointer for pointer: a stale order would drop,
// repeat or misplace an object.
func TestRefOrderSortsLikeASort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	store := cache.NewStore(cache.DeletionHandlingMetaNamespaceKeyFunc)
	name := func() (string, string) {
		return []string{"", "a", "b"}[rng.IntN(3)], fmt.Sprintf("obj-%03d", rng.IntN(200))
	}
	for range 100 {
		ns, n := name()
		_ = store.Add(captured(ns, n, false, 0))
	}
	var o refOrder
	hits := 0
	for step := range 2000 {
		switch op := rng.IntN(10); {
		case op < 5: // update: a new capture for an object
			if objs := store.List(); len(objs) > 0 {
				c := objs[rng.IntN(len(objs))].(*Captured)
				_ = store.Update(captured(c.namespace, c.name, false, step))
			}
		case op == 5:
			ns, n := name()
			_ = store.Add(captured(ns, n, false, step))
		case op == 6:
			if objs := store.List(); len(objs) > 0 {
				_ = store.Delete(objs[rng.IntN(len(objs))])
			}
		case op == 7: // rename: one goes, another comes, the count stays
			if objs := store.List(); len(objs) > 0 {
				_ = store.Delete(objs[rng.IntN(len(objs))])
				ns, n := name()
				_ = store.Add(captured(ns, n, false, step))
			}
		case op == 8: // the rules keep nothing of it now, or something again
			if objs := store.List(); len(objs) > 0 {
				c := objs[rng.IntN(len(objs))].(*Captured)
				_ = store.Update(captured(c.namespace, c.name, c.Capture != nil, step))
			}
		default: // nothing changed
		}
		objs := store.List()
		want := sortedBySort(objs)
		had := o.pos != nil && len(o.pos) == len(want)
		got := o.sorted(objs)
		if !slices.Equal(got, want) {
			t.Fatalf("step %d: order differs from a sort:\ngot  %v\nwant %v", step, refs(got), refs(want))
		}
		if had {
			hits++
		}
	}
	// The remembered order must actually be used, or this tests only sort.
	if hits < 500 {
		t.Fatalf("the remembered order served %d of 2000 snapshots; want most of those whose set was unchanged", hits)
	}
}

func refs(cs []*capture.Capture) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Ref.Namespace + "/" + c.Ref.Name
	}
	return out
}

// BenchmarkSnapshotOrder orders the captures of 50,000 objects of one
// resource whose captures all changed since the last snapshot (new
// pointers, same objects), as a publish under steady mutation does.
func BenchmarkSnapshotOrder(b *testing.B) {
	const n = 50000
	store := cache.NewStore(cache.DeletionHandlingMetaNamespaceKeyFunc)
	for i := range n {
		_ = store.Add(captured("", fmt.Sprintf("bench-%06d", i), false, i))
	}
	for _, bc := range []struct {
		name  string
		order func([]any) []*capture.Capture
	}{
		{"sort", sortedBySort},
		{"remembered", new(refOrder).sorted},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bc.order(store.List())
			for b.Loop() {
				if got := bc.order(store.List()); len(got) != n {
					b.Fatalf("%d captures, want %d", len(got), n)
				}
			}
		})
	}
}
