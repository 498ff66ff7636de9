package live

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// pagingServer answers LISTs of buckets in pages
// as an apiserver does (limit and continue), and records what was asked.
type pagingServer struct {
	objs []*unstructured.Unstructured
	// failAt makes the LIST of that page (0: the first) fail with an
	// expired continue token, once.
	failAt int

	// onList, when set, is called with each page's number before it is
	// served.
	onList func(page int)

	mu    sync.Mutex
	asked []metav1.ListOptions
}

// pagingDynamic is a dynamic client whose bucket LISTs srv answers (the
// fake's List ignores limit and continue); everything else is the fake's.
type pagingDynamic struct {
	dynamic.Interface
	srv *pagingServer
}

func (d pagingDynamic) Resource(gvr schema.GroupVersionResource) dynamic.NamespaceableResourceInterface {
	return pagingResource{d.Interface.Resource(gvr), d.srv}
}

type pagingResource struct {
	dynamic.NamespaceableResourceInterface
	srv *pagingServer
}

func (r pagingResource) List(ctx context.Context, opts metav1.ListOptions) (*unstructured.UnstructuredList, error) {
	r.srv.mu.Lock()
	page := len(r.srv.asked)
	r.srv.mu.Unlock()
	if r.srv.onList != nil {
		r.srv.onList(page)
	}
	if err := ctx.Err(); err != nil {
		return nil, err // as a REST client does
	}
	return r.srv.list(opts)
}

func (s *pagingServer) list(opts metav1.ListOptions) (*unstructured.UnstructuredList, error) {
	s.mu.Lock()
	s.asked = append(s.asked, opts)
	page := len(s.asked) - 1
	s.mu.Unlock()
	if page == s.failAt {
		return nil, apierrors.NewResourceExpired("the continue token has expired")
	}
	from := 0
	if opts.Continue != "" {
		from, _ = strconv.Atoi(opts.Continue)
	}
	to := min(from+int(opts.Limit), len(s.objs))
	if opts.Limit == 0 {
		to = len(s.objs)
	}
	l := &unstructured.UnstructuredList{Object: map[string]any{"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "BucketList"}}
	l.SetResourceVersion("42")
	if to < len(s.objs) {
		l.SetContinue(strconv.Itoa(to))
	}
	for _, o := range s.objs[from:to] {
		l.Items = append(l.Items, *o.DeepCopy())
	}
	return l, nil
}

// TestPagedListReadsPageByPage: the informer's list asks for pages of
// listPageSize at the most recent state, follows the continue tokens,
// and hands the reflector a capture of every object, in order, with the
// list's resourceVersion. An expired token reaches the caller as itself
// (the reflector lists again on it).
func TestPagedListReadsPageByPage(t *testing.T) {
	f := newFixture(t)
	srv := &pagingServer{failAt: -1}
	for i := range 2*listPageSize + 3 {
		srv.objs = append(srv.objs, bucket(fmt.Sprintf("b-%04d", i), fmt.Sprintf("ext-%d", i)))
	}
	res := Resource{GVR: bucketGVR, Kind: "Bucket"}
	l := newPagedLister(pagingDynamic{f.dyn, srv}.Resource(bucketGVR), transform(crossplaneRules(t), res))

	obj, err := l.ListWithContext(t.Context(), metav1.ListOptions{ResourceVersion: "0", Limit: 7})
	if err != nil {
		t.Fatal(err)
	}
	got := obj.(*capturedList)
	if got.ResourceVersion != "42" || got.Continue != "" || len(got.Items) != len(srv.objs) {
		t.Fatalf("list: rv %q continue %q, %d items, want rv 42, no continue, %d items", got.ResourceVersion, got.Continue, len(got.Items), len(srv.objs))
	}
	for i, o := range got.Items {
		c, ok := o.(*Captured)
		if !ok || c.Packed == nil || c.GetName() != srv.objs[i].GetName() {
			t.Fatalf("item %d = %#v, want the capture of %s", i, o, srv.objs[i].GetName())
		}
	}
	if len(srv.asked) != 3 {
		t.Fatalf("%d LISTs, want 3 pages: %+v", len(srv.asked), srv.asked)
	}
	for i, o := range srv.asked {
		wantCont := []string{"", "500", "1000"}[i]
		if o.Limit != listPageSize || o.ResourceVersion != "" || o.Continue != wantCont {
			t.Errorf("LIST %d asked %+v, want limit %d, resourceVersion \"\", continue %q", i, o, listPageSize, wantCont)
		}
	}

	srv.asked, srv.failAt = nil, 1
	if _, err := l.ListWithContext(t.Context(), metav1.ListOptions{}); !apierrors.IsResourceExpired(err) {
		t.Errorf("an expired continue token: err = %v, want it as itself", err)
	}

	// The informer stopping mid-list: an error, never the pages read so
	// far as the whole list.
	srv.failAt = -1
	var cancel context.CancelFunc
	srv.onList = func(page int) {
		if page == 1 {
			cancel()
		}
	}
	for range 20 { // the pager's background fetch races the cancellation: try it often
		srv.asked = nil
		var ctx context.Context
		ctx, cancel = context.WithCancel(t.Context())
		got, err := l.ListWithContext(ctx, metav1.ListOptions{})
		cancel()
		if err == nil {
			t.Fatalf("a list cancelled after its first page: %d items and no error", len(got.(*capturedList).Items))
		}
	}
}

// TestPagedInformerSyncs: a Watcher over paged lists holds every object's
// capture once synced, the list taken as pages (not a watch-list).
func TestPagedInformerSyncs(t *testing.T) {
	f := newFixture(t)
	srv := &pagingServer{failAt: -1}
	for i := range listPageSize + 1 {
		srv.objs = append(srv.objs, bucket(fmt.Sprintf("b-%04d", i), fmt.Sprintf("ext-%d", i)))
	}
	f.cl.dyn = pagingDynamic{f.dyn, srv}
	w := f.cl.NewWatcher(crossplaneRules(t), func() {})
	defer w.Stop()
	if _, err := w.Reconcile(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := w.WaitForSync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if caps := w.Captures(); len(caps) != len(srv.objs) {
		t.Errorf("%d captures, want %d", len(caps), len(srv.objs))
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.asked) != 2 {
		t.Errorf("%d LISTs, want 2 pages", len(srv.asked))
	}
}
