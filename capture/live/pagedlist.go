package live

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/pager"
)

// listPageSize is how many objects one LIST request of a paged list asks
// for: client-go's pager default, and the paged LIST the watch benchmark
// compares the first commit with.
const listPageSize = 500

// pagedLister lists and watches a resource watched whole (not metadata
// only) for its informer. Its list reads the resource in pages and turns
// each page's objects into captures (the informer's transform) before it
// reads the next, so it holds one page of whole objects at a time, and
// hands the reflector captures only.
//
// Why not client-go's watch-list (on by default in client-go 0.37): the
// apiserver sends it one event per object, and the first commit waits for
// the whole list. On the watch benchmark's 50,000 objects (BENCHMARKS.md)
// the watch-list took 19–20 s to sync, with driftback's decoding using
// about half of that in CPU, while the apiserver served the same objects
// as pages of 500 in 8.2 s; listed this way they sync in 15.5 s. A plain
// reflector list would hold every page of whole objects until the last
// (pager.ListWithAlloc), which is why watch-list became the default.
//
// Every list is of the most recent state (resourceVersion ""), page by
// page at the first page's resourceVersion: at least as fresh as whatever
// the reflector asks for. When a page's continue token has expired
// (compaction), the error reaches the reflector, which lists again.
type pagedLister struct{ *cache.ListWatch }

// newPagedLister is client-go's ListWatch of res with pagedList's list.
func newPagedLister(res dynamic.ResourceInterface, transform cache.TransformFunc) *pagedLister {
	return &pagedLister{&cache.ListWatch{ListWithContextFunc: pagedList(res, transform), WatchFuncWithContext: res.Watch}}
}

// newPagedInformer is dynamicinformer.NewFilteredDynamicInformer's
// informer (all namespaces, no resync, no indexers) over a pagedLister.
func newPagedInformer(dyn dynamic.Interface, gvr schema.GroupVersionResource, transform cache.TransformFunc) cache.SharedIndexInformer {
	return cache.NewSharedIndexInformerWithOptions(
		newPagedLister(dyn.Resource(gvr), transform),
		&unstructured.Unstructured{},
		cache.SharedIndexInformerOptions{ObjectDescription: gvr.String()})
}

// IsWatchListSemanticsUnSupported tells the reflector to list rather than
// use a watch-list (client-go's watchlist.DoesClientNotSupportWatchListSemantics).
func (l *pagedLister) IsWatchListSemanticsUnSupported() bool { return true }

// pagedList lists every object of res, page by page, as captures, with
// client-go's pager (EachListItem): the next page is asked for while this
// one is turned into captures (the apiserver's time to serve a page and
// driftback's to decode and transform one are about equal; one after the
// other they took twice as long), at most three pages of whole objects
// held at a time (PageBufferSize 1: one being transformed, one waiting,
// one being read). A list cut short (ctx ended, a page failed) is the
// pager's error, never the pages read so far: the reflector would replace
// its cache with them, and every object not yet read would look deleted.
func pagedList(res dynamic.ResourceInterface, transform cache.TransformFunc) cache.ListWithContextFunc {
	return func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
		out := &capturedList{}
		p := pager.New(func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			page, err := res.List(ctx, opts)
			if err == nil && out.ResourceVersion == "" {
				// Read after EachListItem returns, which waits for this
				// goroutine's result.
				out.ResourceVersion = page.GetResourceVersion()
			}
			return page, err
		})
		p.PageBufferSize = 1
		opts.ResourceVersion, opts.ResourceVersionMatch, opts.Continue = "", "", ""
		opts.Limit = listPageSize
		err := p.EachListItem(ctx, opts, func(obj runtime.Object) error {
			c, err := transform(obj)
			if err != nil {
				return err
			}
			o, ok := c.(runtime.Object)
			if !ok {
				return fmt.Errorf("list: the transform made a %T of %T", c, obj)
			}
			out.Items = append(out.Items, o)
			return nil
		})
		if err != nil {
			return nil, err // the reflector's words: "failed to list <resource>"
		}
		return out, nil
	}
}

// capturedList is what pagedLister's list hands the reflector: the
// captures of every object and the list's resourceVersion, in the shape
// meta.ListAccessor and meta.ExtractList read.
type capturedList struct {
	metav1.ListMeta
	Items []runtime.Object
}

func (l *capturedList) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// DeepCopyObject copies the list; its captures are shared, as
// Captured.DeepCopyObject shares a capture.
func (l *capturedList) DeepCopyObject() runtime.Object {
	out := &capturedList{Items: make([]runtime.Object, len(l.Items))}
	l.ListMeta.DeepCopyInto(&out.ListMeta)
	for i, o := range l.Items {
		out.Items[i] = o.DeepCopyObject()
	}
	return out
}
