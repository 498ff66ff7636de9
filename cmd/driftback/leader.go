package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// saNamespaceFile is where a pod finds its own namespace.
const saNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// leaderFlags configure leader election: several replicas of `run` watch
// (warm caches), one writes to Git.
type leaderFlags struct {
	enabled   bool
	namespace string
	name      string
	lease     time.Duration
	renew     time.Duration
	retry     time.Duration
}

func (o *leaderFlags) addFlags(f *pflag.FlagSet) {
	f.BoolVar(&o.enabled, "leader-elect", false, "elect one writer among the replicas with a Lease; the others keep their caches warm and take over when it goes")
	f.StringVar(&o.namespace, "leader-election-namespace", "", "namespace of the Lease (default: the pod's own, else driftback)")
	f.StringVar(&o.name, "leader-election-id", "", "name of the Lease (default: driftback-<cluster>)")
	f.DurationVar(&o.lease, "leader-election-lease-duration", 15*time.Second, "how long a leader that stopped renewing keeps the Lease: the longest failover")
	f.DurationVar(&o.renew, "leader-election-renew-deadline", 10*time.Second, "how long the leader tries to renew before it stops writing")
	f.DurationVar(&o.retry, "leader-election-retry-period", 2*time.Second, "how often candidates try to take the Lease")
}

// leadership says whether this process may write to Git.
type leadership struct {
	enabled bool
	leader  atomic.Bool
	gauge   prometheus.Gauge
}

func newLeadership(enabled bool) *leadership {
	l := &leadership{enabled: enabled, gauge: prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "driftback_leader", Help: "1 while this replica is the one that writes to Git (always 1 without --leader-elect).",
	})}
	if !enabled {
		l.gauge.Set(1)
	}
	return l
}

// active reports whether this process writes: the leader, or the only one.
func (l *leadership) active() bool { return !l.enabled || l.leader.Load() }

// detail is the readiness line about writing.
func (l *leadership) detail() string {
	switch {
	case !l.enabled:
		return "writer: single replica"
	case l.leader.Load():
		return "writer: leader"
	default:
		return "standby: not the leader, not publishing (caches kept warm)"
	}
}

// campaign runs the election until ctx ends; onLead is called each time
// this process becomes the leader (to publish its warm cache at once).
// A leader that loses the Lease stops writing and stands again.
func (o *leaderFlags) campaign(ctx context.Context, rc *rest.Config, cluster string, l *leadership, onLead func()) error {
	if !l.enabled {
		return nil
	}
	if o.lease <= o.renew || o.renew <= o.retry || o.retry <= 0 {
		return fmt.Errorf("--leader-election-*: want lease duration > renew deadline > retry period > 0, got %v, %v, %v", o.lease, o.renew, o.retry)
	}
	ns := o.namespace
	if ns == "" {
		ns = "driftback"
		if b, err := os.ReadFile(saNamespaceFile); err == nil && strings.TrimSpace(string(b)) != "" {
			ns = strings.TrimSpace(string(b))
		}
	}
	name := o.name
	if name == "" {
		name = "driftback-" + cluster
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("leader election client: %w", err)
	}
	host, _ := os.Hostname()
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	id := host + "_" + hex.EncodeToString(suffix)
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Name: name, Namespace: ns},
			Client:     cs.CoordinationV1(),
			LockConfig: resourcelock.ResourceLockConfig{Identity: id},
		},
		LeaseDuration: o.lease, RenewDeadline: o.renew, RetryPeriod: o.retry,
		// A replica that stops (SIGTERM, after its last flush) hands over at
		// once instead of after the lease duration.
		ReleaseOnCancel: true,
		Name:            name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(context.Context) {
				l.leader.Store(true)
				l.gauge.Set(1)
				slog.Info("leading: this replica writes to Git", "lease", ns+"/"+name, "identity", id)
				onLead()
			},
			OnStoppedLeading: func() {
				l.leader.Store(false)
				l.gauge.Set(0)
				slog.Warn("not leading: this replica stops writing to Git", "lease", ns+"/"+name, "identity", id)
			},
			OnNewLeader: func(who string) {
				if who != id {
					slog.Info("standby: another replica writes to Git", "leader", who)
				}
			},
		},
	})
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	go func() {
		for ctx.Err() == nil {
			le.Run(ctx)
		}
	}()
	return nil
}
