// Package flux proves that the overlay driftback commits rebuilds a cluster
// when Flux applies it: the cluster is rebuilt with the libraries inside
// Flux's kustomize-controller (github.com/fluxcd/pkg/kustomize to generate
// and build, github.com/fluxcd/pkg/ssa to apply in stages and wait with
// kstatus), then `driftback restore` writes the status back, as the runbook
// in docs/restore.md says. It is a module of its own: those libraries' module
// graph must not reach the product's go.mod.
package flux

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/client-go/dynamic"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/driftback/driftback/internal/e2eplane"
	"github.com/driftback/driftback/internal/testenv"
	"github.com/driftback/driftback/restore"
)

// plane is one running control plane.
type plane struct {
	cp         *testenv.ControlPlane
	kubeconfig string
	dyn        dynamic.Interface
	cl         *restore.Cluster
}

var (
	// a is the cluster that is lost; b is rebuilt by Flux.
	a, b      *plane
	driftback string
	root      string
)

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

func runTests(m *testing.M) int {
	// fluxcd/pkg/ssa's client logs through controller-runtime.
	ctrllog.SetLogger(logr.Discard())
	var err error
	if root, err = testenv.RepoRoot(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	work, err := os.MkdirTemp("", "driftback-flux-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(work)
	planes := []**plane{&a, &b}
	errs := make([]error, len(planes)+1)
	var wg sync.WaitGroup
	for i, p := range planes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			*p, errs[i] = startPlane(filepath.Join(work, fmt.Sprint(i)))
		}()
	}
	wg.Add(1)
	go func() { defer wg.Done(); driftback, errs[len(planes)] = buildDriftback(work) }()
	wg.Wait()
	defer func() {
		for _, p := range planes {
			if *p != nil {
				_ = (*p).cp.Stop()
			}
		}
	}()
	for _, err := range errs {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return m.Run()
}

func startPlane(dir string) (*plane, error) {
	here, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	p, err := e2eplane.Start(dir, filepath.Join(root, "testdata", "crds"), filepath.Join(here, "testdata", "crds"))
	if p == nil {
		return nil, err
	}
	return &plane{cp: p.CP, kubeconfig: p.Kubeconfig, dyn: p.Dyn, cl: p.Cluster}, err
}

// buildDriftback compiles the command under test, as a user runs it.
func buildDriftback(work string) (string, error) { return e2eplane.BuildDriftback(root, work) }

// run runs a command and returns its stdout; it fails the test when the
// command fails.
func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	out, err := tryRun(dir, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func tryRun(dir string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}
