package live

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"

	"github.com/driftback/driftback/capture"
)

// Watcher keeps one informer per resource the rules match, each caching
// captures only (see Captured), and follows resources that appear or vanish.
type Watcher struct {
	cl    *Cluster
	rules []capture.Rule
	// onChange is called when the set of captures may have changed; it must
	// not block.
	onChange func()
	// changes names the objects changed since the last snapshot taken
	// for a publish (changes.go).
	changes *changeLog

	mu    sync.Mutex
	kinds map[schema.GroupVersionResource]*kindWatch
	// unwatchable remembers resources already reported as lacking the watch
	// verb, so each rediscovery does not repeat the warning.
	unwatchable map[schema.GroupVersionResource]bool
}

type kindWatch struct {
	res          Resource
	metadataOnly bool
	informer     cache.SharedIndexInformer
	cancel       context.CancelFunc
	done         chan struct{}
	// started is when the informer started: a resource not listed in full
	// SyncTimeout after it is published without (see Controller).
	started time.Time

	// mu guards the last list or watch failure, which the reflector
	// reports from its own goroutine.
	mu      sync.Mutex
	lastErr error
	// failures counts list and watch failures, for metrics.
	failures int
	// warned is set once the failure was logged at WARN, so a resource that
	// stays broken (a conversion webhook down) is named once, not every
	// backoff step; a recovery re-arms it.
	warned bool

	// order is the last snapshot's order of its objects; guarded by the
	// Watcher's mu, which Snapshot holds.
	order refOrder
}

// failed records a list or watch failure: named at WARN the first time.
func (k *kindWatch) failed(err error) {
	k.mu.Lock()
	k.lastErr, k.failures = err, k.failures+1
	first := !k.warned
	k.warned = true
	k.mu.Unlock()
	if first {
		slog.Warn("resource cannot be listed or watched; its objects are not captured until it can be, and after the sync timeout the other resources are published without it (its recorded files are kept)",
			"resource", k.res.GVR.String(), "kind", k.res.Kind, "err", err)
		return
	}
	slog.Debug("list or watch failed again", "resource", k.res.GVR.String(), "err", err)
}

// synced reports whether the resource is listed in full, re-arming the
// warning when it recovered.
func (k *kindWatch) synced() bool {
	ok := k.informer.HasSynced()
	if ok {
		k.mu.Lock()
		if k.warned {
			k.warned = false
			slog.Info("resource listed again", "resource", k.res.GVR.String())
		}
		k.mu.Unlock()
	}
	return ok
}

// NewWatcher returns a watcher that calls onChange whenever a capture is
// added, changed or removed after its resource's initial list. A change that
// leaves every capture equal (an excluded, volatile field) does not call it;
// nor does the initial list: whoever starts a resource's watch (Reconcile
// reports it) publishes once it has synced.
func (c *Cluster) NewWatcher(rules []capture.Rule, onChange func()) *Watcher {
	return &Watcher{cl: c, rules: rules, onChange: onChange, changes: newChangeLog(), kinds: map[schema.GroupVersionResource]*kindWatch{}, unwatchable: map[schema.GroupVersionResource]bool{}}
}

