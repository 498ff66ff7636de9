package testenv

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A test run killed by its timeout (or by hand) leaves its etcd and
// kube-apiserver running, reparented to init or a subreaper, with their
// k8s_test_framework_* folders in the temp dir. Start reaps them, so one
// killed run does not slow down or break the next. On a shared machine it
// must never touch a control plane whose test is still running: a process
// is reaped only when the process that started it is gone.

// ownerFile is written into the folder of each process Start starts: the pid
// and start time of the process that owns it (the test binary or the demo).
const ownerFile = "driftback-owner"

// frameworkPrefix is envtest's temp-folder prefix (controller-runtime
// pkg/internal/testing/process: os.MkdirTemp("", "k8s_test_framework_")).
const frameworkPrefix = "k8s_test_framework_"

// reaped are the control-plane binaries left behind by a killed run.
var reaped = map[string]bool{"etcd": true, "kube-apiserver": true}

// procID names a process across pid reuse: its pid and start time.
type procID struct {
	pid   int
	start uint64
}

// stat reads the parent pid and start time of pid from /proc/<pid>/stat.
func stat(pid int) (ppid int, start uint64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// The command name is in parentheses and may hold spaces or ')': the
	// fields that follow start after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state): ppid is field 4, starttime field 22 (proc(5)).
	if len(f) < 20 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	if ppid, err = strconv.Atoi(f[1]); err != nil {
		return 0, 0, fmt.Errorf("/proc/%d/stat: ppid: %w", pid, err)
	}
	if start, err = strconv.ParseUint(f[19], 10, 64); err != nil {
		return 0, 0, fmt.Errorf("/proc/%d/stat: starttime: %w", pid, err)
	}
	return ppid, start, nil
}

func self() (procID, error) {
	_, start, err := stat(os.Getpid())
	return procID{os.Getpid(), start}, err
}

func (p procID) alive() bool {
	_, start, err := stat(p.pid)
	return err == nil && start == p.start
}

// markOwner records the calling process as the owner of dirs.
func markOwner(dirs ...string) error {
	me, err := self()
	if err != nil {
		return err
	}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if err := os.WriteFile(filepath.Join(d, ownerFile), fmt.Appendf(nil, "%d %d\n", me.pid, me.start), 0o600); err != nil {
			return fmt.Errorf("mark the control plane's owner: %w", err)
		}
	}
	return nil
}

func readOwner(dir string) (procID, bool) {
	b, err := os.ReadFile(filepath.Join(dir, ownerFile))
	if err != nil {
		return procID{}, false
	}
	var o procID
	if _, err := fmt.Sscanf(string(b), "%d %d", &o.pid, &o.start); err != nil {
		return procID{}, false
	}
	return o, true
}

// frameworkDir returns the envtest folder a process's arguments name, if any.
func frameworkDir(args []string) string {
	tmp := filepath.Clean(os.TempDir()) + string(filepath.Separator) + frameworkPrefix
	for _, a := range args {
		_, v, ok := strings.Cut(a, "=")
		if !ok {
			v = a
		}
		if !strings.HasPrefix(v, tmp) {
			continue
		}
		// The folder itself, not a file in it.
		rest := strings.TrimPrefix(v, tmp)
		if i := strings.IndexByte(rest, filepath.Separator); i >= 0 {
			rest = rest[:i]
		}
		return tmp + rest
	}
	return ""
}

// orphaned reports whether the envtest process pid, whose folder is dir,
// was left behind: its recorded owner is gone, or (started before owners
// were recorded) it was reparented to init.
func orphaned(pid int, dir string) bool {
	if o, ok := readOwner(dir); ok {
		return !o.alive()
	}
	ppid, _, err := stat(pid)
	return err == nil && ppid == 1
}

// ReapOrphans stops the etcd and kube-apiserver processes of envtest whose
// owner is gone, and removes their folders. It returns the pids it stopped.
// Only processes of this user can be signalled; others are left alone.
func ReapOrphans() ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // not Linux: nothing to look at
	}
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || len(b) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if !reaped[filepath.Base(args[0])] {
			continue
		}
		dir := frameworkDir(args[1:])
		if dir == "" || !orphaned(pid, dir) {
			continue
		}
		if err := stop(pid); errors.Is(err, syscall.EPERM) {
			continue // another user's: not ours to stop
		} else if err != nil {
			return out, fmt.Errorf("stop orphaned %s (pid %d): %w", filepath.Base(args[0]), pid, err)
		}
		_ = os.RemoveAll(dir)
		out = append(out, pid)
	}
	return out, nil
}

// stop sends SIGTERM, then SIGKILL if the process is still there after 10s.
func stop(pid int) error {
	_, start, err := stat(pid)
	if err != nil {
		return nil // gone already
	}
	p := procID{pid, start}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return nil
		}
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if !p.alive() || zombie(pid) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// zombie reports whether pid has exited and waits for its parent to reap it.
func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && strings.HasPrefix(strings.TrimSpace(s[i+1:]), "Z")
}
