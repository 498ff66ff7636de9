package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/driftback/driftback/capture"
)

// PublishFunc writes the complete set of captures somewhere (Git, for
// driftback run). It is called from one goroutine at a time, once every
// watched resource has synced or SyncTimeout passed, and an error makes the
// controller try again later with backoff or as soon as the captures change.
// unlisted are the watched resources that could not be listed in full: caps
// lack their objects, and the publisher must keep what it recorded of them
// as it is, never read their absence as deletions.
type PublishFunc func(ctx context.Context, caps []*capture.Packed, unlisted []Unlisted) error

// ControllerOptions tune a Controller.
type ControllerOptions struct {
	// Debounce is how long changes are collected before one publish: a burst
	// of updates becomes one commit. Measured from the first change.
	Debounce time.Duration
	// Rediscover is how often API discovery is refreshed to follow kinds
	// that appear or vanish; a CRD watch triggers it sooner.
	Rediscover time.Duration
	// FlushTimeout bounds the publish still running or pending when the
	// context ends (SIGTERM): the last changes are written before exiting.
	FlushTimeout time.Duration
	// RetryMax caps the backoff between failed publishes.
	RetryMax time.Duration
	// SyncTimeout bounds how long publishes wait for a newly watched
	// resource to sync (one that cannot be listed never does, e.g. a CRD
	// whose conversion webhook is down); after it the other resources are
	// published without it, and its recorded state is kept.
	SyncTimeout time.Duration
	// CompareAllEvery is how often a publish compares every capture with
	// what Git holds, not only those the watch named as changed
	// (capture.Changes): it bounds, in a quiet cluster too, how long a
	// change the naming missed (a bug, or an informer event lost) would
	// stay out of Git. Such a publish costs a fingerprint per capture
	// (about 80 ms at 50,000) and commits only what differs.
	CompareAllEvery time.Duration
}

// publishKey is the only work item: the whole overlay is published at once,
// so every change coalesces into it and the queue dedups it.
const publishKey = "publish"

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// Controller keeps a publish target equal to the live captures: a Watcher
// feeds a one-item work queue (sample-controller shape) whose worker
// publishes after a debounce window.
type Controller struct {
	opts    ControllerOptions
	publish PublishFunc
	watcher *Watcher
	cl      *Cluster
	queue   workqueue.TypedRateLimitingInterface[string]
	// pending is set by a change and cleared when a publish takes the
	// captures, so shutdown knows whether a last publish is owed.
	pending atomic.Bool
	// oldest is when the first change no publish has taken yet was seen
	// (unix nanoseconds, 0 when none); taken is that time for the publish
	// in progress, for the capture-to-commit histogram (OldestChange).
	oldest, taken atomic.Int64
	// changes are, during a publish, the objects changed since the last
	// snapshot published (Changes).
	changes atomic.Pointer[capture.Changes]
	// scheduled is set while a debounced publish is queued, so a burst of
	// events (the initial list of a large kind) costs one queue operation,
	// not one per object.
	scheduled atomic.Bool
	ready     atomic.Bool
	// rediscover asks for a discovery refresh; buffered, one is enough.
	rediscover chan struct{}
}

// NewController wires a watcher over the rules to publish.
func (c *Cluster) NewController(rules []capture.Rule, publish PublishFunc, opts ControllerOptions) *Controller {
	if opts.Debounce <= 0 {
		opts.Debounce = 5 * time.Second
	}
	if opts.Rediscover <= 0 {
		opts.Rediscover = time.Minute
	}
	if opts.FlushTimeout <= 0 {
		opts.FlushTimeout = 20 * time.Second
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = 2 * time.Minute
	}
	if opts.SyncTimeout <= 0 {
		opts.SyncTimeout = time.Minute
	}
	if opts.CompareAllEvery <= 0 {
		opts.CompareAllEvery = 10 * time.Minute
	}
	ctl := &Controller{
		opts: opts, publish: publish, cl: c,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](time.Second, opts.RetryMax),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "driftback"}),
		rediscover: make(chan struct{}, 1),
	}
	ctl.watcher = c.NewWatcher(rules, ctl.changed)
	return ctl
}

