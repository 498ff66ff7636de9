// Package argocd proves that the overlay driftback commits rebuilds a cluster
// the same way when Argo CD's own sync engine applies it as when
// `driftback drill` does. It is a module of its own: Argo CD's gitops-engine
// pins Kubernetes through k8s.io/kubernetes and needs replace lines and Go
// 1.27, none of which may enter the product's go.mod.
package argocd

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"k8s.io/client-go/dynamic"

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
	// a is the cluster that is lost; argo is rebuilt by Argo CD's engine,
	// drill by `driftback drill`.
	a, argo, drill *plane
	driftback      string
	root           string
)

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

func runTests(m *testing.M) int {
	var err error
	if root, err = testenv.RepoRoot(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	work, err := os.MkdirTemp("", "driftback-argocd-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(work)
	planes := []**plane{&a, &argo, &drill}
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
	p, err := e2eplane.Start(dir, filepath.Join(root, "testdata", "crds"))
	if p == nil {
		return nil, err
	}
	return &plane{cp: p.CP, kubeconfig: p.Kubeconfig, dyn: p.Dyn, cl: p.Cluster}, err
}

// buildDriftback compiles the command under test, as a user runs it.
func buildDriftback(work string) (string, error) { return e2eplane.BuildDriftback(root, work) }

func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}
