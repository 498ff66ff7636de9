package writeback_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/writeback"
)

// model is a cluster the property test mutates at random: objects by name,
// each of one kind of capture, and the buckets the Git base defines.
type model struct {
	objs map[string]modelObj
	base map[string]bool
}

type modelObj struct {
	kind int // one of the obj* constants
	val  int // the runtime value, changed by mutations
}

const (
	objStatus   = iota // a Bucket's status only (status/)
	objPatch           // a Bucket's external name (patches/ when the base defines it, else unmatched/)
	objBoth            // both
	objRole            // a whole ClusterRole (resources/)
	objConflict        // a whole Bucket the base also defines: the build fails (left out)
	objBadPatch        // a patch the base's Bucket cannot take (a list for a map): the build fails when the base defines it
	objKinds
)

func (m model) captures() []capture.Capture {
	var out []capture.Capture
	for _, name := range slices.Sorted(mapKeys(m.objs)) {
		o := m.objs[name]
		switch o.kind {
		case objRole:
			c := clusterRole(name)
			c.Object["rules"] = []any{map[string]any{"apiGroups": []any{""}, "resources": []any{"pods"}, "verbs": []any{fmt.Sprintf("v%d", o.val)}}}
			out = append(out, c)
		case objConflict:
			out = append(out, capture.Capture{
				Ref:  capture.ObjectRef{Group: "s3.aws.upbound.io", Version: "v1beta1", Kind: "Bucket", Name: name},
				Mode: capture.ModeObject,
				Object: map[string]any{"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket", "metadata": map[string]any{"name": name},
					"spec": map[string]any{"forProvider": map[string]any{"region": fmt.Sprintf("r%d", o.val)}}},
			})
		default:
			c := capture.Capture{
				Ref:    capture.ObjectRef{Group: "s3.aws.upbound.io", Version: "v1beta1", Kind: "Bucket", Name: name},
				Mode:   capture.ModePatch,
				Object: map[string]any{"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket", "metadata": map[string]any{"name": name}},
			}
			if o.kind != objPatch {
				c.Status = map[string]any{"atProvider": map[string]any{"arn": fmt.Sprintf("arn:%s:%d", name, o.val)}}
			}
			if o.kind != objStatus {
				c.Object["metadata"].(map[string]any)["annotations"] = map[string]any{"crossplane.io/external-name": fmt.Sprintf("%s-%d", name, o.val)}
			}
			if o.kind == objBadPatch {
				c.Object["spec"] = map[string]any{"forProvider": []any{fmt.Sprintf("v%d", o.val)}}
			}
			out = append(out, c)
		}
	}
	return out
}

