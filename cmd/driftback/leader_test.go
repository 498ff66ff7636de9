package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/driftback/driftback/internal/gitserver"
	"github.com/driftback/driftback/overlay"
)

var (
	exeOnce sync.Once
	exePath string
	exeErr  error
)

// driftbackExe builds this command once, for tests that need a separate
// process (kill -9 cannot be played in process).
func driftbackExe(t testing.TB) string {
	t.Helper()
	exeOnce.Do(func() {
		dir, err := os.MkdirTemp("", "driftback-exe-")
		if err != nil {
			exeErr = err
			return
		}
		exePath = filepath.Join(dir, "driftback")
		out, err := exec.Command("go", "build", "-o", exePath, ".").CombinedOutput()
		if err != nil {
			exeErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if exeErr != nil {
		t.Fatal(exeErr)
	}
	return exePath
}

// replica is `driftback run` as a separate process.
type replica struct {
	cmd  *exec.Cmd
	url  string
	logs *syncBuffer
}

func startReplica(t testing.TB, args ...string) *replica {
	t.Helper()
	addr := freeAddr(t)
	r := &replica{url: "http://" + addr, logs: &syncBuffer{}}
	r.cmd = exec.Command(driftbackExe(t), append([]string{"--kubeconfig", kubeconfig, "run", "--metrics-addr", addr}, args...)...)
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.logs
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		if t.Failed() {
			t.Logf("replica %s logs:\n%s", addr, r.logs.String())
		}
	})
	return r
}

func (r *replica) metric(t testing.TB, series string) float64 {
	return (&runProc{url: r.url}).metric(t, series)
}

// commitsOn counts the commits of branch since main.
func commitsOn(t testing.TB, repoDir, branch string) int {
	t.Helper()
	out := gitserver.Run(t, repoDir, "git", "rev-list", "--count", "main.."+branch)
	var n int
	fmt.Sscan(strings.TrimSpace(out), &n)
	return n
}

// Two replicas on one apiserver and one Git server: one writes; kill -9 the
// leader, and the standby takes over within the lease duration with its
// warm cache: the change made while nobody led reaches Git, once.
func TestRunLeaderElectionFailover(t *testing.T) {
	const name = "ha-bucket"
	url, repoDir, cfg := followSetup(t, name)
	branch := "driftback/" + name
	patch := "clusters/" + name + "/driftback/patches/_cluster/s3.aws.upbound.io_Bucket/" + overlay.Bucket(name) + "/" + name + ".yaml"
	const lease, retry = 4 * time.Second, 500 * time.Millisecond
	args := []string{"--config", cfg, "--repo", url, "--debounce", "200ms", "--leader-elect",
		"--leader-election-namespace", "default", "--leader-election-lease-duration", lease.String(),
		"--leader-election-renew-deadline", "3s", "--leader-election-retry-period", retry.String()}
	reps := []*replica{startReplica(t, args...), startReplica(t, args...)}

	waitForFiles(t, repoDir, branch, "the first commit", func(f map[string]string) bool {
		return strings.Contains(f[patch], name+"-ext")
	})
	var leader, standby *replica
	eventually(t, waitTime, "one leader and one ready standby", func() (bool, string) {
		a, b := reps[0].metric(t, "driftback_leader"), reps[1].metric(t, "driftback_leader")
		switch {
		case a == 1 && b == 0:
			leader, standby = reps[0], reps[1]
		case a == 0 && b == 1:
			leader, standby = reps[1], reps[0]
		default:
			return false, fmt.Sprintf("leader gauges %v %v", a, b)
		}
		return httpStatus(t, standby.url+"/readyz") == 200 && strings.Contains(body(standby.url+"/readyz"), "standby"), "standby not ready"
	})
	if n := commitsOn(t, repoDir, branch); n != 1 {
		t.Fatalf("%d commits after the start of two replicas, want 1 (one writer)", n)
	}

	if err := leader.cmd.Process.Kill(); err != nil { // kill -9
		t.Fatal(err)
	}
	killed := time.Now()
	dyn := dynamic.NewForConfigOrDie(cp.Config)
	u, err := dyn.Resource(bucketGVR).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u.SetAnnotations(map[string]string{"crossplane.io/external-name": name + "-moved"})
	if _, err := dyn.Resource(bucketGVR).Update(context.Background(), u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The Lease expires lease after the last renewal; the standby tries
	// every retry period.
	eventually(t, lease+4*retry, "the standby leads within the lease duration", func() (bool, string) {
		v := standby.metric(t, "driftback_leader")
		return v == 1, fmt.Sprint(v)
	})
	t.Logf("failover after %v (lease %v)", time.Since(killed).Round(time.Millisecond), lease)
	waitForFiles(t, repoDir, branch, "the change made while nobody led is in Git", func(f map[string]string) bool {
		return strings.Contains(f[patch], name+"-moved")
	})
	eventually(t, waitTime, "the new leader is idle", func() (bool, string) {
		v := standby.metric(t, "driftback_publish_pending")
		return v == 0, fmt.Sprint(v)
	})
	if n := commitsOn(t, repoDir, branch); n != 2 {
		t.Errorf("%d commits, want 2: the first and the change (no duplicate from the takeover)", n)
	}
}

// body returns a GET's body, "" on error.
func body(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
