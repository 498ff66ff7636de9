package kube

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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// saNamespaceFile is where a pod finds its own namespace.
const saNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// ElectionOptions configure leader election: several replicas of `run`
// watch (warm caches), one writes to Git.
type ElectionOptions struct {
	// Namespace of the Lease; default the pod's own, else "driftback".
	Namespace string
	// Name of the Lease; default "driftback-<cluster>".
	Name                                      string
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
}

// Leadership says whether this process may write to Git.
type Leadership struct {
	enabled bool
	leader  atomic.Bool
	gauge   prometheus.Gauge
}

// NewLeadership is the single writer without election, or a candidate.
func NewLeadership(elect bool) *Leadership {
	l := &Leadership{enabled: elect, gauge: prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "driftback_leader", Help: "1 while this replica is the one that writes to Git (always 1 without --leader-elect).",
	})}
	if !elect {
		l.gauge.Set(1)
	}
	return l
}

// Active reports whether this process writes: the leader, or the only one.
func (l *Leadership) Active() bool { return !l.enabled || l.leader.Load() }

// Collector is the driftback_leader gauge.
func (l *Leadership) Collector() prometheus.Collector { return l.gauge }

// Detail is the readiness line about writing.
func (l *Leadership) Detail() string {
	switch {
	case !l.enabled:
		return "writer: single replica"
	case l.leader.Load():
		return "writer: leader"
	default:
		return "standby: not the leader, not publishing (caches kept warm)"
	}
}

func (l *Leadership) set(lead bool) {
	l.leader.Store(lead)
	if lead {
		l.gauge.Set(1)
	} else {
		l.gauge.Set(0)
	}
}

// Campaign runs the election in the background until ctx ends; onLead is
// called each time this process becomes the leader (to publish its warm
// cache at once). A leader that loses the Lease stops writing and stands
// again. Without election it does nothing.
func (l *Leadership) Campaign(ctx context.Context, rc *rest.Config, cluster string, o ElectionOptions, onLead func()) error {
	if !l.enabled {
		return nil
	}
	if o.LeaseDuration <= o.RenewDeadline || o.RenewDeadline <= o.RetryPeriod || o.RetryPeriod <= 0 {
		return fmt.Errorf("--leader-election-*: want lease duration > renew deadline > retry period > 0, got %v, %v, %v", o.LeaseDuration, o.RenewDeadline, o.RetryPeriod)
	}
	ns := o.Namespace
	if ns == "" {
		ns = "driftback"
		if b, err := os.ReadFile(saNamespaceFile); err == nil && strings.TrimSpace(string(b)) != "" {
			ns = strings.TrimSpace(string(b))
		}
	}
	name := o.Name
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
		LeaseDuration: o.LeaseDuration, RenewDeadline: o.RenewDeadline, RetryPeriod: o.RetryPeriod,
		// A replica that stops (SIGTERM, after its last flush) hands over at
		// once instead of after the lease duration.
		ReleaseOnCancel: true,
		Name:            name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(context.Context) {
				l.set(true)
				slog.Info("leading: this replica writes to Git", "lease", ns+"/"+name, "identity", id)
				onLead()
			},
			OnStoppedLeading: func() {
				l.set(false)
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
