package writeback

import (
	"fmt"
	"io/fs"
	"math/bits"
	"path"
	"slices"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/overlay"
	"github.com/driftback/driftback/render"
)

// The incremental publish (issue 15: every commit costs what changed, not
// the cluster's size). After a publish, the writer keeps per object the
// fingerprint of its capture and which files it rendered with their
// hashes (not the bytes; objRec), and the tree hash of the directory it left in
// Git (gitsync.Result.Dir). The next publish takes the incremental path
// only when everything the full path would read is known to be the same:
//
//   - the parent's directory is the one this writer wrote (its DirHash is
//     the recorded one): not after a lost race, someone else's commit, a
//     restart;
//   - the layout is the same: cluster, UID, resources, Flux settings and the
//     base index's key (the repository outside the directory unchanged);
//   - no kind is carried (a kind that could not be listed), no object was
//     left out the last time (its files are carried), no capture has
//     encrypted fields (encryption reads the branch), no two captures name
//     the same file, and every changed capture renders.
//
// Otherwise the full path runs. The incremental path renders the captures
// whose fingerprint changed (of those capture/live names as changed since
// the snapshot the record is of, capture.Changes, or of all: scanEvery), lists the files removed (objects gone, files
// an object no longer has), writes kustomization.yaml again when the
// listing changed (from the kept listing, in render's order), counts the
// objects for the deletion guards, verifies, and hands gitsync an Update.
// When the overlay does not build, the full path runs (it finds the object
// to leave out). The property test (incremental_test.go) checks that both
// paths commit the same tree and give the same verdict.

// objRec is what the last publish wrote for one object: one per object of
// the cluster, kept between publishes, so it holds no path. An object's
// files are overlay.FileName(ref) under some of overlay.ObjectDirs (render
// writes no others), so it keeps which directories and a fileSum each;
// the paths are rebuilt when a publish needs them (path). Its resources/
// and patches/ files are the ones kustomization.yaml lists.
// BenchmarkIncRecord: 504 → 152 bytes per object, with its index (incState.objs).
type objRec struct {
	ref capture.ObjectRef
	fp  uint64
	// sums are fileSum of its files, in the order of overlay.ObjectDirs.
	sums [maxFiles]uint64
	// target is the base object the patch addresses (PatchTarget).
	target string
	// seen marks the publish that saw its capture (incState.gen); named
	// the publish told that it may have changed (capture.Changes).
	seen, named uint64
	// pos is its index in incState.order.
	pos int32
	// has holds bit i when it has a file under overlay.ObjectDirs[i].
	has uint8
}

// maxFiles is the most files render writes for one object: one of
// patches/, resources/ and unmatched/, and status/. A record of more is
// refused (the full path runs).
const maxFiles = 2

// The directories' bits in objRec.has.
var (
	patchesBit   = dirBit(overlay.PatchesDir)
	resourcesBit = dirBit(overlay.ResourcesDir)
	unmatchedBit = dirBit(overlay.UnmatchedDir)
)

func dirBit(d string) uint8 { return 1 << slices.Index(overlay.ObjectDirs, d) }

// addFile records a file under overlay.ObjectDirs[i], added in the order
// of ObjectDirs; false when the record cannot hold another.
func (r *objRec) addFile(i int, sum uint64) bool {
	n := bits.OnesCount8(r.has)
	if n == maxFiles || i >= 8 {
		return false
	}
	r.sums[n] = sum
	r.has |= 1 << i
	return true
}

// file reports whether it has a file under overlay.ObjectDirs[i], and its sum.
func (r *objRec) file(i int) (uint64, bool) {
	bit := uint8(1) << i
	if r.has&bit == 0 {
		return 0, false
	}
	return r.sums[bits.OnesCount8(r.has&(bit-1))], true
}

// path is its file under overlay.ObjectDirs[i], relative to the overlay.
func (r *objRec) path(i int) string { return overlay.ObjectDirs[i] + "/" + overlay.FileName(r.ref) }

