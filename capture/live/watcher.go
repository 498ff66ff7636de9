package live

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic/dynamicinformer"
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
}

// NewWatcher returns a watcher that calls onChange whenever a capture is
// added, changed or removed. A change that leaves every capture equal (an
// excluded, volatile field) does not call it.
func (c *Cluster) NewWatcher(rules []capture.Rule, onChange func()) *Watcher {
	return &Watcher{cl: c, rules: rules, onChange: onChange, kinds: map[schema.GroupVersionResource]*kindWatch{}, unwatchable: map[schema.GroupVersionResource]bool{}}
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
	return changed, nil
}

func (w *Watcher) start(ctx context.Context, r Resource) *kindWatch {
	k := &kindWatch{res: r, metadataOnly: capture.NeedsFor(w.rules, r.GVR.Group, r.Kind).MetadataOnly, done: make(chan struct{})}
	// No resync and no indexers: the cache is only ever listed whole.
	if k.metadataOnly {
		k.informer = metadatainformer.NewFilteredMetadataInformer(w.cl.meta, r.GVR, "", 0, cache.Indexers{}, nil).Informer()
	} else {
		k.informer = dynamicinformer.NewFilteredDynamicInformer(w.cl.dyn, r.GVR, "", 0, cache.Indexers{}, nil).Informer()
	}
	// Both only fail once the informer runs, which it does not yet.
	_ = k.informer.SetTransform(transform(w.rules, r))
	_ = k.informer.SetWatchErrorHandler(func(_ *cache.Reflector, err error) {
		slog.Warn("watch failed, retrying", "resource", r.GVR.String(), "err", err)
	})
	_, _ = k.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if c := capturedOf(obj); c != nil && c.Capture != nil {
				w.onChange()
			}
		},
		UpdateFunc: func(oldObj, newObj any) {
			o, n := capturedOf(oldObj), capturedOf(newObj)
			if o == nil || n == nil || !capture.Equal(o.Capture, n.Capture) {
				w.onChange()
			}
		},
		DeleteFunc: func(obj any) {
			if c := capturedOf(obj); c == nil || c.Capture != nil {
				w.onChange()
			}
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
		if !k.informer.HasSynced() {
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
		if !k.informer.HasSynced() {
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

// Captures returns every capture of every watched resource, sorted by ref.
func (w *Watcher) Captures() []capture.Capture {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []capture.Capture
	for _, k := range w.kinds {
		for _, obj := range k.informer.GetStore().List() {
			if c := capturedOf(obj); c != nil && c.Capture != nil {
				out = append(out, *c.Capture)
			}
		}
	}
	capture.Sort(out)
	return out
}

// Stats counts what is watched, for metrics.
type Stats struct {
	// Resources watched, and how many of them with metadata only.
	Resources, MetadataOnly int
	// Objects in the caches, and how many of them have a capture.
	Objects, Captured int
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
		for _, obj := range k.informer.GetStore().List() {
			s.Objects++
			if c := capturedOf(obj); c != nil && c.Capture != nil {
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
