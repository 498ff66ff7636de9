package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/dynamic"

	"github.com/driftback/driftback/internal/gitserver"
	"github.com/driftback/driftback/internal/image"
	"github.com/driftback/driftback/internal/testenv"
	"github.com/driftback/driftback/overlay"
)

// What the benchmarks of this package share: a control plane with the
// test CRDs, binaries built from the repository, and `driftback run` as a
// subprocess writing to a real Git server.

type plane struct {
	cp         *testenv.ControlPlane
	root, tmp  string
	kubeconfig string
}

// startPlane starts a control plane that stops when the benchmark ends.
func startPlane(b *testing.B) *plane {
	root, err := testenv.RepoRoot()
	if err != nil {
		b.Fatal(err)
	}
	cp, err := testenv.Start(filepath.Join(root, "testdata", "crds"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cp.Stop() })
	tmp := b.TempDir()
	kubeconfig, err := cp.WriteKubeconfig(tmp)
	if err != nil {
		b.Fatal(err)
	}
	return &plane{cp: cp, root: root, tmp: tmp, kubeconfig: kubeconfig}
}

// build builds the package pkg of the repository into a binary called
// name the way the image's binary is built (image.BuildTo: static,
// stripped), so every side measures what ships and all are built alike.
func (p *plane) build(b *testing.B, name, pkg string) string {
	out := filepath.Join(p.tmp, name)
	if err := image.BuildTo(context.Background(), p.root, pkg, runtime.GOARCH, "bench", out); err != nil {
		b.Fatal(err)
	}
	return out
}

// unlimitedClient is a dynamic client with no client-side rate limit, for
// filling and mutating the apiserver as fast as it goes.
func (p *plane) unlimitedClient() dynamic.Interface {
	cfg := *p.cp.Config
	cfg.QPS = -1
	return dynamic.NewForConfigOrDie(&cfg)
}

// benchBranch is where `driftback run` writes (cluster "bench"), and
// benchStatusDir the directory of the buckets' status files in it.
const (
	benchBranch    = "driftback/bench"
	benchStatusDir = "clusters/bench/driftback/status/_cluster/s3.aws.upbound.io_Bucket"
)

// benchStatusFile is where object obj's status file sits in benchStatusDir
// (its bucket directory, overlay.FileName).
func benchStatusFile(obj int) string {
	name := fmt.Sprintf("bench-%06d", obj)
	return overlay.Bucket(name) + "/" + name + ".yaml"
}

// Rule fields for the Buckets: metadata only, and with status.
const (
	metadataFields = `
  - metadata.annotations["crossplane.io/external-name"]`
	statusFields = `
  - metadata.annotations["crossplane.io/external-name"]
  - status.atProvider.arn`
)

// runningDriftback is `driftback run` started by startDriftback.
type runningDriftback struct {
	cmd     *exec.Cmd
	logs    *syncBuffer
	repoDir string
	start   time.Time
	exited  chan error
}

// startDriftback starts `driftback run --debounce 1s` over the Buckets
// with the rule fields given, writing to a fresh repository of a real Git
// server (git http-backend, a child of this process); env is added to its
// environment.
func startDriftback(b testing.TB, driftback, kubeconfig, fields string, env ...string) *runningDriftback {
	srv := gitserver.New(b, gitserver.Options{})
	url, repoDir := srv.CreateRepo(b, fmt.Sprintf("bench-%d", time.Now().UnixNano()))
	cfgPath := filepath.Join(b.TempDir(), "driftback.yaml")
	cfg := `apiVersion: driftback.dev/v1alpha1
kind: Config
cluster: bench
rules:
- name: external-name
  match: {apiGroups: [s3.aws.upbound.io], kinds: [Bucket]}
  fields: ` + fields + "\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		b.Fatal(err)
	}
	d := &runningDriftback{logs: &syncBuffer{}, repoDir: repoDir, exited: make(chan error, 1)}
	args := []string{"run", "--kubeconfig", kubeconfig, "--config", cfgPath, "--repo", url,
		"--metrics-addr", "127.0.0.1:0", "--debounce", "1s",
		// The first commit must hold every object: on loaded shared cores a
		// large list can outlast the default minute.
		"--sync-timeout", "20m"}
	if profileDir() != "" {
		args = append(args, "--pprof-addr", "127.0.0.1:0")
	}
	d.cmd = exec.Command(driftback, args...)
	d.cmd.Env = append(os.Environ(), env...)
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	d.start = time.Now()
	if err := d.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() { d.exited <- d.cmd.Wait() }()
	// A benchmark that failed before stop would leave it running; after
	// stop, Kill only reports that it finished.
	b.Cleanup(func() { _ = d.cmd.Process.Kill() })
	return d
}

// waitFirstCommit polls the repository until the branch exists and returns
// the time since start; driftback exiting first, or 20 minutes passing,
// fails the benchmark.
func (d *runningDriftback) waitFirstCommit(b testing.TB) time.Duration {
	deadline := time.After(20 * time.Minute)
	for {
		select {
		case err := <-d.exited:
			b.Fatalf("driftback run exited before its first commit: %v\n%s", err, d.logs.String())
		case <-deadline:
			_ = d.cmd.Process.Kill()
			<-d.exited
			b.Fatalf("no commit from driftback run within 20 minutes:\n%s", d.logs.String())
		case <-time.After(20 * time.Millisecond): // polling interval
		}
		if exec.Command("git", "-C", d.repoDir, "rev-parse", "-q", "--verify", "refs/heads/"+benchBranch).Run() == nil {
			return time.Since(d.start)
		}
	}
}

// stop sends SIGTERM and waits for driftback to exit; an error exit fails
// the benchmark.
func (d *runningDriftback) stop(b testing.TB) {
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		b.Fatal(err)
	}
	if err := <-d.exited; err != nil {
		b.Fatalf("driftback run: %v\n%s", err, d.logs.String())
	}
}

// syncBuffer is a bytes.Buffer the subprocess's output and the benchmark
// may use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
