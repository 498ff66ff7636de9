package capture

// Changes says which captures of a snapshot may differ from those of the
// one before, so that a publisher need not compare every capture to find
// the few that changed (issue 15: a publish costs what changed, not the
// cluster's size). Whoever takes the snapshots numbers them (capture/live's
// Controller, from 1): Refs name, without version, every object whose
// capture was added, changed or removed since snapshot Since, and may name
// more. A publisher may rely on them only when what it recorded is of
// snapshot Since; Since 0 means unknown (compare every capture), as does a
// nil *Changes.
type Changes struct {
	Since, Snapshot uint64
	Refs            map[ObjectRef]bool
}

// Unversioned is r without its version: files and changes are named by
// object, whatever version it is served at.
func (r ObjectRef) Unversioned() ObjectRef {
	r.Version = ""
	return r
}