// Reconcile discovers the resources the rules match, starts informers for
// new ones and stops those of resources that are gone (a deleted CRD, a
// changed preferred version). Resources of groups whose discovery failed are
// kept: a flaky aggregated API must not look like every object vanished.
// It reports whether the set of watched resources changed.
func (w *Watcher) Reconcile(ctx context.Context) (bool, error) {
	res, failed, err := w.cl.discover(w.rules)
	if err != nil {
		return false, err
	}
	want := map[schema.GroupVersionResource]Resource{}
	for _, r := range res {
		if r.Watchable {
			want[r.GVR] = r
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	changed := false
	for gvr, k := range w.kinds {
		if _, ok := want[gvr]; ok || failed[gvr.GroupVersion()] {
			continue
		}
		slog.Info("resource gone, no longer watched", "resource", gvr.String())
		k.cancel()
		<-k.done
		delete(w.kinds, gvr)
		changed = true
	}
	if len(failed) > 0 {
		slog.Warn("some API groups could not be discovered; what was watched in them still is", "groups", fmt.Sprint(failed))
	}
	for _, r := range res {
		if _, ok := w.kinds[r.GVR]; ok {
			continue
		}
		if !r.Watchable {
			if !w.unwatchable[r.GVR] {
				w.unwatchable[r.GVR] = true
				slog.Warn("resource cannot be watched; use snapshot to capture it", "resource", r.GVR.String())
			}
			continue
		}
		w.kinds[r.GVR] = w.start(ctx, r)
		changed = true
	}
	if changed {
		// A resource's objects came or went without a notification each.
		w.changes.addAll()
	}
	return changed, nil
}

func (w *Watcher) start(ctx context.Context, r Resource) *kindWatch {
	k := &kindWatch{res: r, metadataOnly: capture.NeedsFor(w.rules, r.GVR.Group, r.Kind).MetadataOnly, done: make(chan struct{}), started: time.Now()}
	tf := transform(w.rules, r)
	// No resync and no indexers: the cache is only ever listed whole.
	if k.metadataOnly {
		k.informer = metadatainformer.NewFilteredMetadataInformer(w.cl.meta, r.GVR, "", 0, cache.Indexers{}, nil).Informer()
	} else {
		// Listed page by page into captures (pagedlist.go).
		k.informer = newPagedInformer(w.cl.dyn, r.GVR, tf)
	}
	// Both only fail once the informer runs, which it does not yet. The
	// paged list made captures already; watch events go through it here.
	_ = k.informer.SetTransform(tf)
	// The reflector reports list failures here too (a CRD whose conversion
	// webhook is down fails every list).
	_ = k.informer.SetWatchErrorHandler(func(_ *cache.Reflector, err error) {
		k.failed(err)
	})
	_, _ = k.informer.AddEventHandler(cache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, isInInitialList bool) {
			// The initial list is published once the resource has synced
			// (Controller.Run, and the publish a rediscovery asks for
			// waits for it). Its notifications reach this handler after
			// the cache has them, often while that publish runs: counted
			// as changes, they made a second publish of every object
			// right after the first.
			if isInInitialList {
				return
			}
			if c := capturedOf(obj); c != nil && c.Packed != nil {
				w.changes.add(c.Packed)
				w.onChange()
			}
		},
		UpdateFunc: func(oldObj, newObj any) {
			o, n := capturedOf(oldObj), capturedOf(newObj)
			switch {
			case o == nil || n == nil:
				w.changes.addAll()
			case capture.PackedEqual(o.Packed, n.Packed):
				return
			default:
				w.changes.add(o.Packed)
				w.changes.add(n.Packed)
			}
			w.onChange()
		},
		DeleteFunc: func(obj any) {
			c := capturedOf(obj)
			switch {
			case c == nil:
				w.changes.addAll()
			case c.Packed == nil:
				return
			default:
				w.changes.add(c.Packed)
			}
			w.onChange()
		},
	})
	kctx, cancel := context.WithCancel(ctx)
	k.cancel = cancel
	slog.Info("watching", "resource", r.GVR.String(), "kind", r.Kind, "metadataOnly", k.metadataOnly)
	go func() {
		defer close(k.done)
		k.informer.RunWithContext(kctx)
	}()
	return k
}

// Synced reports whether every watched resource has been listed in full:
// publishing before that would drop the objects not yet seen.
func (w *Watcher) Synced() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, k := range w.kinds {
		if !k.synced() {
			return false
		}
	}
	return true
}

// Unsynced names the watched resources not listed in full yet, sorted.
func (w *Watcher) Unsynced() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for gvr, k := range w.kinds {
		if !k.synced() {
			out = append(out, gvr.String())
		}
	}
	sort.Strings(out)
	return out
}

// WaitForSync blocks until Synced or ctx ends.
func (w *Watcher) WaitForSync(ctx context.Context) error {
	w.mu.Lock()
	var synced []cache.InformerSynced
	for _, k := range w.kinds {
		synced = append(synced, k.informer.HasSynced)
	}
	w.mu.Unlock()
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return fmt.Errorf("wait for the watch caches to sync: %w", context.Cause(ctx))
	}
	return nil
}