// listedPath is its file under the directory whose bit is bit.
func (r *objRec) listedPath(bit uint8) string {
	return r.path(bits.TrailingZeros8(bit))
}

func (r *objRec) unmatched() bool { return r.has&unmatchedBit != 0 }
func (r *objRec) resource() bool  { return r.has&resourcesBit != 0 }
func (r *objRec) patch() bool     { return r.has&patchesBit != 0 }

// incState is the overlay the writer last wrote, object by object.
type incState struct {
	// dir is the directory's tree hash in Git.
	dir gitsync.Hash
	// layout is layoutKey of the layout it was rendered with.
	layout string
	// objs are the records sorted by ref (capture.ObjectRef.Compare,
	// which ignores the version, as the file name does): found by binary
	// search (find). When the captures came sorted (capture/live sorts
	// them) it is order itself.
	objs []*objRec
	// order is the records in the order of the last publish's captures
	// (capture/live hands them sorted): the next publish finds most of
	// its captures' records by walking it, without searching.
	order []*objRec
	// objects hold at least one file (overlay.ObjectKeys counts them);
	// unmatched hold a file under unmatched/.
	objects, unmatched int
	// targets counts the patches of each base object.
	targets map[string]int
	// sinceFull counts the incremental publishes verified with the
	// cheap checks since the overlay was last built whole.
	sinceFull int
	gen       uint64
	// snapshot is the capture/live snapshot the record is of (0: unknown):
	// a publish told what changed since it compares only those captures
	// (capture.Changes); sinceScan counts those publishes since every
	// capture was last compared.
	snapshot  uint64
	sinceScan int
	// merged is merged/'s state (merged.go); nil when overlay.merged is off.
	merged *mergedState
}

// layoutKey names everything besides a capture that its files depend on.
func layoutKey(l render.Layout, baseKey string) string {
	return fmt.Sprintf("%q %q %q %+v %q", l.Cluster, l.ClusterUID, l.Resources, l.Flux, baseKey)
}

func unversioned(r capture.ObjectRef) capture.ObjectRef {
	r.Version = ""
	return r
}

// newIncState records a tree the full path made, when the next publish may
// build on it: the tree is exactly the captures' render (eligible: nothing
// carried or left out), the layout is keyed, the parent names its
// directory, no capture is encrypted and no two share a file.
func newIncState(parent fs.FS, key string, base *render.BaseIndex, caps []*capture.Packed, tree render.Tree, eligible bool) *incState {
	if !eligible || key == "" {
		return nil
	}
	if _, ok := parent.(dirHasher); !ok {
		return nil
	}
	st := &incState{layout: key, order: make([]*objRec, len(caps)), targets: map[string]int{}}
	var p []byte
	for i, c := range caps {
		if len(c.EncryptKeys) > 0 {
			return nil
		}
		rec := &objRec{ref: c.Ref, fp: fingerprint(c), pos: int32(i)}
		name := overlay.FileName(c.Ref)
		for d, dir := range overlay.ObjectDirs {
			p = append(append(append(p[:0], dir...), '/'), name...)
			b, ok := tree[string(p)] // no allocation: a map lookup
			if !ok {
				continue
			}
			if !rec.addFile(d, fileSum(b)) {
				return nil
			}
		}
		if rec.patch() && base != nil {
			rec.target, _ = base.PatchTarget(c.Ref)
		}
		st.add(rec)
		st.order[i] = rec
	}
	var ok bool
	if st.objs, ok = sortedRecs(st.order); !ok {
		return nil // two captures, one file
	}
	return st
}

// sortedRecs is order sorted by ref: order itself when it is (no copy);
// ok is false when two records are of one object.
func sortedRecs(order []*objRec) (objs []*objRec, ok bool) {
	cmp := func(a, b *objRec) int { return a.ref.Compare(b.ref) }
	sorted := true
	for i := 1; i < len(order) && sorted; i++ {
		sorted = cmp(order[i-1], order[i]) < 0
	}
	if sorted {
		return order, true
	}
	objs = slices.Clone(order)
	slices.SortFunc(objs, cmp)
	for i := 1; i < len(objs); i++ {
		if cmp(objs[i-1], objs[i]) == 0 {
			return nil, false
		}
	}
	return objs, true
}

