package main

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/driftback/driftback/kube"
)

// leaderFlags configure leader election (kube.Leadership).
type leaderFlags struct {
	enabled bool
	opts    kube.ElectionOptions
}

func (o *leaderFlags) addFlags(f *pflag.FlagSet) {
	f.BoolVar(&o.enabled, "leader-elect", false, "elect one writer among the replicas with a Lease; the others keep their caches warm and take over when it goes")
	f.StringVar(&o.opts.Namespace, "leader-election-namespace", "", "namespace of the Lease (default: the pod's own, else driftback)")
	f.StringVar(&o.opts.Name, "leader-election-id", "", "name of the Lease (default: driftback-<cluster>, or driftback-<cluster>-<shard> for a shard)")
	f.DurationVar(&o.opts.LeaseDuration, "leader-election-lease-duration", 15*time.Second, "how long a leader that stopped renewing keeps the Lease: the longest failover")
	f.DurationVar(&o.opts.RenewDeadline, "leader-election-renew-deadline", 10*time.Second, "how long the leader tries to renew before it stops writing")
	f.DurationVar(&o.opts.RetryPeriod, "leader-election-retry-period", 2*time.Second, "how often candidates try to take the Lease")
}
