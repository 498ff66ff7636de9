package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/driftback/driftback/internal/testenv"
)

// cp is the real control plane shared by this package's integration tests;
// CRDs are installed once because the first custom object created within 2 s
// of its CRD becoming established waits 2 s in the apiserver.
var cp *testenv.ControlPlane

// kubeconfig is a file holding cp's admin kubeconfig.
var kubeconfig string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	root, err := testenv.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cp, err = testenv.Start(filepath.Join(root, "testdata", "crds"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cp.Stop()
	dir, err := os.MkdirTemp("", "driftback-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if kubeconfig, err = cp.WriteKubeconfig(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// runCLI runs driftback in process with args and returns its stdout.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newRootCmd()
	cmd.SetArgs(append([]string{"--kubeconfig", kubeconfig}, args...))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err := cmd.ExecuteContext(context.Background())
	if testing.Verbose() {
		t.Logf("driftback %v\nstdout: %s\nstderr: %s", args, out.String(), errOut.String())
	}
	return out.String(), err
}