// find is the record of ref (any version), or nil.
func (st *incState) find(ref capture.ObjectRef) *objRec {
	if i, ok := search(st.objs, ref); ok {
		return st.objs[i]
	}
	return nil
}

func search(objs []*objRec, ref capture.ObjectRef) (int, bool) {
	return slices.BinarySearchFunc(objs, ref, func(r *objRec, ref capture.ObjectRef) int { return r.ref.Compare(ref) })
}

// reindex applies a publish's delta to objs without sorting them again:
// the cost of what changed (and a copy of the pointers when objects come
// or go), whatever order the captures came in. It may reuse objs' array,
// which is then no longer order's (order is each publish's own).
func (st *incState) reindex(d incDelta) {
	var added []*objRec
	for k, rec := range d.changed {
		if i, ok := search(st.objs, k); ok {
			st.objs[i] = rec
		} else {
			added = append(added, rec)
		}
	}
	if len(d.removed) > 0 {
		gone := make(map[*objRec]bool, len(d.removed))
		for _, r := range d.removed {
			gone[r] = true
		}
		st.objs = slices.DeleteFunc(st.objs, func(r *objRec) bool { return gone[r] })
	}
	if len(added) == 0 {
		return
	}
	slices.SortFunc(added, func(a, b *objRec) int { return a.ref.Compare(b.ref) })
	out := make([]*objRec, 0, len(st.objs)+len(added))
	rest := st.objs
	for _, a := range added {
		i, _ := search(rest, a.ref)
		out = append(append(out, rest[:i]...), a)
		rest = rest[i:]
	}
	st.objs = append(out, rest...)
}

// sameObject reports whether a record is for ref (any version).
func sameObject(rec *objRec, ref capture.ObjectRef) bool {
	return rec.ref.Name == ref.Name && rec.ref.Namespace == ref.Namespace && rec.ref.Kind == ref.Kind && rec.ref.Group == ref.Group
}

func (st *incState) add(r *objRec) {
	if r.has != 0 {
		st.objects++
	}
	if r.patch() {
		st.targets[r.target]++
	}
	if r.unmatched() {
		st.unmatched++
	}
}

func (st *incState) remove(r *objRec) {
	if r.has != 0 {
		st.objects--
	}
	if r.patch() {
		if st.targets[r.target]--; st.targets[r.target] <= 0 {
			delete(st.targets, r.target)
		}
	}
	if r.unmatched() {
		st.unmatched--
	}
}

// dirHasher is a parent that names its directory's content
// (gitsync.treeFS.DirHash).
type dirHasher interface {
	DirHash(dir string) (gitsync.Hash, bool)
}

// keep makes st the writer's record once its commit is pushed (or
// found unnecessary): Git's directory is now st's.
func (w *Writer) keep(st *incState, res gitsync.Result) {
	if res.Dir.IsZero() {
		w.inc = nil
		return
	}
	st.dir = res.Dir
	w.inc = st
	if !res.Commit.IsZero() && w.cfg.Deletions.Window > 0 {
		// The deletion window need not list the new tree to count it.
		w.window.remember(res.Dir, st.objects)
	}
}

// incDelta is what an incremental publish changes in the record: the
// new records of changed objects by ref without version, and the records
// of objects gone.
type incDelta struct {
	changed map[capture.ObjectRef]*objRec
	removed []*objRec
}

