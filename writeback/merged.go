package writeback

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/overlay"
	"github.com/driftback/driftback/render"
)

// merged/ (render.Merged, overlay.merged): the objects the overlay builds,
// for Argo CD and Flux to build at the base's cost. It is added to a tree
// that passed the build check, so it merges only patches kustomize has
// matched to a base object; each merged file is one object built by krusty
// (or copied from the base's build), so merged/ builds whenever the overlay
// does (render's TestMergedBuildsLikeTheOverlay).

// mergedState is what the incremental path needs to update merged/: the
// overlay's listed files (kustomization.yaml, patches/, resources/: small,
// and kept only with a base) and the merged/ files written last.
type mergedState struct {
	record render.Tree
	files  render.Tree
}

// isRecordListed reports whether Merged reads the overlay file p.
func isRecordListed(p string) bool {
	return p == overlay.KustomizationFile || strings.HasPrefix(p, overlay.PatchesDir+"/") || strings.HasPrefix(p, overlay.ResourcesDir+"/")
}

// addMerged adds merged/ to the full path's tree when overlay.merged is on,
// and returns what the next incremental publish starts from (nil when off).
func (w *Writer) addMerged(base *render.BaseIndex, tree render.Tree) (*mergedState, error) {
	if !w.cfg.WriteMerged() {
		return nil, nil
	}
	st := &mergedState{record: render.Tree{}}
	for p, b := range tree {
		if strings.HasPrefix(p, overlay.MergedDir+"/") {
			return nil, fmt.Errorf("overlay.merged: %s is rendered already", p)
		}
		if isRecordListed(p) {
			st.record[p] = b
		}
	}
	m, err := render.Merged(base, st.record, &w.merged)
	if err != nil {
		return nil, fmt.Errorf("overlay.merged: %w", err)
	}
	for p, b := range m {
		tree[p] = b
	}
	st.files = m
	return st, nil
}

// mergedUpdate adds to an incremental publish's update the merged/ files
// its changes move, from the state the last publish left (nil: merged/ is
// off). It returns the state after this publish.
func (w *Writer) mergedUpdate(base *render.BaseIndex, st *mergedState, upd *gitsync.Update) (*mergedState, error) {
	if st == nil {
		return nil, nil
	}
	next := &mergedState{record: make(render.Tree, len(st.record))}
	for p, b := range st.record {
		next.record[p] = b
	}
	for p, b := range upd.Changed {
		if isRecordListed(p) {
			next.record[p] = b
		}
	}
	for _, p := range upd.Removed {
		delete(next.record, p)
	}
	m, err := render.Merged(base, next.record, &w.merged)
	if err != nil {
		return nil, fmt.Errorf("overlay.merged: %w", err)
	}
	for p, b := range m {
		if old, ok := st.files[p]; !ok || !sameBytes(old, b) {
			upd.Changed[p] = b
		}
	}
	for p := range st.files {
		if _, kept := m[p]; !kept {
			upd.Removed = append(upd.Removed, p)
		}
	}
	slices.Sort(upd.Removed)
	next.files = m
	return next, nil
}

// sameBytes is bytes.Equal with a shortcut for the one slice the cache
// hands out again.
func sameBytes(a, b []byte) bool {
	if len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0]) {
		return true
	}
	return bytes.Equal(a, b)
}