// Captures returns every capture of every watched resource, sorted by ref
// and unpacked (for inspection: a publish takes Snapshot's packed ones).
func (w *Watcher) Captures() []capture.Capture {
	caps, _ := w.Snapshot()
	out := make([]capture.Capture, len(caps))
	for i, p := range caps {
		out[i] = p.Unpack()
	}
	return out
}

// Unlisted is a watched resource not listed in full.
type Unlisted struct {
	Resource Resource
	// Since is when its informer started.
	Since time.Time
	// Err is the last list or watch failure; nil while the first list is
	// still running.
	Err error
}

// Snapshot returns the captures of every resource listed in full, sorted by
// ref, and the resources that are not (sorted): their objects are missing
// from the captures, and whoever publishes must keep what it recorded of
// them rather than read their absence as deletions. The captures are the
// cache's own, packed (capture.Packed): nothing changes them, so they are
// shared rather than copied.
func (w *Watcher) Snapshot() ([]*capture.Packed, []Unlisted) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var runs [][]*capture.Packed
	var unlisted []Unlisted
	n := 0
	for _, k := range w.kinds {
		// One look at whether it synced: a resource both skipped and
		// not named unlisted would read as all its objects deleted.
		if !k.synced() {
			unlisted = append(unlisted, k.unlisted())
			continue
		}
		// Each resource's captures in order (order.go), then the
		// resources in the order of their group and kind.
		if run := k.order.sorted(k.informer.GetStore().List()); len(run) > 0 {
			runs = append(runs, run)
			n += len(run)
		}
	}
	sortUnlisted(unlisted)
	return joinRuns(runs, n), unlisted
}

// snapshotChanges is Snapshot with what changed since the last snapshot
// published (capture.Changes), taken before the caches are listed.
func (w *Watcher) snapshotChanges() ([]*capture.Packed, []Unlisted, *capture.Changes) {
	ch := w.changes.take()
	caps, unlisted := w.Snapshot()
	return caps, unlisted, ch
}

// Unlisted returns the watched resources not listed in full, sorted.
func (w *Watcher) Unlisted() []Unlisted {
	w.mu.Lock()
	defer w.mu.Unlock()
	var unlisted []Unlisted
	for _, k := range w.kinds {
		if !k.synced() {
			unlisted = append(unlisted, k.unlisted())
		}
	}
	sortUnlisted(unlisted)
	return unlisted
}

func (k *kindWatch) unlisted() Unlisted {
	k.mu.Lock()
	defer k.mu.Unlock()
	return Unlisted{Resource: k.res, Since: k.started, Err: k.lastErr}
}

func sortUnlisted(u []Unlisted) {
	sort.Slice(u, func(i, j int) bool { return u[i].Resource.GVR.String() < u[j].Resource.GVR.String() })
}

// Stats counts what is watched, for metrics.
type Stats struct {
	// Resources watched, and how many of them with metadata only.
	Resources, MetadataOnly int
	// Objects in the caches, and how many of them have a capture.
	Objects, Captured int
	// Unlisted counts resources not listed in full; ListFailures every list
	// or watch failure so far.
	Unlisted, ListFailures int
}

// Stats returns the current counts.
func (w *Watcher) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	var s Stats
	for _, k := range w.kinds {
		s.Resources++
		if k.metadataOnly {
			s.MetadataOnly++
		}
		if !k.informer.HasSynced() {
			s.Unlisted++
		}
		k.mu.Lock()
		s.ListFailures += k.failures
		k.mu.Unlock()
		for _, obj := range k.informer.GetStore().List() {
			s.Objects++
			if c := capturedOf(obj); c != nil && c.Packed != nil {
				s.Captured++
			}
		}
	}
	return s
}

// Resources lists the watched resources, sorted.
func (w *Watcher) Resources() []Resource {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]Resource, 0, len(w.kinds))
	for _, k := range w.kinds {
		out = append(out, k.res)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GVR.String() < out[j].GVR.String() })
	return out
}

// Stop stops every informer and waits for them.
func (w *Watcher) Stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for gvr, k := range w.kinds {
		k.cancel()
		<-k.done
		delete(w.kinds, gvr)
	}
}
