package writeback

import (
	"fmt"
	"io/fs"

	"github.com/driftback/driftback/overlay"
	"github.com/driftback/driftback/render"
)

// verifyDownstream keeps the later shards of a chain building
// (docs/sharding.md): their overlays build on this directory, so a commit
// that lands on a moved base — the parent gitsync re-derived on the base
// branch's new tip, carrying every shard's directory — must leave the last
// directory, the one Argo CD and Flux apply, building. A shard's own
// changes cannot break a later one (their rules capture disjoint objects),
// so the later shards are built only when the repository outside this
// directory changed since they were last verified (key, the layout key:
// unchanged, the incremental path runs and never gets here) or cannot be
// keyed. A later shard that does not build is rendered again by its own
// process (follow.Follower.Rerender); until then this commit is refused.
func (w *Writer) verifyDownstream(parent fs.FS, dir string, tree render.Tree, key string) error {
	if key != "" && key == w.downstream {
		return nil
	}
	later, err := overlay.Downstream(parent, dir)
	if err != nil {
		return fmt.Errorf("find the shards that build on %s: %w", dir, err)
	}
	if err := render.VerifyDownstream(parent, dir, tree, later); err != nil {
		return err
	}
	w.downstream = key
	return nil
}
