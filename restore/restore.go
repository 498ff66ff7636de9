// Package restore reads a driftback overlay back into a cluster: it writes
// captured status through the /status subresource (Kubernetes ignores status
// on create), and the drill rebuilds a scratch cluster from the overlay alone
// and checks every captured field. It reads the overlay (package overlay)
// from an io/fs.FS and knows nothing about Git.
package restore

import (
	"context"
	"errors"
	"filippo.io/age"
	"fmt"
	"log/slog"
	"sort"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/overlay"
)

// Options tune a restore.
type Options struct {
	// Wait is how long to wait for objects that do not exist yet (the GitOps
	// tool may still be applying the overlay). Zero: one pass, no waiting.
	Wait time.Duration
	// Poll is the pause between passes over the missing objects. Default 500ms.
	Poll time.Duration
	// DryRun reports what would be written and writes nothing.
	DryRun bool
	// Identities decrypt the fields rules encrypted (SOPS, age); see
	// LoadIdentities. Used by Drill and the commands that read an overlay.
	Identities []age.Identity
	// FieldManager names the writer of the status. Default "driftback-restore".
	FieldManager string
	// Rules are the configuration's capture rules: only the status fields
	// they select are written (capture.SelectStatus); anything else a status
	// file holds is refused and reported. No rules: every file is refused.
	Rules []capture.Rule
}

// Refusal is a recorded status field the rules do not select: it is
// reported and never written.
type Refusal struct {
	// File is the status file, relative to the overlay directory.
	File string
	// Field is the refused field path ("status" for the whole file).
	Field string
	// Reason says why, for a file refused whole.
	Reason string
}

func (r Refusal) String() string {
	s := fmt.Sprintf("refused: %s: %s is not selected by any rule", r.File, r.Field)
	if r.Reason != "" {
		s += " (" + r.Reason + ")"
	}
	return s
}

// Outcome is what a restore did for one object.
type Outcome string

// The outcomes of an object's restore.
const (
	Restored     Outcome = "restored"
	WouldRestore Outcome = "would restore"
	AlreadyEqual Outcome = "already equal"
	Missing      Outcome = "missing"
	Failed       Outcome = "failed"
)

// Result is the restore of one captured status.
type Result struct {
	Object  string
	Outcome Outcome
	// Fields are the captured leaves that were (or would be) written.
	Fields []Leaf
	Err    error
}

// Summary is every result of a restore, sorted by object.
type Summary struct {
	Results []Result
	// Refused are the recorded fields the rules do not select, never written.
	Refused []Refusal
	Elapsed time.Duration
}

// Count returns how many objects had outcome o.
func (s Summary) Count(o Outcome) int {
	n := 0
	for _, r := range s.Results {
		if r.Outcome == o {
			n++
		}
	}
	return n
}

// OK reports whether every captured status is now in the cluster (or would
// be, in a dry run) and nothing was refused: a branch holding fields the
// rules do not select was written by someone else and needs a look.
func (s Summary) OK() bool {
	return s.Count(Missing) == 0 && s.Count(Failed) == 0 && len(s.Refused) == 0
}

// Select keeps of each status file what the rules select (a copy whose
// status holds only that) and lists every field they do not.
func Select(rules []capture.Rule, files []overlay.File) ([]overlay.File, []Refusal) {
	var kept []overlay.File
	var refused []Refusal
	for _, f := range files {
		sel := capture.SelectStatus(rules, f.Object)
		if !sel.KindMatched {
			gk := f.Object.GroupVersionKind().GroupKind()
			refused = append(refused, Refusal{File: f.Path, Field: "status",
				Reason: fmt.Sprintf("no rule matches %s", overlay.ObjectName(gk.String(), f.Namespace(), f.Name()))})
			continue
		}
		for _, p := range sel.Refused {
			refused = append(refused, Refusal{File: f.Path, Field: p})
		}
		if sel.Status == nil {
			continue
		}
		u := f.Object.DeepCopy()
		u.Object["status"] = sel.Status
		kept = append(kept, overlay.File{Path: f.Path, Object: u})
	}
	return kept, refused
}

