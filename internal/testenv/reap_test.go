package testenv

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestReapOrphans leaves a real etcd behind the way a killed test run does
// (its owner exits, it is reparented) and checks that ReapOrphans stops it
// and removes its folder, while an etcd whose owner is alive, and one with
// no owner record whose parent is alive, are left running.
func TestReapOrphans(t *testing.T) {
	assets, err := Assets()
	if err != nil {
		t.Fatal(err)
	}
	etcd := filepath.Join(assets, "etcd")

	// The orphan: started by a shell that then exits, as a test binary
	// killed by its timeout does.
	orphanDir := frameworkTemp(t)
	shArgs := append([]string{"-c", `"$0" "$@" >/dev/null 2>&1 & echo $!; read _`, etcd}, etcdArgs(t, orphanDir)...)
	sh := exec.Command("sh", shArgs...)
	stdin, err := sh.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := sh.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	orphan, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("orphan pid %q: %v", line, err)
	}
	t.Cleanup(func() { _ = stop(orphan) })
	// The shell prints the pid when it forks; under load the child may not
	// have exec'd etcd yet.
	for deadline := time.Now().Add(30 * time.Second); ; {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", orphan))
		if filepath.Base(strings.SplitN(string(b), "\x00", 2)[0]) == "etcd" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d never became etcd: %q", orphan, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, shStart, err := stat(sh.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	writeOwner(t, orphanDir, procID{sh.Process.Pid, shStart})
	stdin.Close()
	_ = sh.Wait() // the owner is gone; etcd lives on, reparented
	if ppid, _, err := stat(orphan); err != nil || ppid == sh.Process.Pid {
		t.Fatalf("etcd (pid %d) is not an orphan: ppid %d, %v", orphan, ppid, err)
	}

	// Two control planes of a live test: one with this process as its
	// recorded owner, one started before owners were recorded.
	owned := startEtcd(t, etcd, true)
	unrecorded := startEtcd(t, etcd, false)

	pids, err := ReapOrphans()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(pids, orphan) {
		t.Errorf("ReapOrphans = %v, want the orphan %d among them", pids, orphan)
	}
	for _, p := range []int{owned, unrecorded} {
		if slices.Contains(pids, p) {
			t.Errorf("ReapOrphans stopped %d, whose owner is alive", p)
		}
		if _, _, err := stat(p); err != nil || zombie(p) {
			t.Errorf("etcd %d of a live owner is gone: %v", p, err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, _, err := stat(orphan)
		if err != nil || zombie(orphan) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the orphan %d still runs", orphan)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := os.Stat(orphanDir); !os.IsNotExist(err) {
		t.Errorf("the orphan's folder %s is still there: %v", orphanDir, err)
	}
}

func frameworkTemp(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", frameworkPrefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func writeOwner(t *testing.T, dir string, o procID) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, ownerFile), fmt.Appendf(nil, "%d %d\n", o.pid, o.start), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startEtcd starts etcd as this test's child, its folder marked as this
// process's when marked.
func startEtcd(t *testing.T, etcd string, marked bool) int {
	t.Helper()
	dir := frameworkTemp(t)
	if marked {
		if err := markOwner(dir); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(etcd, etcdArgs(t, dir)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd.Process.Pid
}

func etcdArgs(t *testing.T, dir string) []string {
	client, peer := freePort(t), freePort(t)
	return []string{
		"--data-dir=" + dir, "--name=reap-test",
		"--listen-client-urls=" + client, "--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=reap-test=" + peer,
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "http://" + l.Addr().String()
}
