package live

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Collectors are the controller's and its watcher's series, for
// /metrics: what is watched, what is captured, what cannot be listed, and
// whether changes wait for Git.
func (ctl *Controller) Collectors() []prometheus.Collector {
	w := ctl.watcher
	stat := func(f func(Stats) int) func() float64 {
		return func() float64 { return float64(f(w.Stats())) }
	}
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "driftback_publish_pending", Help: "1 while changes seen in the cluster are not in Git yet."},
			func() float64 {
				if ctl.Pending() {
					return 1
				}
				return 0
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "driftback_watched_resources", Help: "API resources watched."},
			stat(func(s Stats) int { return s.Resources })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "driftback_watched_resources_metadata_only", Help: "API resources watched with metadata only."},
			stat(func(s Stats) int { return s.MetadataOnly })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "driftback_watched_objects", Help: "Objects in the watch caches."},
			stat(func(s Stats) int { return s.Objects })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "driftback_captured_objects", Help: "Objects with runtime state kept in Git."},
			stat(func(s Stats) int { return s.Captured })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "driftback_unlisted_resources", Help: "Watched API resources that cannot be listed in full (e.g. a CRD whose conversion webhook is down); their recorded state is kept, not updated. /readyz names them."},
			stat(func(s Stats) int { return s.Unlisted })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftback_list_failures_total", Help: "List and watch failures of watched API resources."},
			stat(func(s Stats) int { return s.ListFailures })),
	}
}

// UnlistedDetail names each watched resource that cannot be listed, for
// /readyz: a stalled or partial record must say why, not only answer 503.
func (ctl *Controller) UnlistedDetail() string {
	var b strings.Builder
	for _, u := range ctl.watcher.Unlisted() {
		fmt.Fprintf(&b, "unlisted: %s/%s (%s) since %s", u.Resource.GVR.GroupResource(), u.Resource.GVR.Version, u.Resource.Kind, u.Since.UTC().Format(time.RFC3339))
		if u.Err != nil {
			fmt.Fprintf(&b, ": %v", u.Err)
		}
		b.WriteString("; its recorded state is kept, not updated\n")
	}
	return b.String()
}