// prepareIncremental is prepare's incremental path; ok is false when it
// does not apply (the full path then runs).
func (w *Writer) prepareIncremental(parent fs.FS, caps []*capture.Packed, carry map[string]bool, layout render.Layout, key string) (c gitsync.Content, done func(gitsync.Result), ok bool, err error) {
	dir := w.cfg.Git.Path
	st := w.inc
	if st == nil || key == "" || key != st.layout || len(carry) > 0 {
		return c, nil, false, nil
	}
	dh, isHasher := parent.(dirHasher)
	if !isHasher {
		return c, nil, false, nil
	}
	if h, known := dh.DirHash(dir); !known || h != st.dir {
		return c, nil, false, nil
	}
	// Which captures changed: those the watcher names (when it names
	// them since the snapshot recorded), or all, by a fingerprint each;
	// no render.
	st.gen++
	gen := st.gen
	ch := w.changes
	named := ch != nil && ch.Since != 0 && ch.Since == st.snapshot && st.sinceScan < scanEvery
	if named {
		for k := range ch.Refs {
			if rec := st.find(k); rec != nil {
				rec.named = gen
			}
		}
	}
	type change struct {
		i  int
		fp uint64
	}
	var changed []change
	var added map[capture.ObjectRef]bool
	order := make([]*objRec, len(caps)) // the new order; changed ones filled in below
	next, seen := 0, 0                  // next: where in st.order the walk is
	for i, cp := range caps {
		if len(cp.EncryptKeys) > 0 {
			return c, nil, false, nil
		}
		var rec *objRec
		if next < len(st.order) && sameObject(st.order[next], cp.Ref) {
			rec = st.order[next]
			next++
		} else if rec = st.find(cp.Ref); rec != nil {
			next = int(rec.pos) + 1
		}
		if rec != nil {
			if rec.seen == gen {
				return c, nil, false, nil // two captures, one file
			}
			rec.seen = gen
			seen++
			if named && rec.named != gen && rec.ref == cp.Ref {
				order[i] = rec // the watcher saw no change
				continue
			}
			fp := fingerprint(cp)
			if rec.fp == fp && rec.ref == cp.Ref {
				order[i] = rec
				continue
			}
			changed = append(changed, change{i, fp})
			continue
		} else {
			k := unversioned(cp.Ref)
			if added[k] {
				return c, nil, false, nil
			}
			if added == nil {
				added = map[capture.ObjectRef]bool{}
			}
			added[k] = true
		}
		changed = append(changed, change{i, fingerprint(cp)})
	}
	d := incDelta{changed: make(map[capture.ObjectRef]*objRec, len(changed))}
	if seen < len(st.objs) {
		for _, rec := range st.objs {
			if rec.seen != gen {
				d.removed = append(d.removed, rec)
			}
		}
	}
	// Render what changed; compare file by file with what was written.
	upd := &gitsync.Update{Changed: map[string][]byte{}}
	objects, unmatched := st.objects, st.unmatched
	listing := false
	var gone []string
	for _, ch := range changed {
		cp := caps[ch.i]
		obj, err := render.RenderObject(cp.Unpack(), layout)
		if err != nil {
			return c, nil, false, nil // the full path leaves it out and says why
		}
		k := unversioned(cp.Ref)
		old := st.find(k)
		rec := &objRec{ref: cp.Ref, fp: ch.fp, seen: gen}
		name := overlay.FileName(cp.Ref)
		for d, dir := range overlay.ObjectDirs {
			if b, ok := obj.Files[dir+"/"+name]; ok && !rec.addFile(d, fileSum(b)) {
				return c, nil, false, nil
			}
		}
		if bits.OnesCount8(rec.has) != len(obj.Files) ||
			obj.Resource != listed(rec, resourcesBit, name) || obj.Patch != listed(rec, patchesBit, name) {
			// Files the record cannot rebuild: the full path (never, while
			// render writes what objRec says).
			return c, nil, false, nil
		}
		if rec.patch() && layout.Base != nil {
			rec.target, _ = layout.Base.PatchTarget(cp.Ref)
		}
		if old != nil {
			listing = listing || old.resource() != rec.resource() || old.patch() != rec.patch()
			objects, unmatched = objects-b2i(old.has != 0), unmatched-b2i(old.unmatched())
			if old.has != 0 && rec.has == 0 {
				gone = append(gone, name)
			}
		} else {
			listing = listing || rec.resource() || rec.patch()
			old = &objRec{}
		}
		objects, unmatched = objects+b2i(rec.has != 0), unmatched+b2i(rec.unmatched())
		for d, dir := range overlay.ObjectDirs {
			sum, has := rec.file(d)
			was, had := old.file(d)
			switch p := dir + "/" + name; {
			case has && (!had || was != sum):
				upd.Changed[p] = obj.Files[p]
			case had && !has:
				upd.Removed = append(upd.Removed, p)
			}
		}
		d.changed[k] = rec
		order[ch.i] = rec
	}
	for _, old := range d.removed {
		listing = listing || old.resource() || old.patch()
		objects, unmatched = objects-b2i(old.has != 0), unmatched-b2i(old.unmatched())
		if old.has != 0 {
			gone = append(gone, overlay.Key(old.ref))
		}
		for d := range overlay.ObjectDirs {
			if _, had := old.file(d); had {
				upd.Removed = append(upd.Removed, old.path(d))
			}
		}
	}
	if listing {
		kb, err := st.kustomization(layout, d, gen)
		if err != nil {
			return c, nil, false, err
		}
		upd.Changed[overlay.KustomizationFile] = kb
	}
	trailers, err := w.deletionGuards(parent, dir, objects, checkShrink(dir, st.objects, objects, gone, w.opts.MaxDeleteShare))
	if err != nil {
		return c, nil, true, err
	}
	built := false
	if len(upd.Changed) > 0 || len(upd.Removed) > 0 {
		cheap := st.sinceFull < fullBuildEvery && w.checkCheaply(parent, dir, layout, st, d, upd)
		if !cheap {
			// Laid over the parent, the changed files and the parent's
			// others are the whole overlay; a removed file is listed
			// nowhere.
			w.paths.fullBuilds++
			if render.Verify(parent, dir, render.Tree(upd.Changed)) != nil {
				return c, nil, false, nil // the full path finds what breaks it
			}
			built = true
		}
	}
	if w.cfg.WriteMerged() != (st.merged != nil) {
		return c, nil, false, nil
	}
	ms, err := w.mergedUpdate(layout.Base, st.merged, upd)
	if err != nil {
		return c, nil, true, &refusal{RefusedBuild, err}
	}
	w.warnUnmatched(unmatched)
	w.warnWithheld(caps)
	w.skipped = 0
	slices.Sort(upd.Removed)
	done = func(res gitsync.Result) {
		st.merged = ms
		for _, old := range d.removed {
			st.remove(old)
		}
		for k, rec := range d.changed {
			if old := st.find(k); old != nil {
				st.remove(old)
			}
			st.add(rec)
		}
		st.reindex(d)
		st.order = order
		for i, rec := range order {
			rec.pos = int32(i)
		}
		if named {
			st.sinceScan++
		} else {
			st.sinceScan = 0
		}
		switch {
		case built:
			st.sinceFull = 0
		case len(upd.Changed) > 0 || len(upd.Removed) > 0:
			st.sinceFull++
		}
		w.keep(st, res)
	}
	if named {
		w.paths.named++
	}
	return gitsync.Content{Update: upd, Trailers: trailers, Message: w.message()}, done, true, nil
}

