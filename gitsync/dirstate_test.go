package gitsync_test

import (
	"testing"

	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/internal/gitserver"
)

// TestWholeAfterDeltas: whole-map publishes and deltas mixed commit what
// changed, no more, no less: the listing a delta drops is loaded again
// from the tree by the next whole-map publish.
func TestWholeAfterDeltas(t *testing.T) {
	srv := gitserver.New(t, gitserver.Options{})
	url, _ := srv.CreateRepo(t, "fleet")
	r := open(t, url)
	tg := target("main", "main", "clusters/c1")
	steps := []struct {
		name    string
		prepare gitsync.Prepare
		changes int
	}{
		{"whole", whole(map[string]string{"a": "1", "b": "1", "c": "1"}), 3},
		{"delta", delta(map[string]string{"a": "2"}, "c"), 2},
		{"whole, as the deltas left it", whole(map[string]string{"a": "2", "b": "1"}), 0},
		{"whole, one back", whole(map[string]string{"a": "1", "b": "1"}), 1},
		{"whole again", whole(map[string]string{"a": "1", "b": "1"}), 0},
		{"delta after whole", delta(map[string]string{"b": "2", "d": "1"}), 2},
		{"whole, a removal", whole(map[string]string{"a": "1", "b": "2"}), 1},
	}
	for _, s := range steps {
		if got := len(publish(t, r, tg, s.prepare).Changes); got != s.changes {
			t.Fatalf("%s: %d changes, want %d", s.name, got, s.changes)
		}
	}
}
