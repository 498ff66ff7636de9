package writeback_test

import (
	"strings"
	"testing"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/overlay"
	"github.com/driftback/driftback/writeback"
)

// A writer told which captures changed (capture.Changes) compares only
// those when its record is of the snapshot the changes follow: a change it
// is not told of waits (capture/live names every change; this shows that
// the writer relies on it), until changes that follow another snapshot
// make it compare every capture, or until the scan every ScanEvery-th such
// publish, the safety net, finds it.
func TestChangesNamed(t *testing.T) {
	repo := &fakeRepo{hashed: true}
	w := writeback.New(testConfig(), repo, "uid-a", writeback.Options{MaxDeleteShare: 1})
	caps := statusCaps(3)
	snap := uint64(0)
	publish := func(since uint64, named ...string) {
		t.Helper()
		snap++
		refs := map[capture.ObjectRef]bool{}
		for _, c := range caps {
			for _, n := range named {
				if c.Ref.Name == n {
					refs[c.Ref.Unversioned()] = true
				}
			}
		}
		if _, err := w.PublishChanges(t.Context(), capture.PackAll(caps), &capture.Changes{Since: since, Snapshot: snap, Refs: refs}); err != nil {
			t.Fatal(err)
		}
	}
	arn := func(name string) string {
		t.Helper()
		f := repo.branch[dir+"/status/_cluster/s3.aws.upbound.io_Bucket/"+overlay.Bucket(name)+"/"+name+".yaml"]
		if f == nil {
			t.Fatalf("no status file for %s", name)
		}
		return string(f.Data)
	}
	setARN := func(i int, v string) {
		caps[i].Status = map[string]any{"atProvider": map[string]any{"arn": v}}
	}

	publish(0) // the first: every capture
	setARN(0, "named-0")
	setARN(1, "unnamed-1")
	publish(snap, "b00")
	if !strings.Contains(arn("b00"), "named-0") || strings.Contains(arn("b01"), "unnamed-1") {
		t.Fatalf("told only of b00, the writer committed b00 %q, b01 %q; want only b00's change", arn("b00"), arn("b01"))
	}
	if w.Named() != 1 {
		t.Fatalf("%d publishes compared only the named captures, want 1", w.Named())
	}
	publish(snap - 1) // changes that follow a snapshot the writer did not record
	if !strings.Contains(arn("b01"), "unnamed-1") {
		t.Fatalf("changes following another snapshot: b01 %q, want it compared and committed", arn("b01"))
	}

	setARN(2, "unnamed-2")
	for i := 0; i < writeback.ScanEvery; i++ {
		publish(snap)
		if strings.Contains(arn("b02"), "unnamed-2") {
			t.Fatalf("the change no one named was committed after %d publishes, want %d", i+1, writeback.ScanEvery+1)
		}
	}
	publish(snap)
	if !strings.Contains(arn("b02"), "unnamed-2") {
		t.Fatalf("the change no one named was not committed by the scan after %d publishes: %q", writeback.ScanEvery+1, arn("b02"))
	}
}
