package live

import (
	"slices"

	"github.com/driftback/driftback/capture"
)

// refOrder remembers where each object of one watched resource fell in the
// last snapshot's order, so the next snapshot of the same objects is put in
// order by one lookup per object instead of a sort. A sort of 50,000
// captures by ref (string comparisons of names that share long prefixes)
// was a quarter of `run`'s CPU at 50,000 objects under steady mutation,
// every publish, although the set of objects rarely changes between two.
// Captures are replaced on every update, so positions are kept by object
// key, not by pointer.
type refOrder struct {
	pos map[objectKey]int32
}

type objectKey struct{ namespace, name string }

func keyOf(c *capture.Capture) objectKey { return objectKey{c.Ref.Namespace, c.Ref.Name} }

// sorted returns the captures among objs (the informer's store list of
// one resource, whose refs differ only in namespace and name) sorted by ref. When they are exactly the objects of the last call, their
// remembered positions order them; otherwise they are sorted and the
// positions learned again. Either way the result is what a sort gives.
func (o *refOrder) sorted(objs []any) []*capture.Capture {
	all := make([]*capture.Capture, 0, len(objs))
	var placed []*capture.Capture
	hit := o.pos != nil
	if hit {
		placed = make([]*capture.Capture, len(o.pos))
	}
	for _, obj := range objs {
		c := capturedOf(obj)
		if c == nil || c.Capture == nil {
			continue
		}
		all = append(all, c.Capture)
		if !hit {
			continue
		}
		// A store holds each key once, so len(all) == len(placed) with
		// every lookup found in an empty slot means the same set.
		i, ok := o.pos[keyOf(c.Capture)]
		if !ok || placed[i] != nil {
			hit = false
			continue
		}
		placed[i] = c.Capture
	}
	if hit && len(all) == len(placed) {
		return placed
	}
	slices.SortFunc(all, func(a, b *capture.Capture) int { return a.Ref.Compare(b.Ref) })
	o.pos = make(map[objectKey]int32, len(all))
	for i, c := range all {
		o.pos[keyOf(c)] = int32(i)
	}
	return all
}
