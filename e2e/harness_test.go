package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/driftback/driftback/internal/gitserver"
	"github.com/driftback/driftback/render"
	"github.com/driftback/driftback/restore"
)

// eventually polls cond until it returns nil or the deadline passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %s: %v", what, timeout, err)
		}
		time.Sleep(50 * time.Millisecond) // poll interval, bounded by the deadline
	}
}

// applyBase applies what Git holds for a scenario to a plane, as Argo CD
// would: kustomize build of base/<name>, server-side apply.
func applyBase(t *testing.T, p *plane, name string, files map[string]string) {
	t.Helper()
	fsys := fstest.MapFS{}
	for f, c := range files {
		fsys[path.Join("base", name, f)] = &fstest.MapFile{Data: []byte(c)}
	}
	built, err := render.Build(fsys, path.Join("base", name), render.Tree{})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := restore.SplitYAML(built)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := restore.Apply(context.Background(), p.cl, objs, restore.ApplyOptions{FieldManager: "argocd-controller"}); err != nil {
		t.Fatalf("apply base of %s to %s: %v", name, p.name, err)
	}
}

// rebuild is the disaster and the recovery: `driftback snapshot` records A
// on a branch of a fresh repository served by git http-backend (main holds
// the base), then `driftback drill` rebuilds B from that branch alone. It
// returns what the drill did.
// capture is the config's presets: and rules: sections.
// drillArgs are added to the drill's command line.
func rebuild(t *testing.T, name string, base map[string]string, capture string, drillArgs ...string) recovery {
	t.Helper()
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, name)
	seed := map[string]string{}
	for f, c := range base {
		seed[path.Join("base", name, f)] = c
	}
	gitserver.Seed(t, repoDir, "main", seed)
	cfg := filepath.Join(t.TempDir(), "driftback.yaml")
	config := fmt.Sprintf(`apiVersion: driftback.dev/v1alpha1
kind: Config
cluster: %[1]s
git:
  url: %[2]s
  branch: driftback/%[1]s
  path: clusters/%[1]s/driftback
overlay:
  resources: [../../../base/%[1]s]
%[3]s`, name, url, capture)
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	out := runDriftback(t, "snapshot", "--kubeconfig", a.kubeconfig, "--config", cfg)
	if !strings.HasPrefix(out, "committed ") {
		t.Fatalf("snapshot of A made no commit:\n%s", out)
	}
	files := gitserver.Run(t, repoDir, "git", "ls-tree", "-r", "--name-only", "driftback/"+name, "clusters/")
	t.Logf("overlay on driftback/%s:\n%s", name, files)

	// A is lost: from here on only the branch and B are used.
	start := time.Now()
	out = runDriftback(t, append([]string{"drill", "--yes", "--kubeconfig", b.kubeconfig, "--config", cfg, "--wait", "30s"}, drillArgs...)...)
	t.Logf("driftback drill:\n%s", out)
	return recovery{name: name, files: files, out: out, rto: parseRTO(t, out), start: start, cfg: cfg, repoDir: repoDir}
}

// recovery is a drill's output and timing.
type recovery struct {
	name string
	// files lists the overlay's files on the branch.
	files string
	out   string
	rto   time.Duration
	start time.Time
	// cfg is the driftback config file, repoDir the bare repository.
	cfg, repoDir string
}

// adoptAndCompare makes B the owner of the branch (`driftback snapshot
// --adopt`, the last step of the runbook) and checks that B, rebuilt from
// the overlay, records the same overlay: the commit may change only the
// cluster record. Anything else would be state lost (or invented) by one
// round of losing a cluster.
func (r recovery) adoptAndCompare(t *testing.T) {
	t.Helper()
	changed, diff := r.adopt(t)
	want := "clusters/" + r.name + "/driftback/.driftback.yaml"
	if len(changed) != 1 || changed[0] != want {
		t.Errorf("B's record of the overlay differs from A's beyond the cluster record: %v\n%s", changed, diff)
	}
}

// adopt runs `driftback snapshot --adopt` on B and returns the files its
// commit changed, and the diff.
func (r recovery) adopt(t *testing.T) (changed []string, diff string) {
	t.Helper()
	branch := "driftback/" + r.name
	before := strings.TrimSpace(gitserver.Run(t, r.repoDir, "git", "rev-parse", branch))
	out := runDriftback(t, "snapshot", "--kubeconfig", b.kubeconfig, "--config", r.cfg, "--adopt")
	after := strings.TrimSpace(gitserver.Run(t, r.repoDir, "git", "rev-parse", branch))
	if before == after {
		t.Fatalf("snapshot --adopt on B made no commit (the cluster record must change):\n%s", out)
	}
	changed = strings.Fields(gitserver.Run(t, r.repoDir, "git", "diff", "--name-only", before, after))
	t.Logf("FIDELITY %s: adoption commit changes %d file(s): %v", r.name, len(changed), changed)
	return changed, gitserver.Run(t, r.repoDir, "git", "diff", before, after)
}

// settled logs the drill's RTO and the time until B's operators settled on
// the rebuilt state (what a user waits for).
func (r recovery) settled(t *testing.T) {
	t.Helper()
	t.Logf("RTO %s: drill %s, operators settled %s after the drill started", r.name, r.rto, time.Since(r.start).Round(time.Millisecond))
}

var rtoLine = regexp.MustCompile(`(?m)^RTO:\s+(\S+)`)

func parseRTO(t *testing.T, out string) time.Duration {
	t.Helper()
	m := rtoLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("drill printed no RTO:\n%s", out)
	}
	d, err := time.ParseDuration(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// runDriftback runs the binary and fails the test when it fails.
func runDriftback(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(driftback, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("driftback %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}