// Watcher exposes the watcher for metrics.
func (ctl *Controller) Watcher() *Watcher { return ctl.watcher }

// Ready reports whether the caches synced and the first publish was tried.
func (ctl *Controller) Ready() bool { return ctl.ready.Load() }

// Pending reports whether changes were seen that no publish has taken yet
// (waiting for the debounce window, or for a refused publish to pass).
func (ctl *Controller) Pending() bool { return ctl.pending.Load() }

// Trigger asks for a publish of the current captures after the debounce, as
// a change would: a replica that becomes the leader publishes its warm cache.
func (ctl *Controller) Trigger() { ctl.changed() }

// OldestChange is, during a publish, when the oldest change it carries was
// seen: the start of the capture-to-commit time.
func (ctl *Controller) OldestChange() time.Time { return time.Unix(0, ctl.taken.Load()) }

func (ctl *Controller) changed() {
	ctl.oldest.CompareAndSwap(0, time.Now().UnixNano())
	ctl.pending.Store(true)
	if !ctl.scheduled.Swap(true) {
		ctl.queue.AddAfter(publishKey, ctl.opts.Debounce)
	}
}

// Run watches and publishes until ctx ends, then flushes a pending publish
// (bounded by FlushTimeout) and returns. It returns early only when the
// first discovery fails.
func (ctl *Controller) Run(ctx context.Context) error {
	defer ctl.watcher.Stop()
	if _, err := ctl.watcher.Reconcile(ctx); err != nil {
		return err
	}
	ctl.watchCRDs(ctx)
	go ctl.rediscoverLoop(ctx)
	go ctl.compareAllLoop(ctx)

	// Publishes outlive ctx by FlushTimeout so that SIGTERM does not cut a
	// push in half and the last debounced changes still reach Git.
	pubCtx, cancelPub := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelPub()
	stopFlush := context.AfterFunc(ctx, func() {
		time.AfterFunc(ctl.opts.FlushTimeout, cancelPub)
		ctl.queue.ShutDown()
	})
	defer stopFlush()

	// The first sync is bounded too: one resource that cannot be listed
	// must not stall every other one (publishOnce names it).
	wctx, cancel := context.WithTimeout(ctx, ctl.opts.SyncTimeout)
	_ = ctl.watcher.WaitForSync(wctx)
	cancel()
	if ctx.Err() != nil {
		ctl.queue.ShutDown()
		return nil // ctx ended before the first sync: nothing to flush
	}
	slog.Info("watch caches synced", "resources", len(ctl.watcher.Resources()), "unlisted", len(ctl.watcher.Unlisted()))
	ctl.pending.Store(true)
	ctl.queue.Add(publishKey)
	for ctl.processNextItem(ctx, pubCtx) {
	}
	if ctl.pending.Load() {
		slog.Info("flushing pending changes before exit")
		_ = ctl.publishOnce(ctx, pubCtx) // the publisher logs its outcome
	}
	return nil
}

// processNextItem is the worker of the sample-controller pattern: one item,
// Forget on success, AddRateLimited on failure.
func (ctl *Controller) processNextItem(ctx, pubCtx context.Context) bool {
	key, shutdown := ctl.queue.Get()
	if shutdown {
		return false
	}
	defer ctl.queue.Done(key)
	// Changes from now on need a publish after this one. A retry queued by
	// AddRateLimited below does not count: a change pulls it earlier.
	ctl.scheduled.Store(false)
	if err := ctl.publishOnce(ctx, pubCtx); err != nil {
		ctl.queue.AddRateLimited(key)
		return true
	}
	ctl.queue.Forget(key)
	return true
}

