// Package testenv starts a real kube-apiserver and etcd for tests and the
// demo, with controller-runtime's envtest. The binaries are compiled from the
// Go module proxy by hack/build-controlplane.sh and cached under .cache/.
package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// ControlPlane is a running etcd + kube-apiserver.
type ControlPlane struct {
	env *envtest.Environment
	// Config connects as cluster admin.
	Config *rest.Config
	// Kubeconfig is the content of a kubeconfig for Config.
	Kubeconfig []byte
}

// RepoRoot finds the driftback checkout from the working directory up.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module github.com/driftback/driftback\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("driftback's go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Assets returns the folder holding kube-apiserver and etcd: $KUBEBUILDER_ASSETS
// when set, else the cache that hack/build-controlplane.sh fills (building it
// the first time, with progress on stderr).
func Assets() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("bash", filepath.Join(root, "hack", "build-controlplane.sh"))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("build the control plane (hack/build-controlplane.sh): %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Start starts a control plane and installs the CRDs found in crdDirs
// (waiting until they are established).
func Start(crdDirs ...string) (*ControlPlane, error) {
	assets, err := Assets()
	if err != nil {
		return nil, err
	}
	if pids, err := ReapOrphans(); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: reaping orphaned control planes: %v\n", err)
	} else if len(pids) > 0 {
		fmt.Fprintf(os.Stderr, "testenv: stopped %d etcd/kube-apiserver process(es) a killed run left behind: %v\n", len(pids), pids)
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		CRDDirectoryPaths:        crdDirs,
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: 2 * time.Minute,
	}
	api := env.ControlPlane.GetAPIServer()
	// A test machine may have no default route: tell the apiserver its
	// address and keep it from reconciling endpoints it cannot know.
	api.Configure().Set("advertise-address", "127.0.0.1")
	api.Configure().Set("endpoint-reconciler-type", "none")
	env.ControlPlane.Etcd = &envtest.Etcd{}
	env.ControlPlane.Etcd.Configure().Set("unsafe-no-fsync", "true")
	cfg, err := env.Start()
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("start control plane: %w", err)
	}
	// Mark the folders as this process's, so a later Start reaps them only
	// once this process is gone.
	if err := markOwner(env.ControlPlane.Etcd.DataDir, api.CertDir); err != nil {
		_ = env.Stop()
		return nil, err
	}
	kc, err := kubeconfigFor(env, cfg)
	if err != nil {
		_ = env.Stop()
		return nil, err
	}
	return &ControlPlane{env: env, Config: cfg, Kubeconfig: kc}, nil
}

func kubeconfigFor(env *envtest.Environment, cfg *rest.Config) ([]byte, error) {
	user, err := env.ControlPlane.AddUser(envtest.User{Name: "driftback-admin", Groups: []string{"system:masters"}}, cfg)
	if err != nil {
		return nil, fmt.Errorf("add admin user: %w", err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return nil, fmt.Errorf("write kubeconfig: %w", err)
	}
	return kc, nil
}

// WriteKubeconfig writes the admin kubeconfig to a file and returns its path.
func (c *ControlPlane) WriteKubeconfig(dir string) (string, error) {
	p := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(p, c.Kubeconfig, 0o600); err != nil {
		return "", fmt.Errorf("write kubeconfig: %w", err)
	}
	return p, nil
}

// Stop stops the apiserver and etcd and removes their data.
func (c *ControlPlane) Stop() error {
	return c.env.Stop()
}
