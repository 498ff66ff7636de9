package writeback

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/driftback/driftback/capture"
)

// Metrics are what an unattended writer reports on /metrics.
type Metrics struct {
	commits prometheus.Counter
	// refused counts commits a safety rule refused, by reason (Reasons).
	refused *prometheus.CounterVec
	errors  prometheus.Counter
	// blocked is 1 while the last publish was refused by a safety rule:
	// Git no longer follows the cluster until someone looks.
	blocked    prometheus.Gauge
	lastCommit prometheus.Gauge
	// skipped is how many objects the last publish left out (Writer.Skipped).
	skipped prometheus.Gauge
	// captureToCommit is the recovery point objective as it happens: from
	// the first change seen in the cluster to the pushed commit holding it.
	captureToCommit prometheus.Histogram
}

// NewMetrics makes the writer's metrics; register Collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		commits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "driftback_commits_total", Help: "Commits pushed to the Git branch.",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "driftback_commits_refused_total", Help: "Commits refused by a safety rule, by reason (identity, mass-deletion, build).",
		}, []string{"reason"}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "driftback_publish_errors_total", Help: "Publishes that failed for another reason (Git unreachable, push rejected too often).",
		}),
		blocked: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "driftback_publish_blocked", Help: "1 while a safety rule refuses to commit the live state; see docs/run.md to confirm.",
		}),
		lastCommit: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "driftback_last_commit_timestamp_seconds", Help: "Unix time of the last pushed commit.",
		}),
		skipped: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "driftback_objects_skipped", Help: "Objects the last publish left out because they could not be rendered or broke the overlay's build (named at WARN; their recorded files kept).",
		}),
		captureToCommit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "driftback_capture_to_commit_seconds",
			Help: "From the first change seen in the cluster to the pushed commit that holds it (debounce included): what a disaster would lose.",
			// From a quick debounce to a Git outage of several minutes.
			Buckets: []float64{0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 30, 60, 120, 300, 600},
		}),
	}
	for _, r := range Reasons {
		m.refused.WithLabelValues(r) // export zeros, so alerts can use rate()
	}
	return m
}

// Collectors are the metrics to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.commits, m.refused, m.errors, m.blocked, m.lastCommit, m.skipped, m.captureToCommit}
}

// Unattended is the publish step of a process nobody watches (`run`): a
// refusal cannot stop it, so it is logged loudly, counted in m and returned
// (the caller tries again when the cluster or the branch changes). It
// reports whether a commit was pushed. changes are those since the
// snapshot before (PublishChanges; nil: unknown); oldestChange is when the
// oldest change these captures carry was seen.
func (w *Writer) Unattended(ctx context.Context, caps []*capture.Packed, changes *capture.Changes, carryKinds []string, oldestChange time.Time, m *Metrics) (bool, error) {
	branch := w.cfg.Git.Branch
	res, err := w.PublishChanges(ctx, caps, changes, carryKinds...)
	if reason, ok := RefusalReason(err); ok {
		m.refused.WithLabelValues(reason).Inc()
		m.blocked.Set(1)
		slog.Error("COMMIT REFUSED by a safety rule: Git no longer follows the cluster. driftback keeps watching and tries again when the cluster or the branch changes; see docs/run.md (When a commit is refused)",
			"reason", reason, "branch", branch, "objects", len(caps), "err", err)
		return false, err
	}
	if err != nil {
		m.errors.Inc()
		slog.Error("publish failed; trying again with backoff", "branch", branch, "err", err)
		return false, err
	}
	m.blocked.Set(0)
	m.skipped.Set(float64(w.Skipped()))
	if res.Commit.IsZero() {
		slog.Debug("no change", "branch", branch, "objects", len(caps))
		return false, nil
	}
	m.commits.Inc()
	m.lastCommit.SetToCurrentTime()
	m.captureToCommit.Observe(time.Since(oldestChange).Seconds())
	// The objects are counted, not summarized by mode: that walked every
	// capture on every commit (8 ms at 10,000), and the commit message
	// says what changed.
	t := res.Took
	slog.Info("committed", "commit", res.Commit.String(), "branch", branch, "files", len(res.Changes), "objects", len(caps),
		slog.Group("took", "fetch", t.Fetch.Round(time.Millisecond), "prepare", t.Prepare.Round(time.Millisecond),
			"build", t.Build.Round(time.Millisecond), "push", t.Push.Round(time.Millisecond)))
	return true, nil
}
