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
		c.Packed = capture.Pack(capture.Capture{
			Ref:    capture.ObjectRef{Group: "s3.aws.upbound.io", Version: "v1beta1", Kind: "Bucket", Namespace: ns, Name: name},
			Status: map[string]any{"value": int64(value)},
		})
	}
	return c
}

// sortedBySort is the reference: the captures of the store sorted.
func sortedBySort(objs []any) []*capture.Packed {
	var out []*capture.Packed
	for _, o := range objs {
		if c := capturedOf(o); c != nil && c.Packed != nil {
			out = append(out, c.Packed)
		}
	}
	slices.SortFunc(out, func(a, b *capture.Packed) int { return a.Ref.Compare(b.Ref) })
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
				_ = store.Update(captured(c.namespace, c.name, c.Packed != nil, step))
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

func refs(cs []*capture.Packed) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Ref.Namespace + "/" + c.Ref.Name
	}
	return out
}

func TestJoinRuns(t *testing.T) {
	ref := func(group, kind, name string) *capture.Packed {
		return capture.Pack(capture.Capture{Ref: capture.ObjectRef{Group: group, Kind: kind, Name: name}})
	}
	for _, tc := range []struct {
		name string
		runs [][]*capture.Packed
	}{
		{"one resource", [][]*capture.Packed{{ref("g", "A", "a"), ref("g", "A", "b")}}},
		{"kinds in any order", [][]*capture.Packed{
			{ref("z", "Z", "a")}, {ref("g", "B", "a"), ref("g", "B", "c")}, {ref("", "ConfigMap", "x")}, {ref("g", "A", "q")},
		}},
		{"one kind at two versions interleaves", [][]*capture.Packed{
			{ref("g", "A", "b"), ref("g", "A", "d")}, {ref("g", "A", "a"), ref("g", "A", "c")}, {ref("g", "B", "a")},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want []*capture.Packed
			for _, r := range tc.runs {
				want = append(want, r...)
			}
			slices.SortFunc(want, func(a, b *capture.Packed) int { return a.Ref.Compare(b.Ref) })
			if got := joinRuns(tc.runs, len(want)); !slices.Equal(got, want) {
				t.Fatalf("joinRuns = %v, want %v", refs(got), refs(want))
			}
		})
	}
}

// BenchmarkSnapshotOrder orders the captures of 50,000 objects of one
// resource, as a publish under steady mutation does: replaced=0 when none
// changed since the last snapshot, replaced=200 when 200 objects were
// updated (new *Captured each, found by key), as between two publishes at
// 150 mutations a second.
func BenchmarkSnapshotOrder(b *testing.B) {
	const n = 50000
	for _, replaced := range []int{0, 200} {
		for _, bc := range []struct {
			name  string
			order func([]any) []*capture.Packed
		}{
			{"sort", sortedBySort},
			{"remembered", new(refOrder).sorted},
		} {
			b.Run(fmt.Sprintf("replaced=%d/%s", replaced, bc.name), func(b *testing.B) {
				store := cache.NewStore(cache.DeletionHandlingMetaNamespaceKeyFunc)
				for i := range n {
					_ = store.Add(captured("", fmt.Sprintf("bench-%06d", i), false, i))
				}
				bc.order(store.List())
				step := 0
				for b.Loop() {
					b.StopTimer()
					for range replaced {
						step++
						_ = store.Update(captured("", fmt.Sprintf("bench-%06d", step*7919%n), false, step))
					}
					b.StartTimer()
					if got := bc.order(store.List()); len(got) != n {
						b.Fatalf("%d captures, want %d", len(got), n)
					}
				}
			})
		}
	}
}
