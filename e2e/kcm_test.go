package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/driftback/driftback/internal/testenv"
)

// startControllerManager runs the real kube-controller-manager (built by
// hack/build-controlplane.sh next to kube-apiserver) against p with only the
// controllers named (kube-controller-manager --controllers): the claims are
// bound by the real PV binder, a StatefulSet's claims are created by the real
// StatefulSet controller, and objects restored with a stale owner would
// really be collected.
func startControllerManager(ctx context.Context, p *plane, dir string, controllers ...string) (stop func(), err error) {
	assets, err := testenv.Assets()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, filepath.Join(assets, "kube-controller-manager"),
		"--kubeconfig="+p.kubeconfig,
		"--authentication-kubeconfig="+p.kubeconfig,
		"--authorization-kubeconfig="+p.kubeconfig,
		"--controllers="+strings.Join(controllers, ","),
		"--use-service-account-credentials=false",
		"--leader-elect=false",
		"--bind-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(port),
		"--cert-dir="+dir,
		// Resync and GC discovery sooner than the production defaults.
		"--pvclaimbinder-sync-period=1s",
		"-v=1",
	)
	logf, err := os.Create(filepath.Join(dir, "kcm.log"))
	if err != nil {
		cancel()
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("start kube-controller-manager: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop = func() {
		cancel()
		<-exited
		_ = logf.Close()
	}
	if err := waitHealthy(p, exited, port, filepath.Join(dir, "kcm.log")); err != nil {
		stop()
		return nil, err
	}
	return stop, nil
}

// waitHealthy polls until the controller manager has started (its healthz
// answers) or it exits.
func waitHealthy(p *plane, exited <-chan struct{}, port int, logPath string) error {
	deadline := time.Now().Add(time.Minute)
	cs := kubernetes.NewForConfigOrDie(p.cp.Config)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			b, _ := os.ReadFile(logPath)
			return fmt.Errorf("kube-controller-manager exited:\n%s", tail(string(b), 3000))
		default:
		}
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			// Serving; the controllers start right after. The API must be
			// reachable for them, which it is when this list works.
			if _, err := cs.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{Limit: 1}); err == nil {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond) // poll interval, bounded by the deadline
	}
	b, _ := os.ReadFile(logPath)
	return fmt.Errorf("kube-controller-manager did not start within a minute:\n%s", tail(string(b), 3000))
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
