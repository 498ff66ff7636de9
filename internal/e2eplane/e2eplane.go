// Package e2eplane is what the rebuild tests share (e2e, and the e2e/argocd
// and e2e/flux modules): a control plane with the clients a test reads it
// with, and the driftback binary built as its users build it.
package e2eplane

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"k8s.io/client-go/dynamic"

	"github.com/driftback/driftback/internal/testenv"
	"github.com/driftback/driftback/restore"
)

// Plane is one running control plane.
type Plane struct {
	CP *testenv.ControlPlane
	// Kubeconfig is a file in the directory given to Start, for the
	// driftback binary.
	Kubeconfig string
	Dyn        dynamic.Interface
	Cluster    *restore.Cluster
}

// Start runs a control plane with the CRDs of crdDirs installed and writes
// its kubeconfig into dir. On an error after the plane started, the plane
// is returned too, for the caller to stop.
func Start(dir string, crdDirs ...string) (*Plane, error) {
	cp, err := testenv.Start(crdDirs...)
	if err != nil {
		return nil, err
	}
	p := &Plane{CP: cp, Dyn: dynamic.NewForConfigOrDie(cp.Config)}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return p, err
	}
	if p.Kubeconfig, err = cp.WriteKubeconfig(dir); err != nil {
		return p, err
	}
	p.Cluster, err = restore.NewCluster(cp.Config)
	return p, err
}

// BuildDriftback compiles ./cmd/driftback of the repository at root into
// work, from the product's own module: the binary under test is the one
// users run, not one linked against a test module's pins.
func BuildDriftback(root, work string) (string, error) {
	out := filepath.Join(work, "driftback")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/driftback")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/driftback: %w\n%s", err, b)
	}
	return out, nil
}