func (m model) baseFiles() fstest.MapFS {
	names := slices.Sorted(mapKeys(m.base))
	return fstest.MapFS{
		"apps/kustomization.yaml": {Data: []byte("resources:\n- buckets.yaml\n")},
		"apps/buckets.yaml":       {Data: []byte(bucketsBase(names...))},
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// step mutates the model at random and says what it did; it may also
// touch the branches directly (someone else's commit) or restart a writer.
type event int

const (
	evNone event = iota
	evForeign
	evRestart
)

func (m model) step(r *rand.Rand) (string, event) {
	names := slices.Sorted(mapKeys(m.objs))
	// An object that breaks the build is left out, and while it is the
	// full path runs (its recorded files are carried): fixed soon.
	for _, name := range names {
		if o := m.objs[name]; (o.kind == objConflict || o.kind == objBadPatch) && r.IntN(2) == 0 {
			o.kind = objRole
			m.objs[name] = o
			return "fix " + name, evNone
		}
	}
	pick := func() string { return names[r.IntN(len(names))] }
	switch x := r.IntN(100); {
	case x < 40 && len(names) > 0: // modify one or a few
		n := 1 + r.IntN(3)
		for range n {
			name := pick()
			o := m.objs[name]
			o.val++
			m.objs[name] = o
		}
		return fmt.Sprintf("modify %d", n), evNone
	case x < 55: // add
		name := fmt.Sprintf("o%02d", r.IntN(40))
		kind := r.IntN(objKinds)
		if (kind == objConflict || kind == objBadPatch) && r.IntN(3) > 0 {
			kind = objBoth // breakers are rarer
		}
		m.objs[name] = modelObj{kind: kind, val: r.IntN(5)}
		return "add " + name, evNone
	case x < 65 && len(names) > 0: // delete one, sometimes many
		n := 1
		if r.IntN(4) == 0 {
			n = 1 + r.IntN(len(names))
		}
		for range n {
			delete(m.objs, pick())
			names = slices.Sorted(mapKeys(m.objs))
			if len(names) == 0 {
				break
			}
		}
		return fmt.Sprintf("delete %d", n), evNone
	case x < 72 && len(names) > 0: // change an object's kind of capture
		name := pick()
		o := m.objs[name]
		o.kind = (o.kind + 1 + r.IntN(objKinds-1)) % objKinds
		m.objs[name] = o
		return "rekind " + name, evNone
	case x < 76 && len(names) > 0: // a patch the base cannot take
		for _, name := range names {
			if o := m.objs[name]; m.base[name] && (o.kind == objPatch || o.kind == objBoth) {
				o.kind = objBadPatch
				m.objs[name] = o
				return "break " + name, evNone
			}
		}
		return "nothing to break", evNone
	case x < 80: // the base moves
		name := fmt.Sprintf("o%02d", r.IntN(40))
		if m.base[name] {
			delete(m.base, name)
		} else {
			m.base[name] = true
		}
		return "base " + name, evNone
	case x < 84:
		return "foreign write", evForeign
	case x < 87:
		return "restart", evRestart
	default:
		return "nothing", evNone
	}
}

// The incremental publish commits what the full path commits and refuses
// what it refuses, over random sequences of captures, modifications,
// deletions (some past the mass-deletion guard), objects that break the
// build, base moves, someone else's commits and restarts. Each seed is a
// fixed sequence. The reference is a writer whose repository cannot name
// its directory (it always renders everything and builds the whole
// overlay with krusty). The incremental writer is told, as capture/live
// tells it, which captures changed since the last snapshot it published
// (capture.Changes: every changed one, and at random some others).
func TestIncrementalEqualsFull(t *testing.T) {
	named := 0
	defer func() {
		if named < 40 {
			t.Errorf("%d publishes compared only the captures named, over all seeds: the hints were hardly used", named)
		}
	}()
	for _, seed := range []uint64{1, 2, 3, 4, 5, 6, 7, 8} {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 0x1D))
			shuffle := rand.New(rand.NewPCG(seed, 0x5F))
			m := model{objs: map[string]modelObj{}, base: map[string]bool{}}
			for i := range 12 {
				name := fmt.Sprintf("o%02d", i)
				m.objs[name] = modelObj{kind: r.IntN(objConflict), val: 0}
				if r.IntN(2) == 0 {
					m.base[name] = true
				}
			}
			cfg := testConfig()
			cfg.Overlay.Resources = []string{"../../../apps"}
			opts := writeback.Options{MaxDeleteShare: 0.5}
			inc := &fakeRepo{hashed: true, branch: m.baseFiles()}
			full := &fakeRepo{keyed: true, branch: m.baseFiles()}
			wi := writeback.New(cfg, inc, "uid-a", opts)
			wf := writeback.New(cfg, full, "uid-a", opts)
			var incSteps int
			// What the watcher would name: the captures of the last
			// snapshot published, and the snapshots' numbers.
			var last []capture.Capture
			var snap, published uint64
			for step := range 40 {
				what, ev := m.step(r)
				base := m.baseFiles()
				for _, repo := range []*fakeRepo{inc, full} {
					for p, f := range base {
						repo.branch[p] = f
					}
					if ev == evForeign {
						// Someone else edits the overlay (a comment, a file).
						if f := repo.branch[dir+"/.driftback.yaml"]; f != nil {
							repo.branch[dir+"/.driftback.yaml"] = &fstest.MapFile{Data: append(slices.Clip(f.Data), "# edited\n"...)}
						}
						repo.branch[dir+"/NOTES"] = &fstest.MapFile{Data: fmt.Appendf(nil, "step %d\n", step)}
					}
				}
				if ev == evRestart {
					wi = writeback.New(cfg, inc, "uid-a", opts)
				}
				before, _ := wi.Paths()
				caps := m.captures()
				if step%3 == 2 {
					// Sometimes not in ref order (capture/live sorts).
					shuffle.Shuffle(len(caps), func(i, j int) { caps[i], caps[j] = caps[j], caps[i] })
				}
				snap++
				changes := &capture.Changes{Since: published, Snapshot: snap, Refs: changedRefs(last, caps, r)}
				_, errI := wi.PublishChanges(t.Context(), capture.PackAll(caps), changes)
				if errI == nil {
					last, published = m.captures(), snap
				}
				_, errF := wf.Publish(t.Context(), m.captures())
				if after, _ := wi.Paths(); after > before {
					incSteps++
				}
				if fmt.Sprint(errI) != fmt.Sprint(errF) {
					t.Fatalf("step %d (%s): incremental: %v\nfull: %v", step, what, errI, errF)
				}
				rI, okI := writeback.RefusalReason(errI)
				rF, okF := writeback.RefusalReason(errF)
				if rI != rF || okI != okF {
					t.Fatalf("step %d (%s): refusal %q/%v, full %q/%v", step, what, rI, okI, rF, okF)
				}
				if rF == writeback.RefusedMassDeletion {
					// Someone confirms: both writers start again with
					// --allow-deletions (armed for one publish).
					confirmed := opts
					confirmed.AllowDeletions = true
					wi = writeback.New(cfg, inc, "uid-a", confirmed)
					wf = writeback.New(cfg, full, "uid-a", confirmed)
				}
				if wi.Skipped() != wf.Skipped() {
					t.Fatalf("step %d (%s): skipped %d, full %d", step, what, wi.Skipped(), wf.Skipped())
				}
				if diff := treeDiff(inc.branch, full.branch); diff != "" {
					t.Fatalf("step %d (%s): the branches differ: %s", step, what, diff)
				}
			}
			// The sequences must exercise the incremental path, not only
			// fall back.
			if incSteps < 10 || inc.updates < 5 {
				t.Fatalf("incremental path taken %d times (%d updates) in 40 steps", incSteps, inc.updates)
			}
			cheap, whole := wi.Builds()
			named += wi.Named()
			t.Logf("incremental %d of 40 publishes, %d updates; the last writer checked %d cheaply, built %d whole, compared only the captures named %d times", incSteps, inc.updates, cheap, whole, wi.Named())
		})
	}
}

// changedRefs names what a watcher names between two snapshots: every
// object whose capture was added, changed or removed, and at random some
// others (it may name more).
func changedRefs(before, after []capture.Capture, r *rand.Rand) map[capture.ObjectRef]bool {
	index := func(cs []capture.Capture) map[capture.ObjectRef]capture.Capture {
		out := map[capture.ObjectRef]capture.Capture{}
		for _, c := range cs {
			out[c.Ref.Unversioned()] = c
		}
		return out
	}
	b, a := index(before), index(after)
	out := map[capture.ObjectRef]bool{}
	for k, c := range a {
		if old, ok := b[k]; !ok || !capture.Equal(&old, &c) || r.IntN(5) == 0 {
			out[k] = true
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out[k] = true
		}
	}
	return out
}

func treeDiff(a, b fstest.MapFS) string {
	for p, f := range a {
		g, ok := b[p]
		if !ok {
			return p + " only in the incremental branch"
		}
		if !bytes.Equal(f.Data, g.Data) {
			return fmt.Sprintf("%s:\n%s\nfull:\n%s", p, f.Data, g.Data)
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			return p + " only in the full branch"
		}
	}
	return ""
}