// kustomization is kustomization.yaml for the record with delta d applied,
// listed in render's order (by ref).
func (st *incState) kustomization(l render.Layout, d incDelta, gen uint64) ([]byte, error) {
	var listed []*objRec
	for _, rec := range st.objs {
		if rec.seen != gen {
			continue // removed
		}
		if len(d.changed) > 0 {
			if n := d.changed[unversioned(rec.ref)]; n != nil {
				rec = n
			}
		}
		if rec.resource() || rec.patch() {
			listed = append(listed, rec)
		}
	}
	for k, rec := range d.changed {
		if (rec.resource() || rec.patch()) && st.find(k) == nil {
			listed = append(listed, rec)
		}
	}
	slices.SortFunc(listed, func(a, b *objRec) int {
		switch {
		case a.ref.Less(b.ref):
			return -1
		case b.ref.Less(a.ref):
			return 1
		}
		return 0
	})
	var resources, patches []string
	for _, r := range listed {
		if r.resource() {
			resources = append(resources, r.listedPath(resourcesBit))
		}
		if r.patch() {
			patches = append(patches, r.listedPath(patchesBit))
		}
	}
	return render.KustomizationFile(l, resources, patches)
}

// listed is the path kustomization.yaml lists for a record's file under
// the directory whose bit is bit (named name), "" for none: what render
// returns as an Object's Resource and Patch.
func listed(r *objRec, bit uint8, name string) string {
	if r.has&bit == 0 {
		return ""
	}
	return overlay.ObjectDirs[bits.TrailingZeros8(bit)] + "/" + name
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// scanEvery is how many incremental publishes in a row may compare only
// the captures the watcher names as changed (capture.Changes): the next
// compares every capture, so a change the watcher failed to name (a bug)
// is committed within this many publishes. Like fullBuildEvery, it bounds
// the damage of a mistake in reasoning that tests cannot exhaust.
const scanEvery = 100

// fullBuildEvery is how many incremental publishes may be verified with
// the cheap checks in a row: the next builds the whole overlay with krusty
// anyway. The checks are exact where they apply (checkCheaply); the whole
// build bounds the damage of a mistake in that reasoning to this many
// commits, at a cost of one build per this many publishes.
const fullBuildEvery = 100

// checkCheaply reports whether the changes of an incremental publish are
// known to build without building the whole overlay: the previous overlay
// built over the same base (the record holds only verified commits and the
// layout key pins the base), and each change is one of these, judged
// exactly:
//
//   - a file under status/ or unmatched/ added, changed or removed: no
//     kustomization lists them, krusty never reads them;
//   - a resources/ file removed: nothing in the overlay refers to it
//     (patches address base objects only; a resource with a base object's
//     id would have failed the earlier build);
//   - a resources/ file changed in place: built alone it gives one object
//     with the id it had (render.CheckResource), so the set of ids, and
//     every other object, is as before;
//   - a patch added or changed whose target (render PatchTarget) no other
//     patch addresses: built alone against its target it applies and
//     keeps the target's id (BaseIndex.CheckPatch); kustomize applies a
//     patch to its one target only, and no other patch sees that object;
//   - a patch removed whose target no other patch addressed: the object
//     is the base's own again, which built.
//
// Anything else (a new resources/ file: a new id may collide; a target
// with two patches; Flux renaming, where the index holds the renamed
// objects; a check that fails) builds the whole overlay.
func (w *Writer) checkCheaply(parent fs.FS, dir string, l render.Layout, st *incState, d incDelta, upd *gitsync.Update) bool {
	flux := l.Flux != (render.FluxTransform{})
	count := map[string]int{} // patches per target after the publish, where it moves
	touch := func(t string, n int) {
		if _, ok := count[t]; !ok {
			count[t] = st.targets[t]
		}
		count[t] += n
	}
	var patched []*objRec
	for k, rec := range d.changed {
		old := st.find(k)
		if old == nil {
			old = &objRec{}
		}
		if old.patch() {
			if st.targets[old.target] > 1 {
				return false
			}
			touch(old.target, -1)
		}
		if rec.patch() {
			touch(rec.target, 1)
			if _, changed := upd.Changed[rec.listedPath(patchesBit)]; changed || !old.patch() {
				patched = append(patched, rec)
			}
		}
		if rec.resource() {
			if !old.resource() {
				return false // a new id
			}
			p := rec.listedPath(resourcesBit)
			if b, changed := upd.Changed[p]; changed {
				prev, err := fs.ReadFile(parent, path.Join(dir, p))
				if flux || err != nil || render.CheckResource(b, prev) != nil {
					return false
				}
			}
		}
	}
	for _, old := range d.removed {
		if old.patch() {
			if st.targets[old.target] > 1 {
				return false
			}
			touch(old.target, -1)
		}
	}
	for _, rec := range patched {
		if flux || rec.target == "" || count[rec.target] != 1 || l.Base == nil {
			return false
		}
		if l.Base.CheckPatch(rec.ref, upd.Changed[rec.listedPath(patchesBit)]) != nil {
			return false
		}
	}
	w.paths.cheap++
	return true
}
