package presettest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/driftback/driftback/internal/testenv"
)

// cp is the one control plane of this package; starting it costs seconds,
// so every preset shares it (each fixture uses its own namespace and names).
var cp *testenv.ControlPlane

// root is the repository root, where testdata/ lives.
var root string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	if root, err = testenv.RepoRoot(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if cp, err = testenv.Start(filepath.Join(root, "testdata", "crds")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cp.Stop()
	return m.Run()
}