func (ctl *Controller) publishOnce(ctx, pubCtx context.Context) error {
	// A resource discovered since the last publish is waited for until
	// SyncTimeout after its watch started; past that it is published
	// without, and the publisher keeps what Git recorded of it.
	if unl := ctl.watcher.Unlisted(); len(unl) > 0 {
		deadline := time.Time{}
		for _, u := range unl {
			if d := u.Since.Add(ctl.opts.SyncTimeout); d.After(deadline) {
				deadline = d
			}
		}
		wctx, cancel := context.WithDeadline(ctx, deadline)
		_ = ctl.watcher.WaitForSync(wctx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	ctl.pending.Store(false)
	oldest := ctl.oldest.Swap(0)
	if oldest == 0 {
		oldest = time.Now().UnixNano()
	}
	ctl.taken.Store(oldest)
	caps, unlisted, changes := ctl.watcher.snapshotChanges()
	if len(unlisted) > 0 {
		// The publisher carries what Git holds of them; when they are
		// listed, their objects arrive without a notification each.
		changes.Since, changes.Refs = 0, nil
		ctl.watcher.changes.addAll()
		names := make([]string, len(unlisted))
		for i, u := range unlisted {
			names[i] = u.Resource.GVR.String()
		}
		slog.Warn("publishing without resources that cannot be listed; what Git recorded of them is kept as it is",
			"resources", names, "waited", ctl.opts.SyncTimeout)
	}
	ctl.changes.Store(changes)
	err := ctl.publish(pubCtx, caps, unlisted)
	ctl.watcher.changes.settle(changes, err == nil)
	ctl.ready.Store(true)
	if err != nil && !errors.Is(err, context.Canceled) {
		ctl.pending.Store(true)
		// The changes are still owed: their time counts from their first sight.
		ctl.oldest.CompareAndSwap(0, oldest)
	}
	return err
}

// Changes are, during a publish, the objects whose captures changed since
// the snapshot of the last publish that succeeded (capture.Changes), so
// the publisher compares only those.
func (ctl *Controller) Changes() *capture.Changes { return ctl.changes.Load() }

// watchCRDs triggers a discovery refresh whenever a CRD is added, changes
// (becomes established) or goes, so new kinds are watched within seconds.
// Without the right to list CRDs, the periodic refresh still finds them.
func (ctl *Controller) watchCRDs(ctx context.Context) {
	inf := metadatainformer.NewFilteredMetadataInformer(ctl.cl.meta, crdGVR, "", 0, cache.Indexers{}, nil).Informer()
	_ = inf.SetWatchErrorHandler(func(_ *cache.Reflector, err error) {
		slog.Debug("CRD watch failed; relying on periodic rediscovery", "err", err)
	})
	trigger := func(any) {
		// Discovery serves a new CRD a moment after it is established;
		// ask again shortly after to catch it.
		ctl.requestRediscover()
		time.AfterFunc(time.Second, ctl.requestRediscover)
		time.AfterFunc(3*time.Second, ctl.requestRediscover)
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    trigger,
		UpdateFunc: func(_, n any) { trigger(n) },
		DeleteFunc: trigger,
	})
	go inf.RunWithContext(ctx)
}

func (ctl *Controller) requestRediscover() {
	select {
	case ctl.rediscover <- struct{}{}:
	default:
	}
}

// compareAllLoop asks, every CompareAllEvery, for a publish that compares
// every capture (ControllerOptions.CompareAllEvery).
func (ctl *Controller) compareAllLoop(ctx context.Context) {
	t := time.NewTicker(ctl.opts.CompareAllEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ctl.watcher.changes.addAll()
			ctl.changed()
		}
	}
}

func (ctl *Controller) rediscoverLoop(ctx context.Context) {
	t := time.NewTicker(ctl.opts.Rediscover)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-ctl.rediscover:
		}
		changed, err := ctl.watcher.Reconcile(ctx)
		if err != nil {
			slog.Warn("rediscovery failed; watching what was found before", "err", fmt.Errorf("rediscover: %w", err))
			continue
		}
		if changed {
			ctl.changed()
		}
	}
}
