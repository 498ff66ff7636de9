package live

import (
	"slices"
	"sync/atomic"

	"github.com/driftback/driftback/capture"
)

// refOrder remembers where each object of one watched resource fell in the
// last snapshot's order, so the next snapshot of the same objects is put in
// order without a sort. A sort of 50,000 captures by ref (string
// comparisons of names that share long prefixes) was a quarter of `run`'s
// CPU at 50,000 objects under steady mutation, every publish, although the
// set of objects rarely changes between two.
//
// Positions live in two places: on each cached *Captured (stamped with the
// order's generation), so an object unchanged since the last snapshot is
// placed by reading one field; and in a map by object key, for the objects
// replaced since (every update makes a new *Captured), found by a lookup.
// A lookup per object was still 350 ns at 50,000 (its key's strings are
// scattered in memory); most objects are unchanged between two publishes.
type refOrder struct {
	pos map[objectKey]int32
	gen uint64
}

type objectKey struct{ namespace, name string }

func keyOf(c *capture.Packed) objectKey { return objectKey{c.Ref.Namespace, c.Ref.Name} }

// orderGens numbers the orders learned, across every resource, so a stamp
// from one order never passes for another's.
var orderGens atomic.Uint64

// sorted returns the captures among objs (the informer's store list of
// one resource, whose refs differ only in namespace and name) sorted by
// ref. When they are exactly the objects of the last call, their
// remembered positions order them; otherwise they are sorted and the
// positions learned again. Either way the result is what a sort gives.
// Calls must not run side by side (the Watcher's mu).
func (o *refOrder) sorted(objs []any) []*capture.Packed {
	all := make([]*capture.Packed, 0, len(objs))
	var placed []*capture.Packed
	hit := o.pos != nil
	if hit {
		placed = make([]*capture.Packed, len(o.pos))
	}
	for _, obj := range objs {
		c := capturedOf(obj)
		if c == nil || c.Packed == nil {
			continue
		}
		all = append(all, c.Packed)
		if !hit {
			continue
		}
		i, ok := c.orderPos, c.orderGen == o.gen
		if !ok {
			if i, ok = o.pos[keyOf(c.Packed)]; ok {
				c.orderGen, c.orderPos = o.gen, i
			}
		}
		// A store holds each key once, so len(all) == len(placed) with
		// every object found in an empty slot means the same set.
		if !ok || placed[i] != nil {
			hit = false
			continue
		}
		placed[i] = c.Packed
	}
	if hit && len(all) == len(placed) {
		return placed
	}
	slices.SortFunc(all, func(a, b *capture.Packed) int { return a.Ref.Compare(b.Ref) })
	o.gen = orderGens.Add(1)
	o.pos = make(map[objectKey]int32, len(all))
	for i, c := range all {
		o.pos[keyOf(c)] = int32(i)
	}
	return all
}

// joinRuns puts runs of captures, each in order (one resource's), into one
// slice of n in order: the runs ordered by their first ref (their group and
// kind), and sorted whole only when two runs interleave (two resources of
// one group and kind, at two versions).
func joinRuns(runs [][]*capture.Packed, n int) []*capture.Packed {
	slices.SortFunc(runs, func(a, b []*capture.Packed) int { return a[0].Ref.Compare(b[0].Ref) })
	out := make([]*capture.Packed, 0, n)
	for _, run := range runs {
		out = append(out, run...)
	}
	for i := 1; i < len(runs); i++ {
		if runs[i-1][len(runs[i-1])-1].Ref.Compare(runs[i][0].Ref) > 0 {
			slices.SortFunc(out, func(a, b *capture.Packed) int { return a.Ref.Compare(b.Ref) })
			break
		}
	}
	return out
}
