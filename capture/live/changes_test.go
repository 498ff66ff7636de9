package live

import (
	"maps"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftback/driftback/capture"
)

// TestWatcherNamesChanges: what the watcher hands a publish as changed
// (capture.Changes) names every object added, changed or removed since the
// last snapshot published; a failed publish's changes are owed again; the
// first snapshot names none (compare every capture).
func TestWatcherNamesChanges(t *testing.T) {
	f := newFixture(t, bucket("a", "a-1"), bucket("b", "b-1"), bucket("unchanged", "u-1"))
	var notes atomic.Int32
	w := f.cl.NewWatcher(crossplaneRules(t), func() { notes.Add(1) })
	defer w.Stop()
	ctx := t.Context()
	if _, err := w.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.WaitForSync(ctx); err != nil {
		t.Fatal(err)
	}
	_, _, first := w.snapshotChanges()
	if first.Since != 0 || first.Refs != nil {
		t.Fatalf("first snapshot: %+v, want Since 0 (every capture compared)", first)
	}
	w.changes.settle(first, true)

	a, err := f.dyn.Resource(bucketGVR).Get(ctx, "a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a.SetAnnotations(map[string]string{"crossplane.io/external-name": "a-2"})
	if _, err := f.dyn.Resource(bucketGVR).Update(ctx, a, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.dyn.Resource(bucketGVR).Create(ctx, bucket("c", "c-1"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.dyn.Resource(bucketGVR).Delete(ctx, "b", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for notes.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling interval
	}
	names := func(c *capture.Changes) []string {
		var out []string
		for r := range maps.Keys(c.Refs) {
			if r.Version != "" || r.Kind != "Bucket" {
				t.Errorf("named %+v, want a Bucket without version", r)
			}
			out = append(out, r.Name)
		}
		slices.Sort(out)
		return out
	}
	caps, _, second := w.snapshotChanges()
	if len(caps) != 3 || second.Since != first.Snapshot || second.Snapshot <= first.Snapshot || !slices.Equal(names(second), []string{"a", "b", "c"}) {
		t.Fatalf("after an update, a create and a delete: %d captures, %+v naming %v; want 3, following snapshot %d, naming a, b, c",
			len(caps), second, names(second), first.Snapshot)
	}
	w.changes.settle(second, false) // the publish failed: owed again
	_, _, third := w.snapshotChanges()
	if third.Since != first.Snapshot || !slices.Equal(names(third), []string{"a", "b", "c"}) {
		t.Fatalf("after a failed publish: %+v naming %v; want following snapshot %d, naming a, b, c", third, names(third), first.Snapshot)
	}
	w.changes.settle(third, true)
	_, _, fourth := w.snapshotChanges()
	if fourth.Since != third.Snapshot || len(fourth.Refs) != 0 {
		t.Fatalf("nothing changed: %+v naming %v; want following snapshot %d, naming none", fourth, names(fourth), third.Snapshot)
	}
}