// Restore writes each captured status file into the live object's status,
// waiting up to opts.Wait for objects that do not exist yet. Only leaves
// missing or different are written; a write that loses a race with another
// writer is retried on the fresh object. Running it twice writes nothing the
// second time.
func Restore(ctx context.Context, c *Cluster, files []overlay.File, opts Options) Summary {
	if opts.Poll <= 0 {
		opts.Poll = 500 * time.Millisecond
	}
	if opts.FieldManager == "" {
		opts.FieldManager = "driftback-restore"
	}
	start := time.Now()
	deadline := start.Add(opts.Wait)
	pending, refused := Select(opts.Rules, files)
	for _, r := range refused {
		slog.Warn("status field refused: no rule selects it; not written", "file", r.File, "field", r.Field)
	}
	var results []Result
	for {
		var missing []overlay.File
		var last []Result
		round := make([]Result, len(pending))
		each(len(pending), func(i int) { round[i] = restoreOne(ctx, c, pending[i], opts) })
		for i, r := range round {
			if r.Outcome == Missing {
				missing = append(missing, pending[i])
				last = append(last, r)
				continue
			}
			results = append(results, r)
		}
		pending = missing
		if len(pending) == 0 || !time.Now().Add(opts.Poll).Before(deadline) || ctx.Err() != nil {
			results = append(results, last...)
			break
		}
		// A kind unknown to the mapper may be a CRD applied meanwhile.
		c.Mapper.Reset()
		slog.Debug("waiting for objects to restore", "missing", len(pending), "left", time.Until(deadline).Round(time.Second))
		select {
		case <-ctx.Done():
		case <-time.After(opts.Poll):
		}
	}
	sort.Slice(results, func(i, j int) bool { return results[i].Object < results[j].Object })
	return Summary{Results: results, Refused: refused, Elapsed: time.Since(start)}
}

func restoreOne(ctx context.Context, c *Cluster, f overlay.File, opts Options) Result {
	r := Result{Object: f.Describe()}
	want, ok := f.Object.Object["status"].(map[string]any)
	if !ok {
		r.Outcome, r.Err = Failed, fmt.Errorf("%s holds no status map", f.Path)
		return r
	}
	res, err := c.resource(f.Object, f.Namespace())
	if meta.IsNoMatchError(err) {
		r.Outcome, r.Err = Missing, err
		return r
	}
	if err != nil {
		r.Outcome, r.Err = Failed, err
		return r
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		live, err := res.Get(ctx, f.Name(), metav1.GetOptions{})
		if err != nil {
			return err
		}
		got := live.Object["status"]
		r.Fields = differing("status", got, want)
		if len(r.Fields) == 0 {
			r.Outcome = AlreadyEqual
			return nil
		}
		if opts.DryRun {
			r.Outcome = WouldRestore
			return nil
		}
		merged := merge(got, want).(map[string]any)
		fillConditionTimes(merged, time.Now())
		live.Object["status"] = merged
		_, err = res.UpdateStatus(ctx, live, metav1.UpdateOptions{FieldManager: opts.FieldManager})
		if apierrors.IsNotFound(err) {
			// The object exists (we just read it): its kind has no status
			// subresource, so status is written with the object itself.
			_, err = res.Update(ctx, live, metav1.UpdateOptions{FieldManager: opts.FieldManager})
		}
		if err == nil {
			r.Outcome = Restored
		}
		return err
	})
	switch {
	case apierrors.IsNotFound(err):
		r.Outcome, r.Err, r.Fields = Missing, errors.New("object not found"), nil
	case err != nil:
		r.Outcome, r.Err = Failed, fmt.Errorf("write status of %s: %w", r.Object, err)
	}
	return r
}

// fillConditionTimes gives each of status.conditions that has a type and
// a status but no lastTransitionTime the restore's time. Captures exclude
// that field (it changes without meaning), and CRDs whose conditions follow
// metav1.Condition require it: without it every write would be refused.
func fillConditionTimes(status map[string]any, now time.Time) {
	conds, _ := status["conditions"].([]any)
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] == nil || m["status"] == nil {
			continue
		}
		if _, ok := m["lastTransitionTime"]; !ok {
			m["lastTransitionTime"] = now.UTC().Format(time.RFC3339)
		}
	}
}
