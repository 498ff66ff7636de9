// Package e2e proves a cluster can be rebuilt from Git alone: two real
// control planes, A (the cluster that is lost) and B (the one rebuilt), a
// real git http-backend, the driftback binary (snapshot from A, drill into
// B), small simulated operators and a fake cloud that counts what it creates.
package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"k8s.io/client-go/dynamic"

	"github.com/driftback/driftback/internal/e2eplane"
	"github.com/driftback/driftback/internal/testenv"
	"github.com/driftback/driftback/restore"
)

// plane is one running control plane and its clients.
type plane struct {
	name       string
	cp         *testenv.ControlPlane
	kubeconfig string
	dyn        dynamic.Interface
	cl         *restore.Cluster
}

var (
	// a is the cluster that is lost, b the scratch cluster rebuilt from Git.
	a, b *plane
	// driftback is the binary under test.
	driftback string
	// root is the repository root.
	root string
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	var err error
	if root, err = testenv.RepoRoot(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	work, err := os.MkdirTemp("", "driftback-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(work)

	// The two planes and the binary build in parallel: each plane takes a
	// few seconds to start, mostly waiting.
	var wg sync.WaitGroup
	errs := make([]error, 3)
	wg.Add(3)
	go func() { defer wg.Done(); a, errs[0] = startPlane("A", filepath.Join(work, "a")) }()
	go func() { defer wg.Done(); b, errs[1] = startPlane("B", filepath.Join(work, "b")) }()
	go func() { defer wg.Done(); driftback, errs[2] = buildDriftback(work) }()
	wg.Wait()
	defer func() {
		for _, p := range []*plane{a, b} {
			if p != nil {
				_ = p.cp.Stop()
			}
		}
	}()
	for _, err := range errs {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	// Both run the real PV binder and StatefulSet controller (A is where
	// the binder writes its bookkeeping that a restore must not carry); B
	// also runs the garbage collector.
	stopA, err := startControllerManager(context.Background(), a, filepath.Join(work, "kcm-a"),
		"persistentvolume-binder-controller", "statefulset-controller")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stopA()
	stop, err := startControllerManager(context.Background(), b, filepath.Join(work, "kcm"),
		"persistentvolume-binder-controller", "garbage-collector-controller", "statefulset-controller")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	return m.Run()
}

func startPlane(name, dir string) (*plane, error) {
	p, err := e2eplane.Start(dir, filepath.Join(root, "testdata", "crds"), filepath.Join(root, "e2e", "testdata", "crds"))
	if err != nil {
		err = fmt.Errorf("plane %s: %w", name, err)
	}
	if p == nil {
		return nil, err
	}
	return &plane{name: name, cp: p.CP, kubeconfig: p.Kubeconfig, dyn: p.Dyn, cl: p.Cluster}, err
}

// buildDriftback compiles the command under test, as a user runs it.
func buildDriftback(work string) (string, error) { return e2eplane.BuildDriftback(root, work) }
