package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// A controller is a simulated operator: a polling loop that lists every
// object of one resource and reconciles each, as a real operator's informer
// would hand them over. A failed reconcile (a conflict) is retried on the
// next pass.
type controller struct {
	name      string
	gvr       schema.GroupVersionResource
	reconcile func(ctx context.Context, u *unstructured.Unstructured) error
}

// run starts the controllers against dyn until the returned stop is called.
func run(dyn dynamic.Interface, cs ...controller) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				l, err := dyn.Resource(c.gvr).List(ctx, metav1.ListOptions{})
				if err == nil {
					for i := range l.Items {
						if err := c.reconcile(ctx, &l.Items[i]); err != nil && ctx.Err() == nil {
							slog.Debug("reconcile failed, retrying", "controller", c.name, "object", l.Items[i].GetName(), "err", err)
						}
					}
				}
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
			}
		}()
	}
	return func() { cancel(); wg.Wait() }
}

// cloud is a fake cloud provider outside both clusters: it survives the
// loss of A, and counts every resource it creates.
type cloud struct {
	mu        sync.Mutex
	resources map[string]string // id → kind
	created   int
}

func newCloud() *cloud { return &cloud{resources: map[string]string{}} }

// create makes a new resource and returns its id.
func (c *cloud) create(kind, prefix string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.created++
	id := fmt.Sprintf("%s-%04x%04x", prefix, c.created, len(c.resources)*7919%65536)
	c.resources[id] = kind
	return id
}

// ensure adopts the resource named id, creating it only when it does not
// exist (what a provider does with an external name it is given).
func (c *cloud) ensure(kind, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.resources[id]; !ok {
		c.created++
		c.resources[id] = kind
	}
}

func (c *cloud) creations() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.created
}

// counter counts per plane what a simulated operator did, and which objects
// it has reconciled at least once.
type counter struct {
	mu    sync.Mutex
	n     int
	seen  map[types.UID]bool
	names map[string]bool
}

func newCounter() *counter { return &counter{seen: map[types.UID]bool{}, names: map[string]bool{}} }

func (c *counter) inc() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
}

func (c *counter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// firstSight records u and reports whether it was new.
func (c *counter) firstSight(u *unstructured.Unstructured) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen[u.GetUID()] {
		return false
	}
	c.seen[u.GetUID()] = true
	c.names[u.GetNamespace()+"/"+u.GetName()] = true
	return true
}

func (c *counter) hasSeen(ns, name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.names[ns+"/"+name]
}

func controllerRef(owner *unstructured.Unstructured) metav1.OwnerReference {
	yes := true
	return metav1.OwnerReference{APIVersion: owner.GetAPIVersion(), Kind: owner.GetKind(), Name: owner.GetName(), UID: owner.GetUID(), Controller: &yes, BlockOwnerDeletion: &yes}
}

func ownedBy(u, owner *unstructured.Unstructured) bool {
	for _, r := range u.GetOwnerReferences() {
		if r.UID == owner.GetUID() && r.Controller != nil && *r.Controller {
			return true
		}
	}
	return false
}

func readyCondition() []any {
	return []any{map[string]any{"type": "Ready", "status": "True", "reason": "Available", "lastTransitionTime": time.Now().UTC().Format(time.RFC3339)}}
}
