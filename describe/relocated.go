package describe

import (
	"bytes"
	"fmt"

	"github.com/driftback/driftback/overlay"
)

// relocations pairs each deleted file with an added one that holds state
// of the same object in the same directory (overlay.Entry.Key): a file
// moved, as the first commit after the layout gained bucket directories
// (overlay.Bucket) moves every file. A pair with the same content is left
// out and counted (moved); one whose content changed too becomes one
// "modify" at the new path, described like any other. Without this, that
// commit would read "drop 50,000 objects, capture 50,000 statuses". The
// changes are read by index, as describe reads them (change(i) is cheap
// and may be called again).
func relocations(n int, change func(int) FileChange) (int, func(int) FileChange, int) {
	deleted := map[string]int{}
	for i := range n {
		if c := change(i); c.Op == "delete" {
			if e, ok := overlay.ParsePath(c.Path); ok {
				deleted[e.Dir+"/"+e.Key()] = i
			}
		}
	}
	if len(deleted) == 0 {
		return n, change, 0
	}
	oldOf := map[int]int{} // an added file's index → its deleted twin's
	paired := map[int]bool{}
	moved := 0
	for i := range n {
		c := change(i)
		if c.Op != "add" {
			continue
		}
		e, ok := overlay.ParsePath(c.Path)
		if !ok {
			continue
		}
		d, ok := deleted[e.Dir+"/"+e.Key()]
		if !ok || paired[d] {
			continue
		}
		paired[d] = true
		if bytes.Equal(change(d).Old, c.New) {
			paired[i] = true
			moved++
			continue
		}
		oldOf[i] = d
	}
	if len(paired) == 0 {
		return n, change, 0
	}
	keep := make([]int, 0, n-len(paired))
	for i := range n {
		if !paired[i] {
			keep = append(keep, i)
		}
	}
	return len(keep), func(k int) FileChange {
		i := keep[k]
		c := change(i)
		if d, ok := oldOf[i]; ok {
			c.Op, c.Old = "modify", change(d).Old
		}
		return c
	}, moved
}

// movedLine stands the files relocations left out in for one line.
func movedLine(n int) FileChange {
	return FileChange{Path: fmt.Sprintf("(%d %s moved into bucket directories, content unchanged)", n, noun(n, "file")), Op: "modify"}
}
