package live

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/driftback/driftback/capture"
)

// Unit tests over client-go's fake clients, in the style of
// kubernetes/sample-controller's controller_test.go: no apiserver.

var bucketGVR = schema.GroupVersionResource{Group: "s3.aws.upbound.io", Version: "v1beta1", Resource: "buckets"}

// preferredDiscovery is client-go's fake discovery answering
// ServerPreferredResources from its resource lists (the fake returns none).
type preferredDiscovery struct{ *fakediscovery.FakeDiscovery }

func (d preferredDiscovery) ServerPreferredResources() ([]*metav1.APIResourceList, error) {
	return d.Resources, nil
}

func bucket(name, externalName string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("s3.aws.upbound.io/v1beta1")
	u.SetKind("Bucket")
	u.SetName(name)
	u.SetAnnotations(map[string]string{"crossplane.io/external-name": externalName})
	return u
}

type fixture struct {
	cl  *Cluster
	dyn *dynamicfake.FakeDynamicClient
}

func newFixture(t *testing.T, objs ...runtime.Object) fixture {
	t.Helper()
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{bucketGVR: "BucketList"}, objs...)
	scheme := metadatafake.NewTestScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	md := metadatafake.NewSimpleMetadataClient(scheme, &metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: "kube-system", UID: "uid-fake-cluster"},
	})
	disc := preferredDiscovery{&fakediscovery.FakeDiscovery{Fake: &clienttesting.Fake{Resources: []*metav1.APIResourceList{{
		GroupVersion: "s3.aws.upbound.io/v1beta1",
		APIResources: []metav1.APIResource{
			{Name: "buckets", Kind: "Bucket", Verbs: metav1.Verbs{"get", "list", "watch"}},
			{Name: "buckets/status", Kind: "Bucket", Verbs: metav1.Verbs{"get", "update"}},
		},
	}}}}}
	return fixture{cl: New(dyn, md, disc), dyn: dyn}
}

func crossplaneRules(t *testing.T) []capture.Rule {
	t.Helper()
	rules, err := capture.PresetRules(capture.PresetCrossplane, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

func TestClusterOverFakes(t *testing.T) {
	f := newFixture(t, bucket("logs", "logs-5e1f"), &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket", "metadata": map[string]any{"name": "no-name-yet"},
	}})
	ctx := t.Context()
	uid, err := f.cl.Identity(ctx)
	if err != nil || uid != "uid-fake-cluster" {
		t.Fatalf("Identity = %q, %v", uid, err)
	}
	rules := crossplaneRules(t)
	res, err := f.cl.Resources(rules)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].GVR != bucketGVR || !res[0].Watchable {
		t.Fatalf("Resources = %+v, want buckets alone (not the status subresource)", res)
	}
	caps, err := f.cl.List(ctx, rules, res)
	if err != nil {
		t.Fatal(err)
	}
	if len(caps) != 1 || caps[0].Ref.Name != "logs" {
		t.Fatalf("List = %+v, want the bucket with an external name only", caps)
	}
}

// TestControllerPublishesChangesOverFakes: the controller publishes what
// the watch caches hold once they synced, and again after a change.
func TestControllerPublishesChangesOverFakes(t *testing.T) {
	f := newFixture(t, bucket("logs", "logs-5e1f"))
	var mu sync.Mutex
	var published [][]*capture.Packed
	publish := func(_ context.Context, caps []*capture.Packed, _ []Unlisted) error {
		mu.Lock()
		defer mu.Unlock()
		published = append(published, caps)
		return nil
	}
	ctl := f.cl.NewController(crossplaneRules(t), publish, ControllerOptions{Debounce: 10 * time.Millisecond, Rediscover: time.Hour})
	runController(t, ctl)
	waitPublished := func(what string, ok func([]*capture.Packed) bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			var last []*capture.Packed
			if len(published) > 0 {
				last = published[len(published)-1]
			}
			mu.Unlock()
			if ok(last) {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("not published: %s (last publishes %v)", what, published)
	}
	waitPublished("the first bucket", func(c []*capture.Packed) bool { return len(c) == 1 && c[0].Ref.Name == "logs" })
	if !ctl.Ready() {
		t.Error("not ready after the first publish")
	}
	if _, err := f.dyn.Resource(bucketGVR).Create(t.Context(), bucket("assets", "assets-77"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPublished("the second bucket", func(c []*capture.Packed) bool { return len(c) == 2 })
}

// TestInitialListIsNoChange: the objects of a resource's initial list are
// published once it synced; their add notifications, which reach the
// handler after the cache has them, must not ask for a second publish of
// everything. A later add does. Notifications arrive in order, so when the
// later add has been counted every initial one has been seen.
func TestInitialListIsNoChange(t *testing.T) {
	f := newFixture(t, bucket("a", "a-1"), bucket("b", "b-1"), bucket("c", "c-1"))
	var changes atomic.Int32
	w := f.cl.NewWatcher(crossplaneRules(t), func() { changes.Add(1) })
	defer w.Stop()
	ctx := t.Context()
	if _, err := w.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.WaitForSync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.dyn.Resource(bucketGVR).Create(ctx, bucket("d", "d-1"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for changes.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling interval
	}
	if got := changes.Load(); got != 1 {
		t.Errorf("%d changes reported, want 1 (the bucket created after the initial list)", got)
	}
	if caps := w.Captures(); len(caps) != 4 {
		t.Errorf("%d captures, want 4", len(caps))
	}
}

// TestControllerComparesAllPeriodically: in a quiet cluster, a publish
// that compares every capture (capture.Changes unknown: Since 0) still
// comes every CompareAllEvery, so a change the watch failed to name
// cannot stay out of Git for longer than that.
func TestControllerComparesAllPeriodically(t *testing.T) {
	f := newFixture(t, bucket("logs", "logs-5e1f"))
	var ctl *Controller
	var mu sync.Mutex
	all := 0
	publish := func(context.Context, []*capture.Packed, []Unlisted) error {
		mu.Lock()
		defer mu.Unlock()
		if ch := ctl.Changes(); ch == nil || ch.Since == 0 {
			all++
		}
		return nil
	}
	ctl = f.cl.NewController(crossplaneRules(t), publish, ControllerOptions{Debounce: 10 * time.Millisecond, Rediscover: time.Hour, CompareAllEvery: 50 * time.Millisecond})
	runController(t, ctl)
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := all
		mu.Unlock()
		if n >= 3 { // the first publish, and two periodic ones with nothing changed
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d publishes comparing every capture in 30 s, want the first and periodic ones", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runController runs ctl until the test ends, and fails the test if Run
// returns an error then.
func runController(t *testing.T, ctl *Controller) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- ctl.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}
