package restore

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"time"

	"github.com/driftback/driftback/overlay"
	"github.com/driftback/driftback/render"
)

// DrillOptions tune a drill.
type DrillOptions struct {
	// Apply tunes the server-side apply of the built overlay.
	Apply ApplyOptions
	// Restore tunes the status restore.
	Restore Options
	// VerifyOnly skips the apply and the restore: it checks a cluster
	// rebuilt by other means (the GitOps tool and `driftback restore`)
	// against the overlay without writing anything.
	VerifyOnly bool
}

// DrillReport is what a drill did and found.
type DrillReport struct {
	Meta    overlay.Meta
	Applied []string
	Restore Summary
	// Outcomes are the workload checks made after the restore (claims
	// bound to their recorded volumes, no object re-created under a new
	// identity).
	Outcomes Outcomes
	Verify   Verification
	// Phases times each step; RTO is their sum, from the first read of the
	// overlay to the last field verified.
	Phases []Phase
	RTO    time.Duration
	// Err is a failure that stopped or spoiled the drill (an apply error).
	Err error
	// VerifyOnly is set when nothing was applied or restored.
	VerifyOnly bool
	// Unmatched counts the overlay's unmatched/ files.
	Unmatched int
	// Built is the directory the drill built and applied: merged/ when the
	// overlay holds one (what docs/overlay-cost.md points Argo CD and Flux
	// at), else the overlay's own.
	Built string
	// Refused are recorded status fields the rules do not select: neither
	// restored nor verified, and the drill fails (also with VerifyOnly).
	Refused []Refusal
}

// Phase is one timed step of a drill.
type Phase struct {
	Name    string
	Elapsed time.Duration
}

// OK reports whether the cluster was rebuilt with every captured field and
// the workload outcomes hold. A drill that verified no field proved nothing
// and fails too.
func (r *DrillReport) OK() bool {
	return r.Err == nil && r.Restore.OK() && len(r.Refused) == 0 && len(r.Verify.Mismatches) == 0 &&
		r.Verify.Fields > 0 && r.Outcomes.Failed() == 0
}

// Drill rebuilds a scratch cluster from the overlay at dir of fsys alone, as
// Argo CD or Flux plus `driftback restore` would after losing a cluster:
// kustomize build (krusty), server-side apply, status restore, then a check
// of every captured field.
func Drill(ctx context.Context, c *Cluster, fsys fs.FS, dir string, opts DrillOptions) *DrillReport {
	r := &DrillReport{VerifyOnly: opts.VerifyOnly}
	start := time.Now()
	mark := func(name string, t time.Time) { r.Phases = append(r.Phases, Phase{name, time.Since(t)}) }
	defer func() { r.RTO = time.Since(start) }()

	t := time.Now()
	ov, err := overlay.Read(fsys, dir)
	if err != nil {
		r.Err = err
		return r
	}
	r.Meta = ov.Meta
	r.Unmatched = len(ov.Unmatched)
	if err := DecryptOverlay(ov, opts.Restore.Identities); err != nil {
		r.Err = err
		return r
	}
	// Only what the rules select is restored, so only that is verified;
	// the rest is reported (restore's report repeats it).
	ov.Status, r.Refused = Select(opts.Restore.Rules, ov.Status)
	// Build what the GitOps tool is pointed at: merged/ when present. Its
	// objects are verified below against the captured fields like the
	// overlay's, so a field merged/ lost fails the drill.
	r.Built = dir
	if _, err := fs.Stat(fsys, path.Join(dir, overlay.MergedDir, overlay.KustomizationFile)); err == nil {
		r.Built = path.Join(dir, overlay.MergedDir)
	}
	built, err := render.Build(fsys, r.Built, render.Tree{})
	if err != nil {
		r.Err = err
		return r
	}
	objs, err := SplitYAML(built)
	if err != nil {
		r.Err = fmt.Errorf("read the kustomize build: %w", err)
		return r
	}
	if err := DecryptObjects(objs, opts.Restore.Identities); err != nil {
		r.Err = err
		return r
	}
	mark("build", t)

	if !opts.VerifyOnly {
		t = time.Now()
		r.Applied, r.Err = Apply(ctx, c, objs, opts.Apply)
		mark("apply", t)

		t = time.Now()
		r.Restore = Restore(ctx, c, ov.Status, opts.Restore)
		mark("restore", t)

		// Controllers act on what was applied and restored; verify after
		// they did, so that a field they overwrite is caught too.
		t = time.Now()
		r.Outcomes = WaitOutcomes(ctx, c, ov, opts.Restore.Wait, opts.Apply.Poll)
	}

	if opts.VerifyOnly {
		// Read only: one look at the claims, no wait.
		r.Outcomes = WaitOutcomes(ctx, c, ov, 0, 0)
	}
	// After the claims wait the controllers have had their time: a second
	// object made for a recorded one shows now.
	r.Outcomes.Recreated = FindRecreated(ctx, c, ov)
	r.Outcomes.RecreatedChecked = true
	if !opts.VerifyOnly {
		mark("outcomes", t)
	}
	t = time.Now()
	r.Verify = Verify(ctx, c, ov)
	mark("verify", t)
	return r
}

// Print writes the drill report.
func (r *DrillReport) Print(w io.Writer) {
	if r.Meta.ClusterUID != "" {
		fmt.Fprintf(w, "overlay of cluster %s (UID %s)\n", r.Meta.Cluster, r.Meta.ClusterUID)
	}
	if r.VerifyOnly {
		fmt.Fprintln(w, "verify only: nothing applied or restored")
	} else {
		fmt.Fprintf(w, "applied:   %d object(s) (server-side apply) built from %s\n", len(r.Applied), r.Built)
	}
	if r.Err != nil {
		fmt.Fprintf(w, "error:     %v\n", r.Err)
	}
	for _, f := range r.Refused {
		fmt.Fprintln(w, f)
	}
	if !r.VerifyOnly {
		r.Restore.Print(w)
	}
	if r.Unmatched > 0 {
		fmt.Fprintf(w, "unmatched: %d file(s) hold captured fields of objects the base does not define; the overlay does not apply them (verified below)\n", r.Unmatched)
	}
	r.Outcomes.Print(w)
	fmt.Fprintf(w, "verified:  %d field(s) of %d object(s), %d mismatch(es)\n", r.Verify.Fields, r.Verify.Objects, len(r.Verify.Mismatches))
	if r.Err == nil && r.Verify.Fields == 0 {
		fmt.Fprintln(w, "  NOTHING VERIFIED: the overlay holds no captured field (wrong --path or --branch, or nothing captured yet); a drill that checks nothing proves nothing")
	}
	for _, m := range r.Verify.Mismatches {
		fmt.Fprintf(w, "  MISMATCH %s %s: want %s, got %s\n", m.Object, m.Path, shown(m.Path, m.Want), shownGot(m.Path, m.Got))
	}
	fmt.Fprint(w, "phases:   ")
	for _, p := range r.Phases {
		fmt.Fprintf(w, " %s %s", p.Name, p.Elapsed.Round(time.Millisecond))
	}
	fmt.Fprintln(w)
	verdict := "PASS"
	if !r.OK() {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "RTO:       %s (overlay read to last field verified)\ndrill:     %s\n", r.RTO.Round(time.Millisecond), verdict)
}

func gotString(v any) string {
	if v == nil {
		return "(absent)"
	}
	return short(v)
}

func shownGot(path string, v any) string {
	if v == nil {
		return "(absent)"
	}
	return shown(path, v)
}
