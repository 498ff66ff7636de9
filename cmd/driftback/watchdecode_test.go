package main

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"

	"github.com/driftback/driftback/kube"
)

var watchedConfigMaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// TestWatchDecodingOnAnAPIServer: on the real kube-apiserver, a watch-list
// (an informer's initial sync: ADDED events, then a bookmark), a watch
// the server refuses and a paged LIST come out of kube.New's dynamic
// client, which reads watch streams and list pages with its own decoder
// (kube/watchjson.go, kube/listjson.go), exactly as they come out of
// client-go's.
func TestWatchDecodingOnAnAPIServer(t *testing.T) {
	std, err := dynamic.NewForConfig(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	clients, err := kube.New(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	lean := clients.Dynamic
	if _, ok := lean.(*dynamic.DynamicClient); !ok {
		t.Fatalf("kube.New's dynamic client is a %T", lean)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns := createNamespace(ctx, t, std)
	for i := range 25 {
		cm := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": fmt.Sprintf("watchdecode-%02d", i), "namespace": ns,
				"annotations": map[string]any{"example.com/arn": fmt.Sprintf("arn:aws:s3:::b-%d \"{}\" é 😀 \\", i)}},
			"data": map[string]any{"n": fmt.Sprint(i), "json": `{"a":[1,2,{"b":"}"}]}`},
		}}
		if _, err := std.Resource(watchedConfigMaps).Namespace(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	yes := true
	list := metav1.ListOptions{SendInitialEvents: &yes, ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan, AllowWatchBookmarks: true}
	want := initialEvents(ctx, t, std, ns, list)
	got := initialEvents(ctx, t, lean, ns, list)
	if len(want) < 26 {
		t.Fatalf("client-go read %d events, want the 25 ConfigMaps and a bookmark", len(want))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("driftback's client read\n%s\nclient-go's\n%s", eventsText(got), eventsText(want))
	}

	if last := got[len(got)-1]; last.Type != watch.Bookmark {
		t.Fatalf("the watch-list ended with %s, not a bookmark", last.Type)
	}

	// A paged LIST (capture/live's informers list page by page): the
	// same pages, items of a typed list given their kind.
	// The lists' resourceVersion and continue tokens name the store's
	// revision, which other tests move on this shared control plane:
	// compared without them.
	wantPages := listPages(ctx, t, std, ns)
	gotPages := listPages(ctx, t, lean, ns)
	if len(wantPages) != 3 || len(wantPages[0].Items) != 10 {
		t.Fatalf("client-go listed %d pages, want 3 of up to 10", len(wantPages))
	}
	if !reflect.DeepEqual(gotPages, wantPages) {
		t.Fatalf("driftback's client listed\n%s\nclient-go's\n%s", jsonText(gotPages), jsonText(wantPages))
	}
	if k := gotPages[0].Items[0].GetKind(); k != "ConfigMap" {
		t.Fatalf("a listed ConfigMap has kind %q", k)
	}

	// A kind the server does not serve: the same error, typed.
	missing := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "nothings"}
	_, wantErr := std.Resource(missing).Watch(ctx, metav1.ListOptions{})
	_, gotErr := lean.Resource(missing).Watch(ctx, metav1.ListOptions{})
	if wantErr == nil || !apierrors.IsNotFound(gotErr) || gotErr.Error() != wantErr.Error() {
		t.Fatalf("watch of an unserved kind: driftback's client %v, client-go's %v", gotErr, wantErr)
	}
}

func listPages(ctx context.Context, t *testing.T, c dynamic.Interface, ns string) []*unstructured.UnstructuredList {
	t.Helper()
	var out []*unstructured.UnstructuredList
	opts := metav1.ListOptions{Limit: 10}
	for {
		l, err := c.Resource(watchedConfigMaps).Namespace(ns).List(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		opts.Continue = l.GetContinue()
		l.SetResourceVersion("")
		l.SetContinue("")
		out = append(out, l)
		if opts.Continue == "" {
			return out
		}
	}
}

func initialEvents(ctx context.Context, t *testing.T, c dynamic.Interface, ns string, opts metav1.ListOptions) []watch.Event {
	t.Helper()
	w, err := c.Resource(watchedConfigMaps).Namespace(ns).Watch(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	var out []watch.Event
	for e := range w.ResultChan() {
		if u, ok := e.Object.(*unstructured.Unstructured); ok && e.Type == watch.Bookmark {
			// The bookmark's resourceVersion is the store's revision,
			// which other tests on this shared control plane move.
			u.SetResourceVersion("")
		}
		out = append(out, e)
		if e.Type == watch.Bookmark || e.Type == watch.Error {
			return out
		}
	}
	t.Fatalf("watch ended after %d events, before the bookmark", len(out))
	return nil
}

// eventsText shows events with their objects, for a failure message.
func eventsText(es []watch.Event) string {
	var b strings.Builder
	for _, e := range es {
		fmt.Fprintf(&b, "%s %s\n", e.Type, jsonText(e.Object))
	}
	return b.String()
}

func jsonText(v any) string {
	j, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(j)
}

func createNamespace(ctx context.Context, t *testing.T, c dynamic.Interface) string {
	t.Helper()
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"generateName": "watchdecode-"}}}
	made, err := c.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).Create(ctx, ns, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return made.GetName()
}
